/**
 * push to the real registry with the compiled binary: plain HTTP, basic auth and token auth;
 * what lands is checked through the registry API and by skopeo (inspect and copy).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, skiffOk } from "../harness/skiff.ts";

// The compiled binary and the registry are real processes: give each test room on a busy machine.
setDefaultTimeout(60_000);

const registries = useRegistries(["plain", "basic", "token"]);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-push-registry-"));
  mkdirSync(join(root, "repo", "repodata"), { recursive: true });
  // A layer big enough to take several upload chunks of the file reader.
  const big = new Uint8Array(5 * 1024 * 1024 + 123).map((_, i) => (i * 31) % 251);
  writeFileSync(join(root, "repo", "big.rpm"), big);
  writeFileSync(join(root, "repo", "repodata", "repomd.xml"), "<repomd/>\n");
  writeFileSync(join(root, "hello.txt"), "hello registry\n");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The stdout of a skiff run in the root folder that must succeed. */
const ok = async (args: string[], env: Record<string, string> = {}, stdin?: string) =>
  (await skiffOk(args, { cwd: root, env, ...(stdin === undefined ? {} : { stdin }) })).stdout;

async function manifestBytes(
  registry: (typeof registries)["plain"],
  repository: string,
  reference: string,
): Promise<Uint8Array> {
  const response = await registry.fetch(`/v2/${repository}/manifests/${reference}`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

describe("push to a plain registry", () => {
  test("two tags, a directory and a file; JSON output; the registry serves the same manifest under both tags", async () => {
    const registry = registries.plain;
    const out = JSON.parse(
      await ok([
        "push",
        `${registry.localhost}/team/app:1.2,latest`,
        "repo",
        "hello.txt",
        "--format",
        "json",
      ]),
    );
    expect(out.reference).toBe(`${registry.localhost}/team/app@${out.digest}`);
    expect(out.referenceAsTags).toEqual([
      `${registry.localhost}/team/app:1.2`,
      `${registry.localhost}/team/app:latest`,
    ]);
    for (const tag of ["1.2", "latest"]) {
      const bytes = await manifestBytes(registry, "team/app", tag);
      expect(sha256(bytes)).toBe(out.digest);
    }
    const manifest = JSON.parse(
      new TextDecoder().decode(await manifestBytes(registry, "team/app", out.digest)),
    );
    for (const layer of manifest.layers) {
      const blob = await registry.fetch(`/v2/team/app/blobs/${layer.digest}`);
      expect(blob.status).toBe(200);
      expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(layer.digest);
    }
  });

  test("text output and a second push: Uploading/Uploaded, then nothing uploaded again", async () => {
    const registry = registries.plain;
    const target = `${registry.localhost}/team/text:v1`;
    const first = await ok(["push", "--no-tty", target, "hello.txt", "--no-created"]);
    expect(first).toMatch(/^Uploading [0-9a-f]{12} hello\.txt$/m);
    expect(first).toMatch(/^Uploaded {2}[0-9a-f]{12} hello\.txt$/m);
    expect(first).toContain(`Pushed [registry] ${target}\n`);
    expect(first).toContain("ArtifactType: application/vnd.unknown.artifact.v1\n");
    const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(first)?.[1];
    expect(digest).toBeDefined();
    const second = await ok(["push", "--no-tty", target, "hello.txt", "--no-created"]);
    // The manifest is there: as in ORAS, nothing is uploaded or listed, it is only stored under the tag.
    expect(second).not.toContain("Uploading");
    expect(second).not.toMatch(/^Exists /m);
    expect(second).toContain(`Pushed [registry] ${target}\n`);
    expect(second).toContain(`Digest: ${digest}`);
  });

  test("a push without a tag goes by digest", async () => {
    const registry = registries.plain;
    const out = JSON.parse(
      await ok(["push", `${registry.localhost}/team/untagged`, "hello.txt", "--format", "json"]),
    );
    expect(out.referenceAsTags).toEqual([]);
    expect(sha256(await manifestBytes(registry, "team/untagged", out.digest))).toBe(out.digest);
  });

  test("skopeo inspect and skopeo copy accept what skiff pushed", async () => {
    const registry = registries.plain;
    await ok([
      "push",
      `${registry.localhost}/team/skopeo:v1`,
      "repo",
      "hello.txt",
      "--artifact-platform",
      "linux/arm64/v8:el8",
    ]);
    const inspect = spawnSync(
      "skopeo",
      [
        "inspect",
        ...registry.skopeoFlags("src").map((f) => f.replace("--src-", "--")),
        `docker://${registry.host}/team/skopeo:v1`,
      ],
      { encoding: "utf8" },
    );
    expect(inspect.stderr).toBe("");
    const info = JSON.parse(inspect.stdout);
    expect(info.Architecture).toBe("arm64");
    expect(info.Os).toBe("linux");
    expect(info.Layers).toHaveLength(2);
    const layoutDir = join(root, "skopeo-copy");
    const copy = spawnSync(
      "skopeo",
      [
        "--insecure-policy",
        "copy",
        "--preserve-digests",
        ...registry.skopeoFlags("src"),
        `docker://${registry.host}/team/skopeo:v1`,
        `oci:${layoutDir}:v1`,
      ],
      { encoding: "utf8" },
    );
    expect(copy.stderr).toBe("");
    expect(copy.status).toBe(0);
    const index = JSON.parse(readFileSync(join(layoutDir, "index.json"), "utf8"));
    const pushed = await manifestBytes(registry, "team/skopeo", "v1");
    expect(index.manifests[0].digest).toBe(sha256(pushed));
  });

  test("reproducible: with SOURCE_DATE_EPOCH the registry and a layout get the same digest", async () => {
    const registry = registries.plain;
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const toRegistry = JSON.parse(
      await ok(["push", `${registry.localhost}/team/repro:v1`, "repo", "hello.txt", "--format", "json"], env),
    );
    const toLayout = JSON.parse(
      await ok(
        ["push", "--oci-layout", join(root, "repro-layout"), "repo", "hello.txt", "--format", "json"],
        env,
      ),
    );
    expect(toLayout.digest).toBe(toRegistry.digest);
  });

  test("a tag that violates the grammar is refused before anything is uploaded", async () => {
    const registry = registries.plain;
    const result = await runSkiff(["push", `${registry.localhost}/team/bad:no/slash!`, "hello.txt"], {
      cwd: root,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.split("\n")[0]).toMatch(/^Error: ".*": invalid reference: /);
    const tags = await registry.fetch("/v2/team/bad/tags/list");
    expect(tags.status).toBe(404);
  });
});

describe("push with credentials", () => {
  test("basic auth: refused without credentials, accepted with -u/-p and with --password-stdin", async () => {
    const registry = registries.basic;
    const target = `${registry.localhost}/secure/app:v1`;
    const denied = await runSkiff(["push", target, "hello.txt"], { cwd: root });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr.split("\n")[0]).toMatch(/^Error: .*(unauthorized|401|credentials|authentication)/i);

    const out = JSON.parse(
      await ok([
        "push",
        target,
        "hello.txt",
        "-u",
        registry.username!,
        "-p",
        registry.password!,
        "--format",
        "json",
      ]),
    );
    expect(sha256(await manifestBytes(registry, "secure/app", "v1"))).toBe(out.digest);

    const viaStdin = JSON.parse(
      await ok(
        [
          "push",
          `${registry.localhost}/secure/app:v2`,
          "repo",
          "-u",
          registry.username!,
          "--password-stdin",
          "--format",
          "json",
        ],
        {},
        `${registry.password}\n`,
      ),
    );
    expect(sha256(await manifestBytes(registry, "secure/app", "v2"))).toBe(viaStdin.digest);
  });

  test("token auth: push with -u/-p through the token endpoint", async () => {
    const registry = registries.token;
    const out = JSON.parse(
      await ok([
        "push",
        `${registry.localhost}/tok/app:v1`,
        "repo",
        "hello.txt",
        "-u",
        registry.username!,
        "-p",
        registry.password!,
        "--format",
        "json",
      ]),
    );
    expect(sha256(await manifestBytes(registry, "tok/app", "v1"))).toBe(out.digest);
  });
});
