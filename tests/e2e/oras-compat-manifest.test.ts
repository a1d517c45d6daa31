/**
 * `manifest fetch|fetch-config|push|delete` and `blob fetch|push|delete` behave as ORAS 1.3.2's
 * do, through the compiled binary against a real registry and real layouts: `--media-type`,
 * the flag combinations ORAS refuses, `--oci-layout` on the deletes, the question on stdout,
 * untagged manifests in a layout's index.json, and the error phrases scripts look for.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, LayoutBuilder, MT, REF_NAME, sha256, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { type RunOptions, runSkiff } from "../harness/skiff.ts";

setDefaultTimeout(60_000);

let registry: RunningRegistry;
let repo: string;

/** A layout with a two-platform index (`multi`) and an image (`foobar`). */
const source = new LayoutBuilder();
const image = (architecture: string) => {
  const platform = { os: "linux", architecture };
  const desc = source.manifest({
    config: source.imageConfig(platform),
    layers: [source.file(`${architecture}.txt`, `${architecture} build`)],
  });
  return { ...desc, platform };
};
const amd64 = image("amd64");
const arm64 = image("arm64");
const multi = source.index([amd64, arm64]);
const fooBlob = source.file("foo", "foo");
const foobar = source.manifest({ layers: [fooBlob] });
source.writeIndex([
  { ...multi, tag: "multi" },
  { ...foobar, tag: "foobar" },
]);

/** A fresh copy of the source layout. */
function layout(): string {
  const dir = join(tempDir("skiff-oras-manifest-"), "layout");
  cpSync(source.dir, dir, { recursive: true });
  return dir;
}

async function skiff(args: string[], options: RunOptions = {}) {
  const result = await runSkiff(args, options);
  return { ...result, exitCode: result.code ?? -1 };
}

async function ok(args: string[], options: RunOptions = {}) {
  const result = await skiff(args, options);
  expect(result.exitCode, result.stderr).toBe(0);
  return result;
}

/** Fails, says `phrase` on the first error line, and prints nothing on stdout. */
function expectRefused(result: { exitCode: number; stdout: string; stderr: string }, phrase: string): void {
  expect(result.exitCode).not.toBe(0);
  expect(result.stderr.split("\n")[0]).toContain(phrase);
  expect(result.stdout).toBe("");
}

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function indexEntries(dir: string): IndexEntry[] {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests;
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  repo = `${registry.localhost}/compat/images`;
  for (const tag of ["multi", "foobar"])
    await ok(["cp", `oci-layout://${source.dir}:${tag}`, `${repo}:${tag}`]);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("manifest fetch", () => {
  test("--media-type: what the registry serves as one of those types, else not found", async () => {
    const index = await ok(["manifest", "fetch", `${repo}@${multi.digest}`, "--media-type", MT.index]);
    expect(index.stdout).toBe(
      readFileSync(join(source.dir, "blobs", "sha256", multi.digest.slice(7)), "utf8"),
    );
    const both = `${MT.index},${MT.manifest}`;
    const picked = await ok([
      "manifest",
      "fetch",
      `${repo}:multi`,
      "--platform",
      "linux/amd64",
      "--media-type",
      both,
      "--descriptor",
    ]);
    expect(JSON.parse(picked.stdout).digest).toBe(amd64.digest);
    const repeated = await ok([
      "manifest",
      "fetch",
      `${repo}:multi`,
      "--media-type",
      MT.manifest,
      "--media-type",
      MT.index,
      "--descriptor",
    ]);
    expect(JSON.parse(repeated.stdout).digest).toBe(multi.digest);

    // docker-registry answers 404 when the Accept header does not allow the manifest's type.
    const notAnIndex = await skiff(["manifest", "fetch", `${repo}:foobar`, "--media-type", MT.index]);
    expectRefused(notAnIndex, "not found");
    const unknown = await skiff([
      "manifest",
      "fetch",
      `${repo}@${amd64.digest}`,
      "--media-type",
      "this.will.not.be.found",
    ]);
    expectRefused(unknown, "not found");
    expect(unknown.stderr).toContain(amd64.digest);

    const inLayout = await skiff([
      "manifest",
      "fetch",
      "--oci-layout",
      `${layout()}@${multi.digest}`,
      "--media-type",
      MT.manifest,
    ]);
    expectRefused(inLayout, "`--media-type` cannot be used with `--oci-layout` at the same time");
  });

  test("the flag combinations ORAS refuses", async () => {
    const fetch = (...args: string[]) => skiff(["manifest", "fetch", `${repo}:foobar`, ...args]);
    expectRefused(
      await fetch("--output", "-", "--format", "json"),
      "`--output -` cannot be used with `--format",
    );
    expectRefused(
      await fetch("--descriptor", "--format", "json"),
      "--format, --descriptor cannot be used at the same time",
    );
    expectRefused(
      await fetch("--output", "-", "--descriptor"),
      "`--descriptor` cannot be used with `--output -`",
    );
    expectRefused(
      await fetch("--format", "json", "--pretty"),
      "--format, --pretty cannot be used at the same time",
    );
    const config = await skiff([
      "manifest",
      "fetch-config",
      `${repo}:foobar`,
      "--output",
      "-",
      "--descriptor",
    ]);
    expectRefused(config, "`--descriptor` cannot be used with `--output -`");
  });

  test("--output FILE --format json: the file gets the manifest, stdout the JSON result", async () => {
    const file = join(tempDir("skiff-oras-manifest-out-"), "fetched");
    const result = await ok([
      "manifest",
      "fetch",
      `${repo}@${amd64.digest}`,
      "--output",
      file,
      "--format",
      "json",
    ]);
    const stored = readFileSync(join(source.dir, "blobs", "sha256", amd64.digest.slice(7)), "utf8");
    expect(readFileSync(file, "utf8")).toBe(stored);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      reference: `${repo}@${amd64.digest}`,
      digest: amd64.digest,
      size: amd64.size,
    });
    expect(json.content).toEqual(JSON.parse(stored));
  });

  test("ORAS's aliases: manifest show, blob get", async () => {
    const shown = await ok(["manifest", "show", "--descriptor", `${repo}:foobar`]);
    expect(JSON.parse(shown.stdout).digest).toBe(foobar.digest);
    const got = await ok(["blob", "get", "--output", "-", `${repo}@${fooBlob.digest}`]);
    expect(got.stdout).toBe("foo");
  });

  test("a layout tag's descriptor is its index.json entry, ref name included", async () => {
    const dir = layout();
    const tagged = await ok(["manifest", "fetch", "--oci-layout", `${dir}:multi`, "--descriptor"]);
    expect(JSON.parse(tagged.stdout)).toEqual({
      mediaType: MT.index,
      digest: multi.digest,
      size: multi.size,
      annotations: { [REF_NAME]: "multi" },
    });
    const picked = await ok([
      "manifest",
      "fetch",
      "--oci-layout",
      `${dir}:multi`,
      "--platform",
      "linux/arm64",
      "--descriptor",
    ]);
    expect(JSON.parse(picked.stdout)).toEqual({
      mediaType: MT.manifest,
      digest: arm64.digest,
      size: arm64.size,
      platform: arm64.platform,
    });
  });

  test("a layout digest's descriptor is media type, digest and size only, for fetch and delete (as ORAS)", async () => {
    const dir = layout();
    // An index.json entry with annotations and an artifact type of its own.
    const indexFile = join(dir, "index.json");
    const index = JSON.parse(readFileSync(indexFile, "utf8"));
    for (const entry of index.manifests) {
      if (entry.digest === foobar.digest) {
        entry.annotations = { ...entry.annotations, foo: "bar" };
        entry.artifactType = "application/vnd.example";
      }
    }
    writeFileSync(indexFile, JSON.stringify(index));
    const bare = { mediaType: MT.manifest, digest: foobar.digest, size: foobar.size };
    const byTag = await ok(["manifest", "fetch", "--oci-layout", `${dir}:foobar`, "--descriptor"]);
    expect(JSON.parse(byTag.stdout)).toEqual({
      ...bare,
      annotations: { foo: "bar", [REF_NAME]: "foobar" },
      artifactType: "application/vnd.example",
    });
    const byDigest = await ok([
      "manifest",
      "fetch",
      "--oci-layout",
      `${dir}@${foobar.digest}`,
      "--descriptor",
    ]);
    expect(byDigest.stdout).toBe(JSON.stringify(bare));
    const deleted = await ok([
      "manifest",
      "delete",
      "--oci-layout",
      `${dir}@${foobar.digest}`,
      "-f",
      "--descriptor",
    ]);
    expect(deleted.stdout).toBe(JSON.stringify(bare));
  });

  test("no tag or digest: refused on a registry and with --oci-layout PATH; oci-layout://PATH stays tagless", async () => {
    expectRefused(await skiff(["manifest", "fetch", repo]), "no tag or digest specified");
    expectRefused(await skiff(["manifest", "fetch-config", repo]), "no tag or digest specified");
    const one = new LayoutBuilder();
    const only = one.manifest({ layers: [one.file("a", "a")] });
    one.writeIndex([{ ...only, tag: "only" }]);
    expectRefused(await skiff(["manifest", "fetch", "--oci-layout", one.dir]), "no tag or digest specified");
    expectRefused(
      await skiff(["manifest", "fetch-config", "--oci-layout", one.dir]),
      "no tag or digest specified",
    );
    const tagless = await ok(["manifest", "fetch", "--descriptor", `oci-layout://${one.dir}`]);
    expect(JSON.parse(tagless.stdout).digest).toBe(only.digest);
  });
});

describe("manifest push", () => {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: { mediaType: MT.empty, digest: sha256("{}"), size: 2 },
    layers: [],
  });

  test("into a layout without a tag: the manifest is an untagged index.json entry", async () => {
    const dir = join(tempDir("skiff-oras-manifest-push-"), "layout");
    await ok(["blob", "push", "--oci-layout", `${dir}@${sha256("{}")}`, "--size", "2", "-"], { stdin: "{}" });
    const pushed = await ok(["manifest", "push", "--oci-layout", dir, "-"], { stdin: manifest });
    expect(pushed.stdout).toContain(`Digest: ${sha256(manifest)}`);
    expect(indexEntries(dir)).toEqual([
      { mediaType: MT.manifest, digest: sha256(manifest), size: manifest.length },
    ]);
    // Pushed again with a tag: one entry, now tagged.
    await ok(["manifest", "push", "--oci-layout", `${dir}:v1`, "-"], { stdin: manifest });
    expect(indexEntries(dir).map((e) => e.annotations?.[REF_NAME])).toEqual(["v1"]);
  });

  test("ORAS's phrases: stdin twice, no media type", async () => {
    for (const flag of ["--password-stdin", "--identity-token-stdin"]) {
      const result = await skiff(["manifest", "push", `${repo}:from-stdin`, "-", flag], { stdin: manifest });
      expectRefused(result, `\`-\` read file from input and \`${flag}\``);
      expect(result.stderr.split("\n")[0]).toContain("cannot be both used");
    }
    const file = join(tempDir("skiff-oras-manifest-file-"), "manifest.json");
    writeFileSync(
      file,
      JSON.stringify({ schemaVersion: 2, config: JSON.parse(manifest).config, layers: [] }),
    );
    expectRefused(
      await skiff(["manifest", "push", `${repo}:from-file`, file]),
      "media type is not specified",
    );
  });
});

describe("manifest delete", () => {
  test("the question is on stdout; no answer cancels and keeps the manifest", async () => {
    await ok(["cp", `${repo}:foobar`, `${repo}:to-delete`]);
    const result = await ok(["manifest", "delete", `${repo}:to-delete`]);
    expect(result.stdout).toBe(
      `Are you sure you want to delete the manifest "${foobar.digest}" and all tags associated with it? [y/N] Operation cancelled.\n`,
    );
    const tags = await ok(["repo", "tags", repo]);
    expect(tags.stdout.split("\n")).toContain("to-delete");
  });

  test("--oci-layout: by tag after a yes, --descriptor with the index.json entry, missing with --force", async () => {
    const dir = layout();
    const confirmed = await ok(["manifest", "delete", "--oci-layout", `${dir}:foobar`], { stdin: "y" });
    expect(confirmed.stdout).toEndWith(`[y/N] Deleted [oci-layout] ${dir}:foobar\n`);
    const gone = await skiff(["manifest", "fetch", "--oci-layout", `${dir}:foobar`]);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toContain(": not found");

    const described = await ok(["manifest", "delete", "--oci-layout", `${dir}:multi`, "-f", "--descriptor"]);
    expect(JSON.parse(described.stdout)).toEqual({
      mediaType: MT.index,
      digest: multi.digest,
      size: multi.size,
      annotations: { [REF_NAME]: "multi" },
    });
    expect(indexEntries(dir)).toEqual([]);

    const zero = `sha256:${"0".repeat(64)}`;
    const missing = await ok(["manifest", "delete", "--oci-layout", `${dir}@${zero}`, "--force"]);
    expect(missing.stdout).toBe(`Missing ${dir}@${zero}\n`);
    const nowhere = join(tempDir("skiff-oras-manifest-none-"), "absent");
    expect((await ok(["manifest", "delete", "--oci-layout", `${nowhere}@${zero}`, "--force"])).stdout).toBe(
      `Missing ${nowhere}@${zero}\n`,
    );
    expect(existsSync(nowhere)).toBe(false);
  });

  test("refusals: no tag or digest, --descriptor without --force", async () => {
    expectRefused(await skiff(["manifest", "delete", repo]), "no tag or digest specified");
    expectRefused(
      await skiff(["manifest", "delete", "--oci-layout", layout()]),
      "no tag or digest specified",
    );
    expectRefused(
      await skiff(["manifest", "delete", `${repo}:foobar`, "--descriptor"]),
      "must apply --force to confirm the deletion",
    );
  });
});

describe("blob", () => {
  test("push: stdin twice, or no --size for stdin, with ORAS's phrases", async () => {
    const digest = sha256("blob data");
    for (const flag of ["--password-stdin", "--identity-token-stdin"]) {
      const result = await skiff(["blob", "push", `${repo}@${digest}`, flag, "-"], { stdin: "blob data" });
      expectRefused(result, `\`-\` read file from input and \`${flag}\``);
    }
    expectRefused(
      await skiff(["blob", "push", `${repo}@${digest}`, "-"], { stdin: "blob data" }),
      "`--size` must be provided if the blob is read from stdin",
    );
  });

  test("fetch and delete need a digest; fetch needs one place for the blob", async () => {
    expectRefused(await skiff(["blob", "fetch", "--descriptor", repo]), "no digest specified");
    expectRefused(await skiff(["blob", "delete", repo]), "no digest specified");
    const ref = `${repo}@${fooBlob.digest}`;
    expectRefused(
      await skiff(["blob", "fetch", ref]),
      "either `--output` or `--descriptor` must be provided",
    );
    expectRefused(
      await skiff(["blob", "fetch", ref, "--output", "-", "--descriptor"]),
      "`--output -` cannot be used with `--descriptor` at the same time",
    );
  });

  test("delete --oci-layout: after a yes, with --descriptor, missing with --force", async () => {
    const dir = layout();
    const ref = `${dir}@${fooBlob.digest}`;
    const confirmed = await ok(["blob", "delete", "--oci-layout", ref], { stdin: "y" });
    expect(confirmed.stdout).toBe(
      `Are you sure you want to delete the blob "${fooBlob.digest}"? [y/N] Deleted [oci-layout] ${ref}\n`,
    );
    expect(existsSync(join(dir, "blobs", "sha256", fooBlob.digest.slice(7)))).toBe(false);
    expect((await skiff(["blob", "fetch", "--oci-layout", ref, "--output", "-"])).exitCode).not.toBe(0);

    const other = layout();
    const described = await ok([
      "blob",
      "delete",
      "--oci-layout",
      `${other}@${fooBlob.digest}`,
      "--force",
      "--descriptor",
    ]);
    expect(JSON.parse(described.stdout)).toEqual({
      mediaType: "application/octet-stream",
      digest: fooBlob.digest,
      size: fooBlob.size,
    });
    const nowhere = join(tempDir("skiff-oras-blob-none-"), "absent");
    const zero = `sha256:${"0".repeat(64)}`;
    expect((await ok(["blob", "delete", "--oci-layout", `${nowhere}@${zero}`, "--force"])).stdout).toBe(
      `Missing ${nowhere}@${zero}\n`,
    );
    expect(existsSync(nowhere)).toBe(false);
  });
});
