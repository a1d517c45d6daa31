/**
 * Runs docs/COOKBOOK.md exactly as documented: every ```sh block, in order, as one bash script,
 * against the real registry, with the compiled skiff on PATH. Then checks what the user story
 * needs: the merged layout has one index.json entry pointing at one index; that index lists every
 * platform with os.version, artifactType and the annotations; each platform pull returns that
 * platform's files; skopeo reads and copies the index from the layout and from the registry.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff, skiffCommand } from "../harness/skiff.ts";

const COOKBOOK = join(import.meta.dir, "..", "..", "docs", "COOKBOOK.md");
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const REF_NAME = "org.opencontainers.image.ref.name";

/** The ```sh blocks of the cookbook, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A value the cookbook sets in its environment block (`NAME=value` or `export NAME=value`). */
function docValue(markdown: string, name: string): string {
  const match = new RegExp(`^(?:export )?${name}=([^\\s#]+)`, "m").exec(shellBlocks(markdown).join("\n"));
  if (!match) throw new Error(`the cookbook does not set ${name}`);
  return match[1]!.replace(/^"|"$/g, "");
}

/** Every file under `dir` (relative path -> sha256 of content). */
function tree(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) Object.assign(out, tree(dir, rel));
    else
      out[rel] = createHash("sha256")
        .update(readFileSync(join(dir, rel)))
        .digest("hex");
  }
  return out;
}

function blob(layout: string, digest: string): Buffer {
  return readFileSync(join(layout, "blobs", "sha256", digest.slice("sha256:".length)));
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}
interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}
interface Index {
  mediaType: string;
  manifests: Entry[];
  annotations?: Record<string, string>;
}

const platformText = (p: Platform): string =>
  `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}${p["os.version"] ? `:${p["os.version"]}` : ""}`;

function skopeo(args: string[]): { status: number; stdout: Buffer; stderr: string } {
  const result = spawnSync("skopeo", args, { env: { ...process.env, HOME: tmpdir() } });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr.toString() };
}

let registry: RunningRegistry;
let work: string;
let script: { status: number; stdout: string; stderr: string };
const markdown = readFileSync(COOKBOOK, "utf8");

beforeAll(async () => {
  registry = await startRegistry("plain");
  work = mkdtempSync(join(tmpdir(), "skiff-cookbook-"));
  const bin = join(work, ".bin");
  mkdirSync(bin);
  // `skiff` on PATH: the compiled binary (or main.ts under Deno when the suite runs that way).
  const { command, args } = skiffCommand();
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  writeFileSync(join(bin, "skiff"), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
  const body = shellBlocks(markdown).join("\n");
  writeFileSync(join(work, ".cookbook.sh"), `set -euo pipefail\n${body}\n`);
  const home = join(work, ".home");
  mkdirSync(join(home, ".docker"), { recursive: true });
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // No registry credentials or skiff settings of the caller reach the cookbook.
    if (value !== undefined && !/^(DOCKER_|REGISTRY|SKIFF_|SOURCE_DATE_EPOCH$)/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    DOCKER_CONFIG: join(home, ".docker"),
    NO_COLOR: "1",
    REGISTRY: registry.localhost,
  });
  const result = spawnSync("bash", [join(work, ".cookbook.sh")], {
    cwd: work,
    env,
    encoding: "utf8",
    timeout: 240_000,
  });
  script = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A manifest or index from the registry, as bytes (real HTTP, OCI Accept header). */
async function registryManifest(
  repo: string,
  reference: string,
): Promise<{ bytes: Uint8Array; digest: string }> {
  const response = await fetch(`http://${registry.localhost}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: `${INDEX}, ${MANIFEST}` },
  });
  if (!response.ok) throw new Error(`GET ${repo}:${reference}: ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { bytes, digest: sha256(bytes) };
}

describe("the cookbook, run as documented", () => {
  test("every block runs without error", () => {
    if (script.status !== 0) console.error(script.stdout, script.stderr);
    expect(script.status).toBe(0);
    expect(shellBlocks(markdown).length).toBeGreaterThanOrEqual(8);
  });

  test("step 1: each CI job printed a pinned layout reference, and its layout is tagless", () => {
    for (const build of ["el8-arm64", "el9-arm64", "el8-amd64", "el9-amd64"]) {
      const ref = readFileSync(join(work, `${build}.ref`), "utf8");
      expect(ref).toMatch(new RegExp(`^\\.\\./build-${build}@sha256:[0-9a-f]{64}$`));
      const index = JSON.parse(readFileSync(join(work, `build-${build}`, "index.json"), "utf8")) as Index;
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0]!.digest).toBe(ref.slice(ref.indexOf("@") + 1));
      expect(index.manifests[0]!.annotations?.[REF_NAME]).toBeUndefined();
    }
  });

  test("step 2 and 3: the registry's release index is the merged one, nested, with platforms and annotations", async () => {
    const created = new Date(Number(docValue(markdown, "SOURCE_DATE_EPOCH")) * 1000)
      .toISOString()
      .slice(0, 19);
    const sha = docValue(markdown, "CI_COMMIT_SHA");
    const mr = docValue(markdown, "MR");
    const release = await registryManifest("acme/yum-hello", "1.2");
    const temporary = await registryManifest("acme/yum-hello", `mr-${mr}-1.2-${sha}`);
    expect(temporary.digest).toBe(release.digest);
    const index = JSON.parse(new TextDecoder().decode(release.bytes)) as Index;
    expect(index.mediaType).toBe(INDEX);
    expect(index.manifests.map((m) => platformText(m.platform!)).sort()).toEqual([
      "linux/amd64:el8",
      "linux/amd64:el9",
      "linux/arm64/v8:el8",
      "linux/arm64/v8:el9",
    ]);
    for (const entry of index.manifests) {
      expect(entry.mediaType).toBe(MANIFEST);
      expect(entry.artifactType).toBe("application/vnd.example.yum-repo.v1");
      // The entry is the manifest the CI job pushed, byte for byte.
      const build = `${entry.platform!["os.version"]}-${entry.platform!.architecture}`;
      const ref = readFileSync(join(work, `${build}.ref`), "utf8");
      expect(entry.digest).toBe(ref.slice(ref.indexOf("@") + 1));
      const pushed = await registryManifest("acme/yum-hello", entry.digest);
      expect(pushed.bytes.byteLength).toBe(entry.size);
    }
    expect(index.annotations).toEqual({
      "com.example.ci.job-ids": "4711,4712,4713,4714",
      "org.opencontainers.image.authors": "Release Team <release@example.com>",
      "org.opencontainers.image.created": `${created}Z`,
      "org.opencontainers.image.revision": sha,
      "org.opencontainers.image.version": "1.2",
    });
  });

  test("step 5: the layout still has ONE index.json entry, now the updated index (5 platforms), also on the registry", async () => {
    const layoutIndex = JSON.parse(readFileSync(join(work, "merged", "index.json"), "utf8")) as Index;
    expect(layoutIndex.manifests).toHaveLength(1);
    const root = layoutIndex.manifests[0]!;
    expect(root.mediaType).toBe(INDEX);
    expect(root.annotations).toBeUndefined();
    const updated = JSON.parse(blob(join(work, "merged"), root.digest).toString("utf8")) as Index;
    expect(updated.manifests.map((m) => platformText(m.platform!))).toContain("linux/arm64/v8:el10");
    expect(updated.manifests).toHaveLength(5);
    expect(updated.annotations?.["org.opencontainers.image.version"]).toBe("1.3");
    expect(updated.annotations?.["org.opencontainers.image.revision"]).toBe(
      docValue(markdown, "CI_COMMIT_SHA"),
    );
    expect((await registryManifest("acme/yum-hello", "1.3")).digest).toBe(root.digest);
    expect((await registryManifest("acme/yum-hello", "1.2")).digest).not.toBe(root.digest);
  });

  test("step 4: the el8 arm64 pulls from registry, layout and tar hold exactly that build's files", () => {
    const expected = tree(join(work, "el8-arm64", "repo"));
    expect(Object.keys(expected).length).toBe(2);
    for (const out of ["from-registry", "from-layout", "from-tar"]) {
      expect(tree(join(work, out, "repo"))).toEqual(expected);
      expect(readdirSync(join(work, out))).toEqual(["repo"]);
    }
  });

  test("every platform pull from the registry returns that platform's files", async () => {
    for (const [build, platform] of [
      ["el8-arm64", "linux/arm64/v8:el8"],
      ["el9-arm64", "linux/arm64/v8:el9"],
      ["el8-amd64", "linux/amd64:el8"],
      ["el9-amd64", "linux/amd64:el9"],
    ] as const) {
      const out = join(work, `check-${build}`);
      const result = await runSkiff([
        "pull",
        "--platform",
        platform,
        "-o",
        out,
        `${registry.localhost}/acme/yum-hello:1.2`,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(tree(out)).toEqual(tree(join(work, build)));
    }
  });

  test("skopeo inspects and copies the composed index from the layout and the registry", () => {
    const layoutRoot = (JSON.parse(readFileSync(join(work, "merged", "index.json"), "utf8")) as Index)
      .manifests[0]!;
    const fromLayout = skopeo(["inspect", "--raw", `oci:${join(work, "merged")}`]);
    expect(fromLayout.status, fromLayout.stderr).toBe(0);
    expect(sha256(fromLayout.stdout)).toBe(layoutRoot.digest);

    const source = `docker://${registry.localhost}/acme/yum-hello:1.2`;
    const fromRegistry = skopeo(["inspect", "--raw", "--tls-verify=false", source]);
    expect(fromRegistry.status, fromRegistry.stderr).toBe(0);
    expect((JSON.parse(fromRegistry.stdout.toString()) as Index).manifests).toHaveLength(4);

    // Not --preserve-digests: skopeo 1.9 predates image-spec 1.1 and re-serializes the index without
    // the entries' artifactType. The manifests it lists keep their digests (checked below).
    const copies = [
      ["copy", "--all", `oci:${join(work, "merged")}`, `oci:${join(work, "skopeo-from-layout")}:x`],
      ["copy", "--all", "--src-tls-verify=false", source, `oci:${join(work, "skopeo-from-registry")}:x`],
    ];
    const original = JSON.parse(blob(join(work, "merged"), layoutRoot.digest).toString("utf8")) as Index;
    const released = JSON.parse(fromRegistry.stdout.toString()) as Index;
    for (const [i, args] of copies.entries()) {
      const copied = skopeo(args);
      expect(copied.status, copied.stderr).toBe(0);
      const out = args[args.length - 1]!.slice("oci:".length, -2);
      const entry = (JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as Index).manifests[0]!;
      const index = JSON.parse(blob(out, entry.digest).toString("utf8")) as Index;
      const from = i === 0 ? original : released;
      expect(index.manifests.map((m) => [m.digest, m.platform])).toEqual(
        from.manifests.map((m) => [m.digest, m.platform]),
      );
      expect(index.annotations).toEqual(from.annotations);
      // Every manifest and blob of every platform came along.
      for (const m of index.manifests) {
        const manifest = JSON.parse(blob(out, m.digest).toString("utf8")) as {
          config: Entry;
          layers: Entry[];
        };
        for (const d of [manifest.config, ...manifest.layers])
          expect(blob(out, d.digest).byteLength).toBe(d.size);
      }
    }
  });
});
