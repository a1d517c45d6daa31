/**
 * index create and index update through the compiled binary, against the real registry and real
 * layouts: sources by tag in the target repository, from layouts and from other repositories;
 * tags, -o, --format; and every refusal leaves the target as it was.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayoutBuilder, MT } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

// Each test runs the binary several times; the registry answers a blob digest on the manifests
// endpoint with a 500, which skiff retries with backoff before it says "is a blob".
setDefaultTimeout(60_000);

let registry: RunningRegistry;
let work: string;
let host: string;

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = mkdtempSync(join(tmpdir(), "skiff-index-e2e-"));
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string; "os.version"?: string };
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** GET a manifest from the real registry; undefined on 404. */
async function manifest(
  repo: string,
  reference: string,
): Promise<
  | { digest: string; json: { manifests: Entry[]; annotations?: Record<string, string>; mediaType: string } }
  | undefined
> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: [MT.index, MT.manifest].join(", ") },
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${repo}:${reference}: ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    digest: response.headers.get("docker-content-digest") ?? "",
    json: JSON.parse(new TextDecoder().decode(bytes)),
  };
}

let counter = 0;
/** Pushes one small file as an artifact with a platform; returns the manifest digest. */
async function pushPlatform(target: string, platform: string | undefined, content: string): Promise<string> {
  const dir = join(work, `files-${++counter}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "payload.txt"), content);
  const args = ["push", "--format", "go-template={{.digest}}", "--no-created"];
  if (platform) args.push("--artifact-platform", platform);
  const result = await runSkiff([...args, target, "payload.txt"], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

function expectRefused(result: { code: number | null; stderr: string }, message: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr.startsWith("Error: ")).toBe(true);
  if (typeof message === "string") expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
}

describe("index create on a registry", () => {
  test("sources by tag in the target repository; pushed under every tag; --format json", async () => {
    const amd = await pushPlatform(`${host}/app:amd64`, "linux/amd64:el8", "amd64 build");
    const arm = await pushPlatform(`${host}/app:arm64`, "linux/arm64/v8:el8", "arm64 build");
    const result = await runSkiff([
      "index",
      "create",
      "--format",
      "json",
      "-a",
      "org.opencontainers.image.version=1.0",
      `${host}/app:v1,latest`,
      "amd64",
      "arm64",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.reference).toBe(`${host}/app@${json.digest}`);
    expect(json.mediaType).toBe(MT.index);
    // Sorted, as ORAS sorts them.
    expect(json.referenceAsTags).toEqual([`${host}/app:latest`, `${host}/app:v1`]);
    for (const tag of ["v1", "latest"]) expect((await manifest("app", tag))?.digest).toBe(json.digest);
    const index = (await manifest("app", "v1"))!.json;
    expect(index.manifests.map((m) => [m.digest, m.platform])).toEqual([
      [amd, { architecture: "amd64", os: "linux", "os.version": "el8" }],
      [arm, { architecture: "arm64", os: "linux", "os.version": "el8", variant: "v8" }],
    ]);
    // Only what was asked for: no created annotation (as ORAS; --created adds one).
    expect(index.annotations).toEqual({ "org.opencontainers.image.version": "1.0" });
  });

  test("text output: ORAS-style status lines, then Pushed and Digest", async () => {
    await pushPlatform(`${host}/status:a`, "linux/amd64", "a");
    const result = await runSkiff(["index", "create", "--no-tty", `${host}/status:v1`, "a"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    // ORAS's words: the source as typed, then its full digest; the index Packed, then Pushed.
    expect(lines[0]).toBe("Fetching  a");
    expect(lines[1]).toMatch(/^Fetched {3}sha256:[0-9a-f]{64} a$/);
    expect(lines[2]).toMatch(/^Packed {4}[0-9a-f]{12} application\/vnd\.oci\.image\.index\.v1\+json$/);
    expect(lines.at(-2)).toBe(`Pushed    [registry] ${host}/status:v1`);
    expect(lines.at(-1)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
  });

  test("sources from a layout and another repository are copied in: the target is self-contained", async () => {
    const other = await pushPlatform(`${host}/elsewhere:x`, "linux/s390x", "s390x build");
    const layout = join(work, "layout-src");
    await pushPlatform(`oci-layout://${layout}`, "linux/ppc64le", "ppc64le build");
    const result = await runSkiff([
      "index",
      "create",
      `${host}/combined:1`,
      `oci-layout://${layout}`,
      `${host}/elsewhere@${other}`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const copy = spawnSync(
      "skopeo",
      [
        "copy",
        "--all",
        "--src-tls-verify=false",
        `docker://${host}/combined:1`,
        `oci:${join(work, "skopeo-combined")}:x`,
      ],
      { encoding: "utf8", env: { ...process.env, HOME: work } },
    );
    expect(copy.status, copy.stderr).toBe(0);
  });

  test("-o - prints the index JSON and pushes nothing; no tag pushes by digest", async () => {
    await pushPlatform(`${host}/dry:a`, "linux/amd64", "dry a");
    const dry = await runSkiff(["index", "create", "-o", "-", `${host}/dry:v1`, "a"]);
    expect(dry.code, dry.stderr).toBe(0);
    const index = JSON.parse(dry.stdout);
    expect(index.mediaType).toBe(MT.index);
    expect(await manifest("dry", "v1")).toBeUndefined();
    const byDigest = await runSkiff([
      "index",
      "create",
      "--format",
      "go-template={{.digest}}",
      `${host}/dry`,
      "a",
    ]);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect((await manifest("dry", byDigest.stdout))?.digest).toBe(byDigest.stdout);
  });
});

describe("the manifest index alias and --subject", () => {
  test("manifest index create is the same command; --subject makes the index a referrer", async () => {
    const subject = await pushPlatform(`${host}/subj:app`, "linux/amd64", "the app");
    await pushPlatform(`${host}/subj:sig-amd64`, "linux/amd64", "a signature set");
    const result = await runSkiff([
      "manifest",
      "index",
      "create",
      "--format",
      "go-template={{.digest}}",
      "--artifact-type",
      "application/vnd.example.signatures.v1",
      "--subject",
      "app",
      `${host}/subj`,
      "sig-amd64",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const index = (await manifest("subj", result.stdout))!.json as unknown as Record<string, unknown>;
    expect(index.subject).toMatchObject({ mediaType: MT.manifest, digest: subject });
    expect(index.artifactType).toBe("application/vnd.example.signatures.v1");
    const discovered = await runSkiff(["discover", "--format", "json", `${host}/subj:app`]);
    expect(discovered.code, discovered.stderr).toBe(0);
    expect(discovered.stdout).toContain(result.stdout);
  });
});

describe("index create refuses bad input and changes nothing", () => {
  test("duplicate platforms (registry target: no tag appears)", async () => {
    await pushPlatform(`${host}/dup:one`, "linux/arm64/v8:el8", "one");
    await pushPlatform(`${host}/dup:two`, "linux/arm64:el8", "two");
    const result = await runSkiff(["index", "create", `${host}/dup:v1`, "one", "two"]);
    expectRefused(
      result,
      'source "one" and source "two" have the same platform: linux/arm64/v8:el8 and linux/arm64:el8',
    );
    expect(await manifest("dup", "v1")).toBeUndefined();
    const allowed = await runSkiff([
      "index",
      "create",
      "--allow-duplicate-platforms",
      `${host}/dup:v1`,
      "one",
      "two",
    ]);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  /** A layout target holding one tagged manifest, and its index.json as text. */
  function layoutTarget(): { dir: string; before: string } {
    const b = new LayoutBuilder(join(work, `target-${++counter}`));
    const m = b.platformManifest({ os: "linux", architecture: "riscv64" }, { "r.txt": "r" });
    b.writeIndex([{ ...m, tag: "keep" }]);
    return { dir: b.dir, before: readFileSync(join(b.dir, "index.json"), "utf8") };
  }

  test("missing platform, a blob source, an ambiguous layout, a malformed annotation file", async () => {
    // An image whose config names no os and architecture (an artifact needs none, as in ORAS).
    const imageBuilder = new LayoutBuilder(join(work, "no-platform"));
    const config = imageBuilder.json({ rootfs: { type: "layers", diff_ids: [] }, config: {} }, MT.config);
    imageBuilder.writeIndex([
      imageBuilder.manifest({ config, layers: [imageBuilder.file("f", "no platform")] }),
    ]);
    const noPlatform = imageBuilder.dir;
    const two = join(work, "two-roots");
    const first = await pushPlatform(`oci-layout://${two}`, "linux/amd64", "first");
    const second = await pushPlatform(`oci-layout://${two}`, "linux/arm64", "second");
    const blobs = new LayoutBuilder(join(work, "with-blob"));
    const layer = blobs.file("f.txt", "just a file");
    blobs.writeIndex([
      blobs.platformManifest({ os: "linux", architecture: "amd64" }, { "f.txt": "just a file" }),
    ]);
    const badFile = join(work, "bad-annotations.json");
    writeFileSync(badFile, '{"$manifest": {"a": 1}}');

    const registryBlob = await pushPlatform(`${host}/blobs:t`, "linux/amd64", "a registry blob");
    const layerDigest = (
      (await await fetch(`http://${host}/v2/blobs/manifests/${registryBlob}`, {
        headers: { Accept: MT.manifest },
      }).then((r) => r.json())) as { layers: Entry[] }
    ).layers[0]!.digest;
    const cases: [string[], string | RegExp][] = [
      [[`${host}/blobs@${layerDigest}`], `is a blob in ${host}/blobs`],
      [[`oci-layout://${noPlatform}`], "has no platform"],
      [[`oci-layout://${blobs.dir}@${layer.digest}`], "is not a manifest or index"],
      [
        [`oci-layout://${two}`],
        /no tag or digest specified, and index\.json lists 2 manifests[\s\S]*select it with/,
      ],
      [["--annotation-file", badFile, `oci-layout://${noPlatform}`], "invalid annotation file"],
    ];
    for (const [args, message] of cases) {
      const target = layoutTarget();
      const result = await runSkiff(["index", "create", `oci-layout://${target.dir}`, ...args]);
      expectRefused(result, message);
      expect(readFileSync(join(target.dir, "index.json"), "utf8")).toBe(target.before);
    }
    const ambiguous = await runSkiff([
      "index",
      "create",
      `oci-layout://${join(work, "never")}`,
      `oci-layout://${two}`,
    ]);
    expect(ambiguous.stderr).toContain(first);
    expect(ambiguous.stderr).toContain(second);
  });

  test("a fresh layout target is not even created on error", async () => {
    const target = join(work, "not-created");
    const result = await runSkiff([
      "index",
      "create",
      `oci-layout://${target}`,
      `oci-layout://${join(work, "missing")}`,
    ]);
    expectRefused(result, "does not exist");
    expect(spawnSync("test", ["-e", target]).status).toBe(1);
  });
});

describe("index update", () => {
  test("on a registry: the named tag moves, other tags stay; --add and --remove", async () => {
    const a = await pushPlatform(`${host}/upd:a`, "linux/amd64", "upd a");
    const b = await pushPlatform(`${host}/upd:b`, "linux/arm64", "upd b");
    const c = await pushPlatform(`${host}/upd:c`, "linux/s390x", "upd c");
    const created = await runSkiff(["index", "create", `${host}/upd:v1,stable`, "a", "b"]);
    expect(created.code, created.stderr).toBe(0);
    const old = (await manifest("upd", "v1"))!.digest;
    const result = await runSkiff([
      "index",
      "update",
      `${host}/upd:v1`,
      "--add",
      "c",
      "--remove",
      a,
      "--tag",
      "v2",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const updated = (await manifest("upd", "v1"))!;
    expect(updated.json.manifests.map((m) => m.digest)).toEqual([b, c]);
    expect((await manifest("upd", "v2"))!.digest).toBe(updated.digest);
    expect((await manifest("upd", "stable"))!.digest).toBe(old);

    const missing = await runSkiff(["index", "update", `${host}/upd:v1`, "--remove", a]);
    expectRefused(missing, `cannot remove ${a}: it does not exist in the index`);
    expect((await manifest("upd", "v1"))!.digest).toBe(updated.digest);
  });

  test("a tagless layout index: --add keeps one index.json entry", async () => {
    const out = join(work, "upd-layout");
    await pushPlatform(`oci-layout://${join(work, "ul-a")}`, "linux/amd64:el8", "ul a");
    await pushPlatform(`oci-layout://${join(work, "ul-b")}`, "linux/amd64:el9", "ul b");
    const created = await runSkiff([
      "index",
      "create",
      `oci-layout://${out}`,
      `oci-layout://${join(work, "ul-a")}`,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const result = await runSkiff([
      "index",
      "update",
      "--format",
      "json",
      `oci-layout://${out}`,
      "--add",
      `oci-layout://${join(work, "ul-b")}`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    const entries = JSON.parse(readFileSync(join(out, "index.json"), "utf8")).manifests as Entry[];
    expect(entries).toEqual([{ mediaType: MT.index, digest: json.digest, size: json.size }]);
  });

  test("a Docker manifest list refuses annotations and stays as it was", async () => {
    const b = new LayoutBuilder(join(work, "docker-list"));
    const m = b.platformManifest({ os: "linux", architecture: "amd64" }, { "d.txt": "d" });
    const list = b.json(
      {
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
        manifests: [m],
      },
      "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    b.writeIndex([list]);
    const before = readFileSync(join(b.dir, "index.json"), "utf8");
    const result = await runSkiff(["index", "update", `oci-layout://${b.dir}`, "-a", "k=v"]);
    expectRefused(result, "Docker manifest list");
    expect(readFileSync(join(b.dir, "index.json"), "utf8")).toBe(before);
  });
});
