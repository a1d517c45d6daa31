/**
 * `manifest index create|update` behave as ORAS 1.3.2's do, through the compiled binary against a
 * real registry and real layouts: the same index bytes (so the same digest) for the same inputs,
 * empty indexes, `--artifact-type ""`, ORAS's update order, "nothing to update", and the error
 * phrases scripts look for. The pinned digests below are the ones ORAS 1.3.2 prints.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, LayoutBuilder, MT, REF_NAME, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

setDefaultTimeout(60_000);

/** Digests ORAS 1.3.2 prints for indexes that do not depend on any content. */
const EMPTY_INDEX = "sha256:dff9de10919148711140d349bf03f1a99eb06f94b03e51715ccebfa7cdc518e2";
const EMPTY_WITH_ARTIFACT_TYPE = "sha256:15807c5ebb302eeef20fec189ef62351ec3061db16945750ffb422a5f276496b";
const EMPTY_WITH_ANNOTATION = "sha256:e11759b43e6edfe5adff4ff638911b3cfd82417cf25e5c3a2319b6802f9ee4d1";

let registry: RunningRegistry;
let host: string;

/** One layout with two images, an image whose config is not JSON, and an artifact (no platform). */
const source = new LayoutBuilder();
const image = (architecture: string, content: string) =>
  source.manifest({
    config: source.json({ architecture, os: "linux" }, MT.config),
    layers: [source.file(`${architecture}.txt`, content)],
  });
const amd64 = image("amd64", "amd64 build");
const arm64 = image("arm64", "arm64 build");
const s390x = image("s390x", "s390x build");
const nonJson = source.manifest({
  config: source.blob("sometext", "application/vnd.unknown.config.v1+json"),
  layers: [source.file("artifactfile", "hello")],
});
const artifact = source.manifest(
  { artifactType: "application/vnd.test-example", layers: [source.file("bar", "bar")] },
  {},
);
source.writeIndex([
  { ...amd64, tag: "linux-amd64" },
  { ...arm64, tag: "linux-arm64" },
  { ...s390x, tag: "linux-s390x" },
  { ...nonJson, tag: "nonjson-config" },
  { ...artifact, tag: "with-artifact-type" },
]);

/** The entry ORAS writes for an image: mediaType, digest, size, platform from the config. */
const entry = (desc: { digest: string; size: number }, architecture: string) => ({
  mediaType: MT.manifest,
  digest: desc.digest,
  size: desc.size,
  platform: { architecture, os: "linux" },
});

function digestOf(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** The exact index ORAS makes from these entries (Go's field order, no annotations). */
function orasIndex(entries: unknown[], artifactType?: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.index,
    ...(artifactType ? { artifactType } : {}),
    manifests: entries,
  });
}

async function skiff(...args: string[]) {
  const result = await runSkiff(args);
  return { ...result, exitCode: result.code ?? -1 };
}

function digestLine(stdout: string): string {
  return /^Digest: (sha256:[0-9a-f]{64})$/m.exec(stdout)?.[1] ?? "(no Digest line)";
}

/** A fresh copy of the source layout. */
function layout(): string {
  const dir = join(tempDir("skiff-oras-index-"), "layout");
  cpSync(source.dir, dir, { recursive: true });
  return dir;
}

let repoCounter = 0;
/** A registry repository holding the source layout's tagged manifests. */
async function repository(): Promise<string> {
  const repo = `${host}/index-compat/r${++repoCounter}`;
  for (const tag of ["linux-amd64", "linux-arm64", "linux-s390x", "nonjson-config", "with-artifact-type"]) {
    const copied = await skiff("cp", `oci-layout://${source.dir}:${tag}`, `${repo}:${tag}`);
    expect(copied.exitCode, copied.stderr).toBe(0);
  }
  return repo;
}

async function fetchManifest(reference: string): Promise<string> {
  const result = await skiff("manifest", "fetch", reference);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

function expectFailure(result: { exitCode: number; stderr: string }, phrase: string): void {
  expect(result.exitCode).not.toBe(0);
  expect(result.stderr.split("\n")[0]).toContain(phrase);
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("manifest index create makes ORAS's index", () => {
  test("no sources: an empty index, with the digests ORAS prints", async () => {
    const dir = layout();
    // `pack` is ORAS's other name for create.
    const empty = await skiff("manifest", "index", "pack", "--oci-layout", `${dir}:empty`);
    expect(empty.exitCode, empty.stderr).toBe(0);
    expect(digestLine(empty.stdout)).toBe(EMPTY_INDEX);
    const typed = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:typed`,
      "--artifact-type",
      "application/vnd.test-ignored",
      "--artifact-type",
      "application/vnd.test-example",
    );
    expect(digestLine(typed.stdout)).toBe(EMPTY_WITH_ARTIFACT_TYPE);
    const annotated = await skiff(
      "manifest",
      "index",
      "create",
      `${host}/index-compat/empty:v1`,
      "-a",
      "image-anno-key=image-anno-value",
    );
    expect(digestLine(annotated.stdout)).toBe(EMPTY_WITH_ANNOTATION);
    expect(await fetchManifest(`${host}/index-compat/empty:v1`)).toBe(
      `{"schemaVersion":2,"mediaType":"${MT.index}","manifests":[],"annotations":{"image-anno-key":"image-anno-value"}}`,
    );
  });

  test("sources by tag and digest: ORAS's bytes, no created annotation unless --created", async () => {
    const repo = await repository();
    const expected = orasIndex([entry(arm64, "arm64"), entry(amd64, "amd64")]);
    const byTag = await skiff("manifest", "index", "create", `${repo}:latest`, "linux-arm64", amd64.digest);
    expect(byTag.exitCode, byTag.stderr).toBe(0);
    expect(digestLine(byTag.stdout)).toBe(digestOf(expected));
    expect(await fetchManifest(`${repo}:latest`)).toBe(expected);

    const stamped = await skiff("manifest", "index", "create", "--created", `${repo}:stamped`, "linux-arm64");
    expect(stamped.exitCode, stamped.stderr).toBe(0);
    const json = JSON.parse(await fetchManifest(`${repo}:stamped`));
    expect(json.annotations["org.opencontainers.image.created"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("a source as TAG@DIGEST: the digest decides, as in ORAS (the tag is only its name)", async () => {
    const repo = await repository();
    // linux-amd64@<arm64 digest> names the arm64 image, the way ORAS reads it.
    const pinned = `linux-amd64@${arm64.digest}`;
    const result = await skiff("manifest", "index", "create", "--no-tty", `${repo}:pinned`, pinned);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toStartWith(`Fetching  ${pinned}\nFetched   ${arm64.digest} ${pinned}\n`);
    const expected = orasIndex([entry(arm64, "arm64")]);
    expect(digestLine(result.stdout)).toBe(digestOf(expected));
    expect(await fetchManifest(`${repo}:pinned`)).toBe(expected);
    const updated = await skiff(
      "manifest",
      "index",
      "update",
      `${repo}:pinned`,
      "--add",
      `x@${amd64.digest}`,
    );
    expect(updated.exitCode, updated.stderr).toBe(0);
    expect(await fetchManifest(`${repo}:pinned`)).toBe(
      orasIndex([entry(arm64, "arm64"), entry(amd64, "amd64")]),
    );
  });

  test('a non-JSON config and an artifact need no platform; --artifact-type "" is none', async () => {
    const dir = layout();
    const result = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:mixed`,
      "--artifact-type",
      "",
      "nonjson-config",
      "with-artifact-type",
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const expected = orasIndex([
      { mediaType: MT.manifest, digest: nonJson.digest, size: nonJson.size },
      {
        mediaType: MT.manifest,
        digest: artifact.digest,
        size: artifact.size,
        artifactType: "application/vnd.test-example",
      },
    ]);
    expect(digestLine(result.stdout)).toBe(digestOf(expected));
    expect(await fetchManifest(`oci-layout://${dir}:mixed`)).toBe(expected);
  });

  test("--output FILE and --output - write ORAS's bytes and push nothing", async () => {
    const dir = layout();
    const file = join(tempDir("skiff-oras-index-out-"), "createdIndex");
    const toFile = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:out`,
      amd64.digest,
      "--output",
      file,
    );
    expect(toFile.exitCode, toFile.stderr).toBe(0);
    const expected = orasIndex([entry(amd64, "amd64")]);
    expect(readFileSync(file, "utf8")).toBe(expected);
    expect(digestLine(toFile.stdout)).toBe(digestOf(expected));
    const toStdout = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:out`,
      amd64.digest,
      "--output",
      "-",
    );
    expect(toStdout.stdout).toBe(expected);
    const tags = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests.map(
      (m: { annotations?: Record<string, string> }) => m.annotations?.[REF_NAME],
    );
    expect(tags).not.toContain("out");
  });

  test("refusals carry ORAS's phrases", async () => {
    const dir = layout();
    const missing = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:latest`,
      "does-not-exist",
    );
    expectFailure(missing, "could not find");
    expect(missing.stderr).toContain("does-not-exist");
    expectFailure(
      await skiff(
        "manifest",
        "index",
        "create",
        "--oci-layout",
        `${dir}:x`,
        "--artifact-type",
        "invalid",
        amd64.digest,
      ),
      "invalid media type",
    );
    expectFailure(
      await skiff("manifest", "index", "create", "--oci-layout", `${dir}:x`, amd64.digest, "-a", "foo:bar"),
      "annotation value doesn't match the required format",
    );
  });
});

describe("manifest index update behaves as ORAS's", () => {
  test("remove, then add, then merge; by digest with --tag; the digests ORAS prints", async () => {
    const repo = await repository();
    const created = await skiff("manifest", "index", "create", repo, amd64.digest, arm64.digest);
    expect(created.exitCode, created.stderr).toBe(0);
    const first = digestLine(created.stdout);
    expect(first).toBe(digestOf(orasIndex([entry(amd64, "amd64"), entry(arm64, "arm64")])));
    const other = await skiff("manifest", "index", "create", `${repo}:other`, s390x.digest);
    expect(other.exitCode, other.stderr).toBe(0);

    const updated = await skiff(
      "manifest",
      "index",
      "update",
      `${repo}@${first}`,
      "--merge",
      "other",
      "--remove",
      amd64.digest,
      "--add",
      "nonjson-config",
      "--tag",
      "updated",
    );
    expect(updated.exitCode, updated.stderr).toBe(0);
    const expected = orasIndex([
      entry(arm64, "arm64"),
      { mediaType: MT.manifest, digest: nonJson.digest, size: nonJson.size },
      entry(s390x, "s390x"),
    ]);
    expect(digestLine(updated.stdout)).toBe(digestOf(expected));
    expect(await fetchManifest(`${repo}:updated`)).toBe(expected);
  });

  test('--artifact-type "" removes the artifact type', async () => {
    const dir = layout();
    const made = await skiff(
      "manifest",
      "index",
      "create",
      "--oci-layout",
      `${dir}:index`,
      "--artifact-type",
      "application/vnd.old",
      amd64.digest,
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const updated = await skiff(
      "manifest",
      "index",
      "update",
      "--oci-layout",
      `${dir}:index`,
      "--artifact-type",
      "",
    );
    expect(updated.exitCode, updated.stderr).toBe(0);
    expect(await fetchManifest(`oci-layout://${dir}:index`)).toBe(orasIndex([entry(amd64, "amd64")]));
  });

  test("no change requested: ORAS's message, exit 0, nothing read", async () => {
    const result = await skiff("manifest", "index", "update", `${host}/index-compat/none:nothing-to-update`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Nothing to update as no change is requested\n");
  });

  test("refusals carry ORAS's phrases and change nothing", async () => {
    const repo = await repository();
    const made = await skiff("manifest", "index", "create", `${repo}:index`, amd64.digest);
    expect(made.exitCode, made.stderr).toBe(0);
    const before = await fetchManifest(`${repo}:index`);
    const update = (...args: string[]) => skiff("manifest", "index", "update", ...args);

    expectFailure(await update(repo, "--add", arm64.digest), "no tag or digest specified");
    expectFailure(await update(`${repo}:does-not-exist`, "--add", arm64.digest), "could not find");
    expectFailure(await update(`${repo}:index`, "--add", "does-not-exist"), "could not find");
    expectFailure(await update(`${repo}:index`, "--merge", "does-not-exist"), "could not find");
    expectFailure(await update(`${repo}:index`, "--remove", "latest"), "is not a digest");
    expectFailure(await update(`${repo}:index`, "--remove", arm64.digest), "does not exist");
    expectFailure(await update(`${repo}:linux-amd64`, "--add", arm64.digest), "is not an index");
    expectFailure(await update(`${repo}:index`, "--merge", "linux-amd64"), "is not an index");
    expectFailure(
      await update(`${repo}:index`, "--add", arm64.digest, "--output", "-", "--tag", "v2"),
      "--tag, --output cannot be used at the same time",
    );
    expectFailure(await update(`${repo}:index`, "--artifact-type", "invalid"), "invalid media type");
    expect(await fetchManifest(`${repo}:index`)).toBe(before);

    // ORAS's form --oci-layout PATH needs a tag or digest; skiff's oci-layout://PATH may be tagless.
    const dir = layout();
    expectFailure(await update("--oci-layout", dir, "--add", arm64.digest), "no tag or digest specified");
  });
});
