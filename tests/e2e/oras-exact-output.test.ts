/**
 * Outputs that scripts compare byte for byte, as ORAS prints them, with the compiled binary
 * against the real registry and a layout: `--descriptor` (no newline added), the JSON of
 * `manifest fetch --format json` (the manifest as a Go map: keys sorted), `pull --format json`,
 * and the closing lines of blob push, manifest push and delete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const sha256 = (text: string): string => `sha256:${createHash("sha256").update(text).digest("hex")}`;

let registry: RunningRegistry;
let host: string;
let work: string;
let layout: string;
let manifest: { digest: string; size: number };

async function ok(args: string[]): Promise<string> {
  const result = await runSkiff(args, { cwd: work, timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new Error(`skiff ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = tempDir("skiff-exact-output-");
  layout = join(work, "layout");
  writeFileSync(join(work, "foo1"), "foo");
  writeFileSync(join(work, "foo2"), "foo");
  writeFileSync(join(work, "notes"), "<notes & more>");
  const pushed = JSON.parse(
    await ok(["push", "--format", "json", "-a", "k=<b&c>", `${host}/app:v1`, "foo1", "foo2", "notes"]),
  );
  manifest = { digest: pushed.digest, size: pushed.size };
  await ok(["cp", `${host}/app:v1`, `oci-layout://${layout}:v1`]);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("--descriptor", () => {
  test("compact, with no newline added; --pretty ends with one", async () => {
    const expected = `{"mediaType":"${MANIFEST}","digest":"${manifest.digest}","size":${manifest.size}}`;
    expect(await ok(["manifest", "fetch", "--descriptor", `${host}/app:v1`])).toBe(expected);
    const pretty = await ok(["manifest", "fetch", "--descriptor", "--pretty", `${host}/app:v1`]);
    expect(pretty).toEndWith("}\n");
    expect(JSON.parse(pretty)).toEqual(JSON.parse(expected));
    const blob = await ok(["blob", "fetch", "--descriptor", `${host}/app@${sha256("foo")}`]);
    expect(blob).toBe(`{"mediaType":"application/octet-stream","digest":"${sha256("foo")}","size":3}`);
  });

  test("a layout tag prints its index.json entry, tag annotation included; a digest the three fields", async () => {
    const byTag = await ok(["manifest", "fetch", "--descriptor", `oci-layout://${layout}:v1`]);
    expect(byTag).not.toEndWith("\n");
    expect(JSON.parse(byTag).annotations["org.opencontainers.image.ref.name"]).toBe("v1");
    const byDigest = await ok([
      "manifest",
      "fetch",
      "--descriptor",
      `oci-layout://${layout}@${manifest.digest}`,
    ]);
    expect(byDigest).toBe(
      `{"mediaType":"${MANIFEST}","digest":"${manifest.digest}","size":${manifest.size}}`,
    );
  });
});

describe("JSON", () => {
  test("manifest fetch --format json: the manifest's keys sorted, <, > and & escaped as Go does", async () => {
    const out = await ok(["manifest", "fetch", "--format", "json", `${host}/app:v1`]);
    const json = JSON.parse(out);
    // A registry resolves a tag to the bare descriptor, as for ORAS.
    expect(Object.keys(json)).toEqual(["reference", "mediaType", "digest", "size", "content"]);
    expect(Object.keys(json.content)).toEqual([...Object.keys(json.content)].sort());
    expect(Object.keys(json.content.layers[0])).toEqual(["annotations", "digest", "mediaType", "size"]);
    expect(out).toContain('"k": "\\u003cb\\u0026c\\u003e"');
    expect(out).not.toContain("<");
  });

  test("pull --format json: each file under its own title; null when no file was written", async () => {
    const json = JSON.parse(
      await ok(["pull", "--format", "json", "-o", join(work, "out"), `${host}/app:v1`]),
    );
    const titles = (files: { annotations: Record<string, string> }[]) =>
      files.map((f) => f.annotations["org.opencontainers.image.title"]);
    expect(titles(json.files)).toEqual(["foo1", "foo2", "notes"]);
    // In the manifest's order, as ORAS lists them, not in the order downloads finished.
    writeFileSync(join(work, "zz-big"), "z".repeat(3_000_000));
    writeFileSync(join(work, "aa"), "a");
    await ok(["push", `${host}/order:v1`, "zz-big", "aa"]);
    const ordered = JSON.parse(
      await ok(["pull", "--format", "json", "-o", join(work, "order"), `${host}/order:v1`]),
    );
    expect(titles(ordered.files)).toEqual(["zz-big", "aa"]);
    await ok(["push", `${host}/empty:v1`]);
    const empty = await ok(["pull", "--format", "json", "-o", join(work, "none"), `${host}/empty:v1`]);
    expect(JSON.parse(empty).files).toBeNull();
  });
});

describe("closing lines", () => {
  test("blob push and manifest push say Pushed:, with the first tag, then Tagged", async () => {
    writeFileSync(join(work, "blob"), "a blob");
    expect(await ok(["blob", "push", `${host}/blobs`, "blob"])).toEndWith(
      `Pushed: [registry] ${host}/blobs\nDigest: ${sha256("a blob")}\n`,
    );
    const bytes = await ok(["manifest", "fetch", `${host}/app:v1`]);
    writeFileSync(join(work, "manifest.json"), bytes);
    // m1 does not name it yet: ORAS stores it under m1 and says Uploading/Uploaded (Exists when m1 does).
    const out = await ok(["manifest", "push", `${host}/app:m1,m2`, "manifest.json"]);
    const short = `${manifest.digest.slice(7, 19)} ${MANIFEST}`;
    expect(out).toStartWith(`Uploading ${short}\nUploaded  ${short}\n`);
    expect(out).toEndWith(`Pushed: [registry] ${host}/app:m1\nTagged m2\nDigest: ${manifest.digest}\n`);
  });

  test("delete: Deleted [registry] REF", async () => {
    const ref = `${host}/blobs@${sha256("a blob")}`;
    expect(await ok(["blob", "delete", "--force", ref])).toBe(`Deleted [registry] ${ref}\n`);
    expect(await ok(["blob", "delete", "--force", ref])).toBe(`Missing ${ref}\n`);
  });
});
