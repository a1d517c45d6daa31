/**
 * skiff cp with the compiled binary against the real registry, in all six directions that make
 * sense (registry->registry, registry->layout, layout->registry, layout->layout, tar->layout,
 * tar->registry), with multi-platform graphs, --platform, Exists on a second copy, Mounted across
 * repositories, --format, and skopeo reading what skiff copied. Source layouts are crafted byte by
 * byte (tests/fixtures/layout-builder.ts), so skiff is checked against the spec, not itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { type RunOptions, runSkiff, skiffOk } from "../harness/skiff.ts";

let registry: RunningRegistry;
let host: string;

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The user story's shape: index -> two per-platform manifests (image config with the platform). */
function storyLayout(tag?: string) {
  const b = new LayoutBuilder();
  const arm = b.platformManifest(
    { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
    {
      "repo/arm.rpm": `arm64 el8 rpm ${"a".repeat(50_000)}`,
    },
  );
  const amd = b.platformManifest(
    { os: "linux", architecture: "amd64", "os.version": "el8" },
    {
      "repo/amd.rpm": `amd64 el8 rpm ${"b".repeat(50_000)}`,
    },
  );
  const index = b.index([arm, amd], { "org.opencontainers.image.revision": "abc123" });
  b.writeIndex([tag ? { ...index, tag } : index]);
  return { b, arm, amd, index };
}

/** The same shape as plain container images (no artifactType anywhere), which skopeo 1.9 copies byte for byte. */
function imageLayout(tag: string) {
  const b = new LayoutBuilder();
  const image = (
    platform: { os: string; architecture: string; variant?: string },
    content: string,
  ): Descriptor => ({
    ...b.manifest({ config: b.imageConfig(platform), layers: [b.blob(content, MT.layer)] }),
    platform,
  });
  const arm = image(
    { os: "linux", architecture: "arm64", variant: "v8" },
    `arm64 layer ${"a".repeat(40_000)}`,
  );
  const amd = image({ os: "linux", architecture: "amd64" }, `amd64 layer ${"b".repeat(40_000)}`);
  const index = b.index([arm, amd]);
  b.writeIndex([{ ...index, tag }]);
  return { b, arm, amd, index };
}

/** Every descriptor under `root` in a layout directory written by hand (manifests parsed). */
function graphOf(dir: string, root: Descriptor): Descriptor[] {
  const out: Descriptor[] = [root];
  if (root.mediaType === MT.index || root.mediaType === MT.manifest) {
    const json = JSON.parse(readFileSync(join(dir, "blobs", "sha256", root.digest.slice(7)), "utf8"));
    const children: Descriptor[] = json.manifests ?? [json.config, ...json.layers];
    for (const child of children) out.push(...graphOf(dir, child));
  }
  return out;
}

async function manifestFromRegistry(
  repo: string,
  reference: string,
): Promise<{ status: number; digest?: string; bytes?: Uint8Array }> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: [MT.index, MT.manifest].join(", ") },
  });
  if (!response.ok) {
    await response.body?.cancel();
    return { status: response.status };
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, digest: sha256(bytes), bytes };
}

/** True when the registry repository serves `desc` with the right bytes. */
async function registryHas(repo: string, desc: Descriptor): Promise<boolean> {
  const kind = desc.mediaType === MT.index || desc.mediaType === MT.manifest ? "manifests" : "blobs";
  const response = await fetch(`http://${host}/v2/${repo}/${kind}/${desc.digest}`, {
    headers: { Accept: [MT.index, MT.manifest].join(", ") },
  });
  if (!response.ok) {
    await response.body?.cancel();
    return false;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  return sha256(bytes) === desc.digest && bytes.byteLength === desc.size;
}

/** True when the layout directory holds `desc` with the right bytes. */
function layoutHas(dir: string, desc: Descriptor): boolean {
  const path = join(dir, "blobs", "sha256", desc.digest.slice(7));
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  return sha256(bytes) === desc.digest && bytes.byteLength === desc.size;
}

function indexEntries(
  dir: string,
): { digest: string; mediaType: string; size: number; annotations?: Record<string, string> }[] {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests;
}

/** Status lines as [prompt, short digest, name]. */
function statusLines(stdout: string): [string, string, string][] {
  return stdout
    .split("\n")
    .map((line) => /^(Copying|Copied|Exists|Mounted|Skipped)\s+([0-9a-f]{12}) (.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!, m[3]!]);
}

/** `skiff cp --no-tty ARGS`, which must succeed. */
const cp = (args: string[], options: RunOptions = {}) => skiffOk(["cp", "--no-tty", ...args], options);

function skopeo(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync("skopeo", args, { env: { ...process.env, HOME: tmpdir() }, encoding: "utf8" });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe("layout -> registry -> registry -> layout, the user story's release path", () => {
  test("layout -> registry: a tagless layout's whole multi-platform graph under a temporary tag", async () => {
    const { b, index } = storyLayout();
    const result = await cp([`oci-layout://${b.dir}`, `${host}/story:mr-1234-1.2-abc123`]);
    const lines = result.stdout.trim().split("\n");
    expect(lines.at(-2)).toBe(`Copied [oci-layout] ${b.dir} => [registry] ${host}/story:mr-1234-1.2-abc123`);
    expect(lines.at(-1)).toBe(`Digest: ${index.digest}`);
    const graph = graphOf(b.dir, index);
    expect(graph.length).toBe(7);
    // Every blob and manifest was copied once, and reported.
    const copied = statusLines(result.stdout).filter(([p]) => p === "Copied");
    expect(copied.map(([, d]) => d).sort()).toEqual(graph.map((d) => d.digest.slice(7, 19)).sort());
    expect(copied.at(-1)![1]).toBe(index.digest.slice(7, 19));
    for (const desc of graph) expect(await registryHas("story", desc)).toBe(true);
    expect((await manifestFromRegistry("story", "mr-1234-1.2-abc123")).digest).toBe(index.digest);
  });

  test("a second copy finds everything there: Exists, nothing copied", async () => {
    const { b, index } = storyLayout();
    await cp([`oci-layout://${b.dir}`, `${host}/again:v1`]);
    const second = await cp([`oci-layout://${b.dir}`, `${host}/again:v1`]);
    const lines = statusLines(second.stdout);
    expect(lines.filter(([p]) => p === "Copying" || p === "Copied")).toEqual([]);
    expect(lines).toContainEqual(["Exists", index.digest.slice(7, 19), MT.index]);
  });

  test("registry -> registry in one repository: the release tag points at the same index", async () => {
    const { b, index } = storyLayout();
    await cp([`oci-layout://${b.dir}`, `${host}/release:mr-1`]);
    const result = await cp([`${host}/release:mr-1`, `${host}/release:1.2`]);
    expect(result.stdout).toContain(
      `Copied [registry] ${host}/release:mr-1 => [registry] ${host}/release:1.2`,
    );
    expect(statusLines(result.stdout).filter(([p]) => p === "Copied")).toEqual([]);
    expect((await manifestFromRegistry("release", "1.2")).digest).toBe(index.digest);
  });

  test("registry -> registry across repositories: blobs are Mounted, manifests Copied", async () => {
    const { b, index } = storyLayout("1.2");
    await cp([`--from-oci-layout`, `${b.dir}:1.2`, `${host}/team-a/app:1.2`]);
    const result = await cp([`${host}/team-a/app:1.2`, `${host}/team-b/app`]);
    const lines = statusLines(result.stdout);
    const graph = graphOf(b.dir, index);
    const blobs = graph.filter((d) => d.mediaType !== MT.index && d.mediaType !== MT.manifest);
    const manifests = graph.filter((d) => d.mediaType === MT.index || d.mediaType === MT.manifest);
    expect(
      lines
        .filter(([p]) => p === "Mounted")
        .map(([, d]) => d)
        .sort(),
    ).toEqual(blobs.map((d) => d.digest.slice(7, 19)).sort());
    expect(
      lines
        .filter(([p]) => p === "Copied")
        .map(([, d]) => d)
        .sort(),
    ).toEqual(manifests.map((d) => d.digest.slice(7, 19)).sort());
    // Without a destination tag the copy is by digest, as in ORAS: nothing is tagged.
    expect(result.stdout).toContain(`=> [registry] ${host}/team-b/app@${index.digest}\n`);
    for (const desc of graph) expect(await registryHas("team-b/app", desc)).toBe(true);
    expect((await manifestFromRegistry("team-b/app", "1.2")).status).toBe(404);
  });

  test("registry -> layout: the graph lands verified, untagged without a destination tag (ORAS)", async () => {
    const { b, index } = storyLayout();
    await cp([`oci-layout://${b.dir}`, `${host}/fetch:1.2`]);
    const out = join(tempDir(), "layout");
    const result = await cp([`${host}/fetch:1.2`, `oci-layout://${out}`]);
    expect(result.stdout).toContain(
      `Copied [registry] ${host}/fetch:1.2 => [oci-layout] ${out}@${index.digest}\n`,
    );
    for (const desc of graphOf(b.dir, index)) expect(layoutHas(out, desc)).toBe(true);
    expect(indexEntries(out)).toEqual([{ mediaType: MT.index, digest: index.digest, size: index.size }]);
  });

  test("skopeo inspects and copies (digests preserved) what skiff copied into the registry and a layout", async () => {
    const { b, index, arm } = imageLayout("1.2");
    await cp([`oci-layout://${b.dir}:1.2`, `${host}/skopeo-reads:1.2`]);
    const raw = skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${host}/skopeo-reads:1.2`]);
    expect(raw.status, raw.stderr).toBe(0);
    expect(sha256(new TextEncoder().encode(raw.stdout))).toBe(index.digest);
    const image = skopeo([
      "inspect",
      "--tls-verify=false",
      "--override-os",
      "linux",
      "--override-arch",
      "arm64",
      "--override-variant",
      "v8",
      `docker://${host}/skopeo-reads:1.2`,
    ]);
    expect(image.status, image.stderr).toBe(0);
    const inspected = JSON.parse(image.stdout);
    expect(inspected.Digest).toBe(index.digest);
    expect(inspected.Architecture).toBe("arm64");
    expect(inspected.Layers).toEqual(
      graphOf(b.dir, arm)
        .slice(2)
        .map((d) => d.digest),
    );
    const fromRegistry = join(tempDir(), "from-registry");
    const copied = skopeo([
      "copy",
      "--all",
      "--preserve-digests",
      "--src-tls-verify=false",
      `docker://${host}/skopeo-reads:1.2`,
      `oci:${fromRegistry}:1.2`,
    ]);
    expect(copied.status, copied.stderr).toBe(0);
    for (const desc of graphOf(b.dir, index)) expect(layoutHas(fromRegistry, desc)).toBe(true);

    // registry -> layout by skiff, then skopeo reads and copies that layout on.
    const layout = join(tempDir(), "by-skiff");
    await cp([`${host}/skopeo-reads:1.2`, `oci-layout://${layout}:1.2`]);
    const fromLayout = skopeo(["inspect", "--raw", `oci:${layout}:1.2`]);
    expect(fromLayout.status, fromLayout.stderr).toBe(0);
    expect(sha256(new TextEncoder().encode(fromLayout.stdout))).toBe(index.digest);
    const again = join(tempDir(), "skopeo-again");
    const onward = skopeo(["copy", "--all", "--preserve-digests", `oci:${layout}:1.2`, `oci:${again}:x`]);
    expect(onward.status, onward.stderr).toBe(0);
    for (const desc of graphOf(b.dir, index)) expect(layoutHas(again, desc)).toBe(true);
  });
});

describe("--platform", () => {
  test("registry -> layout copies only the matching manifest, untagged (ORAS); --format json describes it", async () => {
    const { b, arm, amd } = storyLayout();
    await cp([`oci-layout://${b.dir}`, `${host}/platforms:1.2`]);
    const out = join(tempDir(), "arm");
    const result = await cp([
      "--platform",
      "linux/arm64/v8:el8",
      "--format",
      "json",
      `${host}/platforms:1.2`,
      `oci-layout://${out}`,
    ]);
    const json = JSON.parse(result.stdout);
    expect(Object.keys(json).slice(0, 4)).toEqual(["reference", "mediaType", "digest", "size"]);
    expect(json).toMatchObject({
      reference: `${out}@${arm.digest}`,
      mediaType: MT.manifest,
      digest: arm.digest,
      size: arm.size,
    });
    expect(json.artifactType).toBe("application/vnd.example+type");
    for (const desc of graphOf(b.dir, arm)) expect(layoutHas(out, desc)).toBe(true);
    for (const desc of graphOf(b.dir, amd)) expect(layoutHas(out, desc)).toBe(false);
    const entries = indexEntries(out);
    expect(entries.length).toBe(1);
    expect(entries[0]!.digest).toBe(arm.digest);
    expect(entries[0]!.annotations?.[REF_NAME]).toBeUndefined();
  });

  test("layout -> registry with --platform and a go-template", async () => {
    const { b, amd } = storyLayout();
    const result = await cp([
      "--platform",
      "linux/amd64:el8",
      "--format",
      "go-template={{.reference}} {{.digest}}",
      `oci-layout://${b.dir}`,
      `${host}/amd-only:el8`,
    ]);
    expect(result.stdout).toBe(`${host}/amd-only@${amd.digest} ${amd.digest}`);
    expect((await manifestFromRegistry("amd-only", "el8")).digest).toBe(amd.digest);
  });

  test("no match is an error that lists what there is", async () => {
    const { b } = storyLayout();
    const result = await runSkiff([
      "cp",
      "--platform",
      "linux/s390x",
      `oci-layout://${b.dir}`,
      `${host}/none:v1`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("linux/s390x");
    expect(result.stderr).toContain("linux/arm64/v8:el8");
    expect((await manifestFromRegistry("none", "v1")).status).toBe(404);
  });
});

describe("layouts and tars", () => {
  test("layout -> layout: tagless source, untagged destination entry; DST:a,b tags both", async () => {
    const { b, index } = storyLayout();
    const out = join(tempDir(), "copy");
    const result = await cp([`oci-layout://${b.dir}`, `oci-layout://${out}`]);
    expect(result.stdout).toContain(`Copied [oci-layout] ${b.dir} => [oci-layout] ${out}@${index.digest}\n`);
    expect(indexEntries(out)).toEqual([{ mediaType: MT.index, digest: index.digest, size: index.size }]);
    for (const desc of graphOf(b.dir, index)) expect(layoutHas(out, desc)).toBe(true);
    await cp(["--from-oci-layout", b.dir, "--to-oci-layout", `${out}:a,b`]);
    const tags = indexEntries(out).map((e) => e.annotations?.[REF_NAME]);
    expect(tags.sort()).toEqual(["a", "b"]);
  });

  test("--from-oci-layout-path / --to-oci-layout-path take the tag as the argument", async () => {
    const { b, index } = storyLayout("v7");
    const out = join(tempDir(), "by-path");
    await cp(["--from-oci-layout-path", b.dir, "--to-oci-layout-path", out, "v7", "release"]);
    const entries = indexEntries(out);
    expect(entries.map((e) => [e.digest, e.annotations?.[REF_NAME]])).toEqual([[index.digest, "release"]]);
  });

  test("tar -> layout and tar -> registry (plain and gzip tars)", async () => {
    const { b, index } = storyLayout("1.2");
    for (const gzip of [false, true]) {
      const tar = b.tar(gzip);
      const out = join(tempDir(), "from-tar");
      const toLayout = await cp([`oci-layout://${tar}:1.2`, `oci-layout://${out}:1.2`]);
      expect(toLayout.stdout).toContain(`Copied [oci-layout] ${tar}:1.2 => [oci-layout] ${out}:1.2\n`);
      for (const desc of graphOf(b.dir, index)) expect(layoutHas(out, desc)).toBe(true);
      const repo = gzip ? "from-tgz" : "from-tar";
      await cp(["--from-oci-layout", `${tar}:1.2`, `${host}/${repo}:1.2`]);
      for (const desc of graphOf(b.dir, index)) expect(await registryHas(repo, desc)).toBe(true);
      expect((await manifestFromRegistry(repo, "1.2")).digest).toBe(index.digest);
    }
  });

  test("a digest source is copied by digest; the copy alias works", async () => {
    const { b, index } = storyLayout("v1");
    const result = await runSkiff([
      "copy",
      "--no-tty",
      `oci-layout://${b.dir}@${index.digest}`,
      `${host}/by-digest`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`=> [registry] ${host}/by-digest@${index.digest}\n`);
    expect((await manifestFromRegistry("by-digest", index.digest)).digest).toBe(index.digest);
    const tags = await fetch(`http://${host}/v2/by-digest/tags/list`).then((r) => r.json());
    expect(tags.tags ?? []).toEqual([]);
  });

  test("--concurrency 1 copies the same graph", async () => {
    const { b, index } = storyLayout();
    const out = join(tempDir(), "one-at-a-time");
    await cp(["--concurrency", "1", `oci-layout://${b.dir}`, `oci-layout://${out}:x`]);
    expect(readdirSync(join(out, "blobs", "sha256")).length).toBe(graphOf(b.dir, index).length);
  });
});
