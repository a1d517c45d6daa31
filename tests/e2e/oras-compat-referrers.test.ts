/**
 * `--distribution-spec v1.1-referrers-api|v1.1-referrers-tag` (ORAS's flag, on attach, backup,
 * restore, discover, manifest push/delete, and cp's --from-/--to-distribution-spec), with the
 * compiled binary against real registries: Debian's docker-registry (no referrers API) and, when
 * present, oras-distribution (with the API). The API choice never falls back to the tag schema;
 * the tag choice keeps the sha256-<hex> index even on a registry that indexes referrers itself.
 * Also the artifact manifest of image-spec 1.1.0-rc2 (`blobs`, no schemaVersion), which ORAS 1.0
 * wrote and registries with the referrers API still serve: read, pulled and copied.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { LayoutBuilder, MT, TITLE } from "../fixtures/layout-builder.ts";
import {
  REFERRERS_REGISTRY,
  type RunningRegistry,
  referrersRegistryMissing,
  startRegistry,
} from "../harness/registry.ts";
import { runSkiff, tmpDir } from "../harness/skiff.ts";

const missing = referrersRegistryMissing();
if (missing) console.log(`skipping the referrers-API registry tests: ${missing}`);

let plain: RunningRegistry;
let withApi: RunningRegistry | undefined;
let work: string;

async function skiff(args: string[]) {
  const result = await runSkiff(args, { cwd: work, timeoutMs: 60_000 });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

async function ok(args: string[]): Promise<string> {
  const result = await skiff(args);
  if (result.code !== 0)
    throw new Error(`skiff ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

async function tags(registry: RunningRegistry, repo: string): Promise<string[]> {
  const response = await registry.fetch(`/v2/${repo}/tags/list`);
  expect(response.status).toBe(200);
  return (((await response.json()) as { tags: string[] | null }).tags ?? []).sort();
}

/** Pushes a subject to `repo:v1` and returns its fallback tag (`sha256-<hex>`). */
async function subject(registry: RunningRegistry, repo: string): Promise<string> {
  const json = JSON.parse(
    await ok(["push", "--format", "json", `${registry.localhost}/${repo}:v1`, "a.txt"]),
  );
  return `sha256-${(json.digest as string).slice(7)}`;
}

const attach = (registry: RunningRegistry, repo: string, extra: string[] = []) =>
  ok([
    "attach",
    "--artifact-type",
    "application/vnd.example.sig",
    ...extra,
    `${registry.localhost}/${repo}:v1`,
    "sig.txt",
  ]);

beforeAll(async () => {
  work = tmpDir("skiff-distribution-spec-");
  writeFileSync(join(work, "a.txt"), "subject\n");
  writeFileSync(join(work, "sig.txt"), "signature\n");
  plain = await startRegistry("plain");
  if (!missing) withApi = await startRegistry("plain", { server: REFERRERS_REGISTRY });
}, 60_000);

afterAll(async () => {
  await plain?.stop();
  await withApi?.stop();
});

describe("--distribution-spec values", () => {
  const commands: [string, string[]][] = [
    ["attach", ["attach", "--artifact-type", "a/b", "--distribution-spec", "v9", "localhost:1/r:t", "f"]],
    ["backup", ["backup", "-o", "out", "--distribution-spec", "v9", "localhost:1/r:t"]],
    ["restore", ["restore", "--input", "in", "--distribution-spec", "v9", "localhost:1/r:t"]],
    ["discover", ["discover", "--distribution-spec", "v9", "localhost:1/r:t"]],
    ["cp", ["cp", "--from-distribution-spec", "v9", "localhost:1/r:t", "localhost:1/s:t"]],
    ["cp", ["cp", "--to-distribution-spec", "v9", "localhost:1/r:t", "localhost:1/s:t"]],
    ["manifest push", ["manifest", "push", "--distribution-spec", "v9", "localhost:1/r:t", "m.json"]],
    ["manifest delete", ["manifest", "delete", "--distribution-spec", "v9", "localhost:1/r:t"]],
  ];
  for (const [name, args] of commands) {
    test(`${args.join(" ")}: ORAS's phrase and the options, usage error of ${name}`, async () => {
      const result = await skiff(args);
      expect(result.code).toBe(1); // a usage error, as in ORAS: the usage line below tells it apart
      const lines = result.stderr.split("\n");
      expect(lines[0]).toContain("unknown distribution specification flag: v9");
      expect(lines[1]).toBe("Available options: v1.1-referrers-tag, v1.1-referrers-api");
      expect(result.stderr).toContain(`Usage: skiff ${name === "cp" ? "cp|copy" : name}`);
    });
  }
});

describe("registry without the referrers API", () => {
  test("v1.1-referrers-api: discover fails instead of reading the fallback tag", async () => {
    await subject(plain, "api-only");
    await attach(plain, "api-only");
    const tree = await ok(["discover", `${plain.localhost}/api-only:v1`]);
    expect(tree).toContain("application/vnd.example.sig");
    const result = await skiff([
      "discover",
      "--distribution-spec",
      "v1.1-referrers-api",
      `${plain.localhost}/api-only:v1`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toContain("failed to query referrers API: unsupported");
  });

  test("v1.1-referrers-api: attach leaves the fallback tag alone; the default keeps it", async () => {
    const fallback = await subject(plain, "api-attach");
    await attach(plain, "api-attach", ["--distribution-spec", "v1.1-referrers-api"]);
    expect(await tags(plain, "api-attach")).toEqual(["v1"]);
    await attach(plain, "api-attach");
    expect(await tags(plain, "api-attach")).toEqual([fallback, "v1"]);
  });

  test("v1.1-referrers-tag: attach and discover through the tag schema", async () => {
    const fallback = await subject(plain, "tag-attach");
    await attach(plain, "tag-attach", ["--distribution-spec", "v1.1-referrers-tag"]);
    expect(await tags(plain, "tag-attach")).toEqual([fallback, "v1"]);
    const tree = await ok([
      "discover",
      "--distribution-spec",
      "v1.1-referrers-tag",
      `${plain.localhost}/tag-attach:v1`,
    ]);
    expect(tree).toContain("application/vnd.example.sig");
  });
});

describe("registry with the referrers API", () => {
  test.skipIf(missing !== undefined)("by default attach leaves indexing to the registry", async () => {
    const registry = withApi!;
    await subject(registry, "default");
    await attach(registry, "default");
    expect(await tags(registry, "default")).toEqual(["v1"]);
    expect(await ok(["discover", `${registry.localhost}/default:v1`])).toContain("sha256:");
  });

  test.skipIf(missing !== undefined)(
    "v1.1-referrers-tag: attach writes the fallback tag anyway",
    async () => {
      const registry = withApi!;
      const fallback = await subject(registry, "tag");
      await attach(registry, "tag", ["--distribution-spec", "v1.1-referrers-tag"]);
      expect(await tags(registry, "tag")).toEqual([fallback, "v1"]);
      const tree = await ok([
        "discover",
        "--distribution-spec",
        "v1.1-referrers-tag",
        `${registry.localhost}/tag:v1`,
      ]);
      expect(tree).toContain("application/vnd.example.sig");
    },
  );

  test.skipIf(missing !== undefined)("backup with the API, restore and cp with the tag schema", async () => {
    const registry = withApi!;
    const fallback = await subject(registry, "source");
    await attach(registry, "source");
    await ok([
      "backup",
      "-o",
      "bk",
      "--distribution-spec",
      "v1.1-referrers-api",
      `${registry.localhost}/source:v1`,
    ]);
    await ok([
      "restore",
      "--input",
      "bk",
      "--distribution-spec",
      "v1.1-referrers-tag",
      `${registry.localhost}/restored:v1`,
    ]);
    expect(await tags(registry, "restored")).toEqual([fallback, "v1"]);
    await ok(["restore", "--input", "bk", `${registry.localhost}/restored-default:v1`]);
    expect(await tags(registry, "restored-default")).toEqual(["v1"]);
    await ok([
      "cp",
      "-r",
      "--from-distribution-spec",
      "v1.1-referrers-api",
      "--to-distribution-spec",
      "v1.1-referrers-tag",
      `${registry.localhost}/source:v1`,
      `${registry.localhost}/copied:v1`,
    ]);
    expect(await tags(registry, "copied")).toEqual([fallback, "v1"]);
  });
});

describe("image-spec 1.1.0-rc2 artifact manifests", () => {
  const ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json";
  let layout: LayoutBuilder;
  let subjectDesc: Descriptor;
  let signature: Descriptor;

  beforeAll(() => {
    layout = new LayoutBuilder();
    subjectDesc = layout.manifest({ layers: [layout.file("app.txt", "app\n")] });
    const blob = layout.file("sig.txt", "signed\n");
    // ORAS 1.0's shape: no schemaVersion, blobs, and an artifact type that is no RFC 6838 type.
    signature = layout.json(
      {
        mediaType: ARTIFACT,
        artifactType: "test.signature.file",
        blobs: [blob],
        subject: { mediaType: MT.manifest, digest: subjectDesc.digest, size: subjectDesc.size },
        annotations: { "org.opencontainers.artifact.created": "2023-01-16T05:50:17Z" },
      },
      ARTIFACT,
      { artifactType: "test.signature.file" },
    );
    layout.writeIndex([{ ...subjectDesc, tag: "v1" }, signature]);
  });

  test("from a layout: pull by digest, with its subject, and discover", async () => {
    const out = join(work, "rc2-pulled");
    await ok(["pull", "--include-subject", "--oci-layout", `${layout.dir}@${signature.digest}`, "-o", out]);
    expect(readFileSync(join(out, "sig.txt"), "utf8")).toBe("signed\n");
    expect(readFileSync(join(out, "app.txt"), "utf8")).toBe("app\n");
    const tree = await ok(["discover", "--oci-layout", `${layout.dir}:v1`]);
    expect(tree).toContain(signature.digest);
    expect(tree).toContain("test.signature.file");
  });

  test.skipIf(missing !== undefined)(
    "to and within a registry with the referrers API: cp -r by digest",
    async () => {
      const registry = withApi!;
      await ok(["cp", "-r", "--from-oci-layout", `${layout.dir}:v1`, `${registry.localhost}/rc2:v1`]);
      const response = await registry.fetch(`/v2/rc2/manifests/${signature.digest}`, {
        headers: { Accept: ARTIFACT },
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(await response.text()).blobs[0].annotations[TITLE]).toBe("sig.txt");
      // The referrer by digest, with -r, from the registry (cp.go:815 in ORAS's suite).
      const source = `${registry.localhost}/rc2@${signature.digest}`;
      await ok(["cp", "-r", source, `${registry.localhost}/rc2-copy@${signature.digest}`]);
      const out = join(work, "rc2-from-registry");
      await ok(["pull", `${registry.localhost}/rc2-copy@${signature.digest}`, "-o", out]);
      expect(readFileSync(join(out, "sig.txt"), "utf8")).toBe("signed\n");
      const json = JSON.parse(await ok(["discover", "--format", "json", `${registry.localhost}/rc2:v1`]));
      expect(json.referrers.map((r: Descriptor) => r.digest)).toContain(signature.digest);
    },
  );
});
