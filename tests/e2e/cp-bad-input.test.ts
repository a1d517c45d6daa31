/**
 * skiff cp refusing bad input with the compiled binary against the real registry: a tar as
 * destination, a source graph with a missing blob, destination tags outside the grammar, unknown
 * and ambiguous sources. Each must fail with a clear message and leave the destination untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { cleanup, LayoutBuilder, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

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

function refused(result: { code: number | null; stderr: string }, ...parts: (string | RegExp)[]): void {
  expect(result.code).not.toBe(0);
  // The source's errors carry ORAS's heading `Error from source registry|oci-layout for "REF"`.
  expect(result.stderr).toMatch(/^Error( from source (registry|oci-layout) for "[^"\n]*")?: /);
  for (const part of parts) {
    if (typeof part === "string") expect(result.stderr).toContain(part);
    else expect(result.stderr).toMatch(part);
  }
}

async function tagsOf(repo: string): Promise<string[]> {
  const response = await fetch(`http://${host}/v2/${repo}/tags/list`);
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  return ((await response.json()) as { tags?: string[] }).tags ?? [];
}

function simpleLayout(tag = "v1") {
  const b = new LayoutBuilder();
  const layer = b.file("hello.txt", "hello from a layout\n");
  const manifest = b.manifest({ layers: [layer], artifactType: "application/vnd.example.hello" });
  b.writeIndex([{ ...manifest, tag }]);
  return { b, layer, manifest };
}

describe("cp refuses", () => {
  test("an existing layout tar as destination, leaving it byte for byte as it was", async () => {
    const { b } = simpleLayout();
    const tar = b.tar();
    const before = readFileSync(tar);
    const result = await runSkiff(["cp", `oci-layout://${b.dir}:v1`, `oci-layout://${tar}:v2`]);
    refused(result, tar, "read-only", "skiff backup --output");
    expect(readFileSync(tar).equals(before)).toBe(true);
  });

  test("a new destination named like a tar, creating nothing", async () => {
    const { b } = simpleLayout();
    const dir = tempDir();
    for (const name of ["new.tar", "new.tar.gz", "new.tgz"]) {
      const result = await runSkiff([
        "cp",
        "--from-oci-layout",
        `${b.dir}:v1`,
        "--to-oci-layout",
        join(dir, name),
      ]);
      refused(result, "read-only");
      expect(existsSync(join(dir, name))).toBe(false);
    }
  });

  test("a source graph with a missing blob: the error names the digest, where it was expected, and who lists it", async () => {
    const { b, layer, manifest } = simpleLayout();
    rmSync(join(b.dir, "blobs", "sha256", layer.digest.slice(7)));
    const result = await runSkiff(["cp", `oci-layout://${b.dir}:v1`, `${host}/incomplete:v1`]);
    refused(result, layer.digest, `blobs/sha256/${layer.digest.slice(7)}`, manifest.digest);
    expect(await tagsOf("incomplete")).toEqual([]);
    const out = join(tempDir(), "dst");
    const toLayout = await runSkiff(["cp", `oci-layout://${b.dir}:v1`, `oci-layout://${out}`]);
    refused(toLayout, layer.digest);
    expect(JSON.parse(readFileSync(join(out, "index.json"), "utf8")).manifests).toEqual([]);
  });

  test("a missing blob in a registry source names the digest and the repository", async () => {
    const { b, layer } = simpleLayout();
    const ok = await runSkiff(["cp", `oci-layout://${b.dir}:v1`, `${host}/holey:v1`]);
    expect(ok.code, ok.stderr).toBe(0);
    // Delete the layer behind the manifest's back (the test registry has deletes enabled).
    const deleted = await registry.fetch(`/v2/holey/blobs/${layer.digest}`, { method: "DELETE" });
    expect(deleted.status).toBe(202);
    const out = join(tempDir(), "dst");
    const result = await runSkiff(["cp", `${host}/holey:v1`, `oci-layout://${out}`]);
    refused(result, layer.digest);
    expect(result.stderr).toContain("holey");
  });

  test("destination tags that break the tag grammar, before anything is copied", async () => {
    const { b } = simpleLayout();
    for (const bad of [
      `${host}/badtag:-leading-dash`,
      `${host}/badtag:ok,has space`,
      `${host}/badtag:${"x".repeat(129)}`,
    ]) {
      const result = await runSkiff(["cp", `oci-layout://${b.dir}:v1`, bad]);
      refused(result, /tag/);
    }
    const layoutBad = await runSkiff([
      "cp",
      `oci-layout://${b.dir}:v1`,
      `oci-layout://${join(tempDir(), "x")}:a,+b`,
    ]);
    refused(layoutBad, "+b");
    expect(await tagsOf("badtag")).toEqual([]);
  });

  test("unknown sources: a missing tag, a missing repository, a missing layout", async () => {
    const { b } = simpleLayout();
    const out = join(tempDir(), "never");
    refused(await runSkiff(["cp", `oci-layout://${b.dir}:nope`, `oci-layout://${out}`]), "nope", "v1");
    refused(await runSkiff(["cp", `${host}/does-not-exist:v1`, `oci-layout://${out}`]), "does-not-exist");
    refused(await runSkiff(["cp", `oci-layout://${join(out, "missing")}`, `${host}/x:v1`]), "does not exist");
    expect(
      existsSync(out) && statSync(out).isDirectory() ? readFileSync(join(out, "index.json"), "utf8") : "",
    ).not.toContain("digest");
  });

  test("an ambiguous tagless source lists the candidates and how to select each", async () => {
    const b = new LayoutBuilder();
    const one = b.manifest({ layers: [b.file("a.txt", "a")] });
    const two = b.manifest({ layers: [b.file("b.txt", "b")] });
    b.writeIndex([one, two]);
    const result = await runSkiff(["cp", `oci-layout://${b.dir}`, `${host}/ambiguous:v1`]);
    refused(result, one.digest, two.digest, `oci-layout://${b.dir}@${one.digest}`);
    expect(await tagsOf("ambiguous")).toEqual([]);
  });

  test("usage errors: a tag list as source, a bad --concurrency, a bad --platform", async () => {
    const { b } = simpleLayout();
    refused(await runSkiff(["cp", `oci-layout://${b.dir}:v1,v2`, `${host}/u:v1`]), /tag/);
    refused(
      await runSkiff(["cp", "--concurrency", "1.5", `oci-layout://${b.dir}:v1`, `${host}/u:v1`]),
      "--concurrency",
    );
    refused(
      await runSkiff([
        "cp",
        "--platform",
        "linux/arm64/v8/extra",
        `oci-layout://${b.dir}:v1`,
        `${host}/u:v1`,
      ]),
      "platform",
    );
    expect(await tagsOf("u")).toEqual([]);
  });
});
