/**
 * attach and discover against the real registry with the compiled binary. The test registry
 * (distribution 2.8) has no referrers API, so the tag-schema fallback (`sha256-<hex>` index) is
 * what runs: the test reads that index straight from the registry.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, skiffOk } from "../harness/skiff.ts";

// The compiled binary and the registry are real processes: give each test room on a busy machine.
setDefaultTimeout(60_000);

const registries = useRegistries(["plain", "basic"]);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-attach-registry-"));
  writeFileSync(join(root, "app-amd64.bin"), "amd64 build\n");
  writeFileSync(join(root, "app-arm64.bin"), "arm64 build\n");
  writeFileSync(join(root, "sbom.json"), '{"packages":[]}\n');
  writeFileSync(join(root, "sig.txt"), "signature\n");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A discover tree without its `[annotations]` nodes (ORAS 1.3 shows them by default; times vary). */
const withoutAnnotations = (tree: string): string =>
  tree
    .split("\n")
    .filter((line) => !line.includes("[annotations]") && !/── \S+: /.test(line))
    .join("\n");

/** The stdout of a skiff run in the root folder that must succeed. */
const ok = async (args: string[]) => (await skiffOk(args, { cwd: root })).stdout;

const json = async (args: string[]): Promise<Record<string, unknown> & { digest: string }> =>
  JSON.parse(await ok([...args, "--format", "json"]));

interface Node {
  reference: string;
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  referrers: Node[];
}

/** The fallback index the registry holds for `subject` (what other clients read), or its status. */
async function fallbackIndex(
  registry: (typeof registries)["plain"],
  repository: string,
  subject: string,
): Promise<{ manifests: { digest: string; artifactType?: string }[] }> {
  const tag = subject.replace(":", "-");
  const response = await registry.fetch(`/v2/${repository}/manifests/${tag}`, {
    headers: { accept: "application/vnd.oci.image.index.v1+json" },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { manifests: { digest: string; artifactType?: string }[] };
}

describe("attach and discover on a registry (tag-schema fallback)", () => {
  test("the registry has no referrers API (so the fallback is what this file tests)", async () => {
    const registry = registries.plain;
    await ok(["push", `${registry.localhost}/probe/app:v1`, "sig.txt"]);
    const digest = JSON.parse(
      await ok(["push", `${registry.localhost}/probe/app:v1`, "sig.txt", "--format", "json", "--no-created"]),
    ).digest;
    const response = await registry.fetch(`/v2/probe/app/referrers/${digest}`);
    expect(response.status).toBe(404);
  });

  test("attach updates the sha256-<hex> index; referrers of referrers; discover tree, JSON, filters", async () => {
    const registry = registries.plain;
    const repo = `${registry.localhost}/story/app`;
    const app = await json(["push", `${repo}:v1`, "app-amd64.bin"]);
    const sbom = await json([
      "attach",
      `${repo}:v1`,
      "--artifact-type",
      "application/vnd.example.sbom.v1",
      "sbom.json",
    ]);
    expect(sbom.reference).toBe(`${repo}@${sbom.digest}`);
    expect((await fallbackIndex(registry, "story/app", app.digest)).manifests).toEqual([
      expect.objectContaining({ digest: sbom.digest, artifactType: "application/vnd.example.sbom.v1" }),
    ]);

    const note = await json([
      "attach",
      `${repo}@${app.digest}`,
      "--artifact-type",
      "application/vnd.example.note.v1",
      "-a",
      "reviewed=yes",
    ]);
    // The second referrer is added; the first is kept.
    const listed = (await fallbackIndex(registry, "story/app", app.digest)).manifests.map((m) => m.digest);
    expect(listed.sort()).toEqual([note.digest, sbom.digest].sort());

    const sig = await json([
      "attach",
      `${repo}@${sbom.digest}`,
      "--artifact-type",
      "application/vnd.example.sig.v1",
      "sig.txt",
    ]);
    expect((await fallbackIndex(registry, "story/app", sbom.digest)).manifests.map((m) => m.digest)).toEqual([
      sig.digest,
    ]);

    const tree = await ok(["discover", `${repo}:v1`]);
    expect(tree).toContain("[annotations]");
    expect(withoutAnnotations(tree)).toBe(
      [
        `${repo}@${app.digest}`,
        "├── application/vnd.example.sbom.v1",
        `│   └── ${sbom.digest}`,
        "│       └── application/vnd.example.sig.v1",
        `│           └── ${sig.digest}`,
        "└── application/vnd.example.note.v1",
        `    └── ${note.digest}`,
        "",
      ].join("\n"),
    );

    const all = (await json(["discover", `${repo}:v1`])) as unknown as Node;
    expect(all.reference).toBe(`${repo}@${app.digest}`);
    expect(all.referrers.map((r) => r.digest).sort()).toEqual([note.digest, sbom.digest].sort());
    expect(all.referrers.find((r) => r.digest === note.digest)?.annotations?.reviewed).toBe("yes");
    expect(all.referrers.find((r) => r.digest === sbom.digest)?.referrers.map((r) => r.digest)).toEqual([
      sig.digest,
    ]);

    const direct = (await json(["discover", `${repo}:v1`, "--depth", "1"])) as unknown as Node;
    expect(direct.referrers.flatMap((r) => r.referrers)).toEqual([]);
    const sboms = (await json([
      "discover",
      `${repo}:v1`,
      "--artifact-type",
      "application/vnd.example.sbom.v1",
    ])) as unknown as Node;
    expect(sboms.referrers.map((r) => r.digest)).toEqual([sbom.digest]);
    const template = await ok(["discover", `${repo}:v1`, "--format", "go-template={{len .referrers}}"]);
    expect(template).toBe("2");
  });

  test("attach --platform picks one manifest of an index on the registry", async () => {
    const registry = registries.plain;
    const repo = `${registry.localhost}/story/multi`;
    await ok(["push", `${repo}:amd`, "app-amd64.bin", "--artifact-platform", "linux/amd64"]);
    const arm = await json([
      "push",
      `${repo}:arm`,
      "app-arm64.bin",
      "--artifact-platform",
      "linux/arm64/v8:el8",
    ]);
    await ok(["index", "create", `${repo}:multi`, `${repo}:amd`, `${repo}:arm`]);
    const sig = await json([
      "attach",
      `${repo}:multi`,
      "--platform",
      "linux/arm64:el8",
      "--artifact-type",
      "application/vnd.example.sig.v1",
      "sig.txt",
    ]);
    expect((await fallbackIndex(registry, "story/multi", arm.digest)).manifests.map((m) => m.digest)).toEqual(
      [sig.digest],
    );
    const found = (await json([
      "discover",
      `${repo}:multi`,
      "--platform",
      "linux/arm64:el8",
    ])) as unknown as Node;
    expect(found.digest).toBe(arm.digest);
    expect(found.referrers.map((r) => r.digest)).toEqual([sig.digest]);
  });

  test("skopeo reads the referrer manifest", async () => {
    const registry = registries.plain;
    const repo = `${registry.localhost}/story/skopeo`;
    await ok(["push", `${repo}:v1`, "app-amd64.bin"]);
    const sig = await json([
      "attach",
      `${repo}:v1`,
      "--artifact-type",
      "application/vnd.example.sig.v1",
      "sig.txt",
    ]);
    const inspect = spawnSync(
      "skopeo",
      ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/story/skopeo@${sig.digest}`],
      { encoding: "utf8" },
    );
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout).artifactType).toBe("application/vnd.example.sig.v1");
  });

  test("with basic auth", async () => {
    const registry = registries.basic;
    const repo = `${registry.localhost}/secure/app`;
    const creds = ["-u", registry.username!, "-p", registry.password!];
    const app = await json(["push", `${repo}:v1`, "app-amd64.bin", ...creds]);
    const sbom = await json([
      "attach",
      `${repo}:v1`,
      "--artifact-type",
      "application/vnd.example.sbom.v1",
      "sbom.json",
      ...creds,
    ]);
    expect((await fallbackIndex(registry, "secure/app", app.digest)).manifests.map((m) => m.digest)).toEqual([
      sbom.digest,
    ]);
    const found = (await json(["discover", `${repo}:v1`, ...creds])) as unknown as Node;
    expect(found.referrers.map((r) => r.digest)).toEqual([sbom.digest]);
  });

  test("a subject that does not exist: clear error, nothing pushed", async () => {
    const registry = registries.plain;
    const result = await runSkiff(
      ["attach", `${registry.localhost}/story/none:missing`, "--artifact-type", "application/x.a", "sig.txt"],
      { cwd: root },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr.split("\n")[0]).toMatch(/^Error: .*missing/);
    const tags = await registry.fetch("/v2/story/none/tags/list");
    expect(tags.status).toBe(404);
  });
});
