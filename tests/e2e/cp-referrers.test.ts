/**
 * skiff cp -r with the compiled binary against the real registry (which has no referrers API, so
 * the sha256-<hex> tag fallback is exercised for real): referrers of an index, of its children and
 * of referrers follow the graph between repositories and into and out of layouts; without -r none do.
 * Referrers are made with skiff attach.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, LayoutBuilder, MT, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { skiffOk } from "../harness/skiff.ts";

let registry: RunningRegistry;
let host: string;
let work: string;
let index: Descriptor;
let arm: Descriptor;
const referrers: Record<"sig" | "sbom" | "sbomSig", string> = { sig: "", sbom: "", sbomSig: "" };

/** The stdout of a skiff run in the work folder that must succeed. */
const ok = async (args: string[]) => (await skiffOk(args, { cwd: work })).stdout;

const fallbackTag = (digest: string): string => `sha256-${digest.slice(7)}`;

/** The registry's referrers fallback index for `subject` (its manifest digests), or [] when absent. */
async function fallbackReferrers(repo: string, subject: string): Promise<string[]> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${fallbackTag(subject)}`, {
    headers: { Accept: MT.index },
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  expect(response.status).toBe(200);
  const json = (await response.json()) as { manifests: Descriptor[] };
  return json.manifests.map((m) => m.digest).sort();
}

async function registryHasManifest(repo: string, digest: string): Promise<boolean> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${digest}`, {
    method: "HEAD",
    headers: { Accept: [MT.index, MT.manifest].join(", ") },
  });
  return response.status === 200;
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = tempDir("skiff-cp-referrers-");
  writeFileSync(join(work, "sig.txt"), "signature of the index\n");
  writeFileSync(join(work, "sbom.json"), '{"packages":["arm"]}\n');
  writeFileSync(join(work, "sbom-sig.txt"), "signature of the sbom\n");
  const b = new LayoutBuilder();
  arm = b.platformManifest(
    { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
    { "arm.txt": "arm" },
  );
  const amd = b.platformManifest(
    { os: "linux", architecture: "amd64", "os.version": "el8" },
    { "amd.txt": "amd" },
  );
  index = b.index([arm, amd]);
  b.writeIndex([{ ...index, tag: "v1" }]);
  await ok(["cp", `oci-layout://${b.dir}:v1`, `${host}/signed:v1`]);
  const attach = async (args: string[]): Promise<string> =>
    JSON.parse(await ok(["attach", "--format", "json", "--no-created", ...args])).digest;
  referrers.sig = await attach([
    "--artifact-type",
    "application/vnd.example.sig.v1",
    `${host}/signed:v1`,
    "sig.txt",
  ]);
  referrers.sbom = await attach([
    "--artifact-type",
    "application/vnd.example.sbom.v1",
    "--platform",
    "linux/arm64/v8:el8",
    `${host}/signed:v1`,
    "sbom.json",
  ]);
  referrers.sbomSig = await attach([
    "--artifact-type",
    "application/vnd.example.sig.v1",
    `${host}/signed@${referrers.sbom}`,
    "sbom-sig.txt",
  ]);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("cp -r", () => {
  test("the source has what the tests expect (fallback indexes written by attach)", async () => {
    expect(await fallbackReferrers("signed", index.digest)).toEqual([referrers.sig]);
    expect(await fallbackReferrers("signed", arm.digest)).toEqual([referrers.sbom]);
    expect(await fallbackReferrers("signed", referrers.sbom)).toEqual([referrers.sbomSig]);
  });

  test("registry -> registry: referrers of the index, of a child and of a referrer, with fallback indexes", async () => {
    const out = await ok(["cp", "-r", "--no-tty", `${host}/signed:v1`, `${host}/signed-copy:v1`]);
    expect(out).toContain(`Copied [registry] ${host}/signed:v1 => [registry] ${host}/signed-copy:v1\n`);
    for (const digest of Object.values(referrers))
      expect(await registryHasManifest("signed-copy", digest)).toBe(true);
    expect(await fallbackReferrers("signed-copy", index.digest)).toEqual([referrers.sig]);
    expect(await fallbackReferrers("signed-copy", arm.digest)).toEqual([referrers.sbom]);
    expect(await fallbackReferrers("signed-copy", referrers.sbom)).toEqual([referrers.sbomSig]);
    const tree = await ok(["discover", "--format", "json", `${host}/signed-copy:v1`]);
    expect(tree).toContain(referrers.sig);
  });

  test("without -r no referrer is copied and no fallback tag appears", async () => {
    await ok(["cp", `${host}/signed:v1`, `${host}/unsigned-copy:v1`]);
    for (const digest of Object.values(referrers)) {
      expect(await registryHasManifest("unsigned-copy", digest)).toBe(false);
    }
    expect(await fallbackReferrers("unsigned-copy", index.digest)).toEqual([]);
    const tags = (await fetch(`http://${host}/v2/unsigned-copy/tags/list`).then((r) => r.json())) as {
      tags: string[];
    };
    expect(tags.tags).toEqual(["v1"]);
  });

  test("registry -> layout -> registry: referrers survive the round trip and discover finds them in the layout", async () => {
    const layout = join(tempDir(), "with-referrers");
    await ok(["cp", "-r", `${host}/signed:v1`, `oci-layout://${layout}:v1`]);
    const entries = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests as Descriptor[];
    const digests = entries.map((e) => e.digest);
    for (const digest of Object.values(referrers)) expect(digests).toContain(digest);
    const found = await ok(["discover", "--format", "json", "--oci-layout", `${layout}:v1`]);
    expect(found).toContain(referrers.sig);
    const armReferrers = await ok([
      "discover",
      "--format",
      "json",
      "--oci-layout",
      `${layout}@${arm.digest}`,
    ]);
    expect(armReferrers).toContain(referrers.sbom);
    expect(armReferrers).toContain(referrers.sbomSig);

    await ok(["cp", "-r", `oci-layout://${layout}:v1`, `${host}/restored-referrers:v1`]);
    expect(await fallbackReferrers("restored-referrers", index.digest)).toEqual([referrers.sig]);
    expect(await fallbackReferrers("restored-referrers", arm.digest)).toEqual([referrers.sbom]);
    expect(await fallbackReferrers("restored-referrers", referrers.sbom)).toEqual([referrers.sbomSig]);
  });

  test("--platform -r copies the selected manifest and its referrers only", async () => {
    const layout = join(tempDir(), "arm-only");
    await ok(["cp", "-r", "--platform", "linux/arm64/v8:el8", `${host}/signed:v1`, `oci-layout://${layout}`]);
    const digests = (
      JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests as Descriptor[]
    ).map((e) => e.digest);
    expect(digests.sort()).toEqual([arm.digest, referrers.sbom, referrers.sbomSig].sort());
  });

  test("a referrer copied on its own, by digest, lands in the destination's fallback index (as with ORAS)", async () => {
    await ok(["cp", `${host}/signed:v1`, `${host}/lone-referrer:v1`]);
    expect(await fallbackReferrers("lone-referrer", index.digest)).toEqual([]);
    await ok(["cp", `${host}/signed@${referrers.sig}`, `${host}/lone-referrer`]);
    expect(await fallbackReferrers("lone-referrer", index.digest)).toEqual([referrers.sig]);
  });

  test("a second cp -r reports Exists and keeps the fallback indexes as they are", async () => {
    const out = await ok(["cp", "-r", "--no-tty", `${host}/signed:v1`, `${host}/signed-copy:v1`]);
    expect(out).not.toMatch(/^Copying /m);
    expect(out).toMatch(/^Exists /m);
    expect(await fallbackReferrers("signed-copy", index.digest)).toEqual([referrers.sig]);
  });
});
