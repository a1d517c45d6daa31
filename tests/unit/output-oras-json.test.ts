/**
 * JSON and raw outputs shaped byte for byte as ORAS's: key order, sorting, and the bytes of raw
 * JSON (no newline added).
 */
import { describe, expect, test } from "bun:test";
import type { Console } from "../../src/cli/io.ts";
import { printDeletion } from "../../src/cli/output/deletion.ts";
import { descriptorText, plainDescriptor, pushResultJson } from "../../src/cli/output/descriptors.ts";
import { descriptorJson, renderJson } from "../../src/cli/output/format.ts";
import { goJson, sortedDeep, sortedMap } from "../../src/cli/output/go-json.ts";
import { pushedLines, pushedTarget } from "../../src/cli/output/status.ts";
import type { Target } from "../../src/content/target.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { layoutEntry } from "../../src/ops/resolve.ts";

const desc: Descriptor = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"a".repeat(64)}`,
  size: 588,
};

describe("push and index JSON", () => {
  test("referenceAsTags is sorted, as ORAS sorts it, whatever order the tags were given in", () => {
    const ref = parseReference("localhost:5000/app:zz,b,a", { tagList: true });
    expect(pushResultJson(ref, desc, ref.tags).referenceAsTags).toEqual([
      "localhost:5000/app:a",
      "localhost:5000/app:b",
      "localhost:5000/app:zz",
    ]);
  });
});

describe("Go's JSON", () => {
  test("escapes <, >, &, U+2028/9 and writes \\b and \\f as \\u escapes; an escaped backslash stays", () => {
    expect(goJson({ k: "<b&c>" })).toBe('{"k":"\\u003cb\\u0026c\\u003e"}');
    expect(goJson("a\u2028b\u2029")).toBe('"a\\u2028b\\u2029"');
    expect(goJson("\b\f\n\t")).toBe('"\\u0008\\u000c\\n\\t"');
    expect(goJson("\\b")).toBe('"\\\\b"');
    expect(goJson({ a: [1] }, true)).toBe('{\n  "a": [\n    1\n  ]\n}');
  });

  test("maps come out sorted, like a manifest read into a Go map", () => {
    expect(Object.keys(sortedMap({ b: 1, a: 2, é: 3, Z: 4 }))).toEqual(["Z", "a", "b", "é"]);
    const content = sortedDeep({ schemaVersion: 2, mediaType: "m", layers: [{ size: 1, digest: "d" }] });
    expect(JSON.stringify(content)).toBe(
      '{"layers":[{"digest":"d","size":1}],"mediaType":"m","schemaVersion":2}',
    );
  });

  test("renderJson escapes like ORAS and ends with a newline; descriptor JSON sorts annotations", () => {
    expect(renderJson({ a: "<" })).toBe('{\n  "a": "\\u003c"\n}\n');
    const json = descriptorJson("r@d", { ...desc, annotations: { z: "1", a: "2" } });
    expect(Object.keys(json.annotations!)).toEqual(["a", "z"]);
  });
});

describe("--descriptor", () => {
  test("compact without a newline, --pretty indented with one; Go's field order with data", () => {
    const full: Descriptor = {
      artifactType: "a/b",
      platform: { architecture: "amd64", os: "linux" },
      data: "e30=",
      annotations: { y: "1", x: "2" },
      size: 2,
      digest: desc.digest,
      mediaType: "application/vnd.oci.empty.v1+json",
    };
    expect(Object.keys(plainDescriptor(full))).toEqual([
      "mediaType",
      "digest",
      "size",
      "annotations",
      "data",
      "platform",
      "artifactType",
    ]);
    expect(descriptorText(plainDescriptor(desc), false)).toBe(
      `{"mediaType":"${desc.mediaType}","digest":"${desc.digest}","size":588}`,
    );
    expect(descriptorText({ size: 1 }, true)).toBe('{\n  "size": 1\n}\n');
  });

  test("a layout tag shows its index.json entry, tag included; a layout digest only the three fields", async () => {
    const entry: Descriptor = {
      ...desc,
      annotations: { x: "y", "org.opencontainers.image.ref.name": "v1" },
      artifactType: "a/b",
    };
    const resolved: Descriptor = { ...desc, annotations: { x: "y" }, artifactType: "a/b" };
    const layout = { entries: async () => [entry] } as unknown as Target;
    const byTag = await layoutEntry(layout, { tag: "v1" }, resolved);
    expect(byTag.annotations).toEqual({ x: "y", "org.opencontainers.image.ref.name": "v1" });
    expect(byTag.artifactType).toBe("a/b");
    const byDigest = await layoutEntry(layout, { digest: desc.digest }, resolved);
    expect(byDigest).toEqual({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    // A registry (no index.json entries) shows the descriptor as resolved.
    const registry = {} as unknown as Target;
    expect(await layoutEntry(registry, { digest: desc.digest }, resolved)).toBe(resolved);
  });
});

describe("closing lines", () => {
  const d = desc.digest;
  test("push: the first tag in the Pushed line, one Tagged line per further tag; untagged as typed", () => {
    const ref = parseReference("localhost:5000/app:a,b,c", { tagList: true });
    expect(pushedLines(pushedTarget(ref, ref.tags), d, "x/y", { tags: ref.tags.slice(1) })).toBe(
      `Pushed [registry] localhost:5000/app:a\nTagged b\nTagged c\nArtifactType: x/y\nDigest: ${d}\n`,
    );
    const bare = parseReference("localhost:5000/app", { tagList: true });
    expect(pushedTarget(bare, bare.tags).text).toBe("localhost:5000/app");
  });

  test("blob and manifest push say Pushed:, manifest index aligns it with the status lines", () => {
    const ref = parseReference("localhost:5000/app");
    expect(pushedLines({ ref, text: "localhost:5000/app" }, d, undefined, { colon: true })).toBe(
      `Pushed: [registry] localhost:5000/app\nDigest: ${d}\n`,
    );
    expect(pushedLines({ ref, text: "localhost:5000/app" }, d, undefined, { padded: true })).toStartWith(
      "Pushed    [registry] localhost:5000/app\n",
    );
  });

  test("delete: Deleted [registry] REF, Missing REF with --force", () => {
    const out: string[] = [];
    const console = { out: (t: string) => out.push(t), err: () => {} } as unknown as Console;
    const registry = { ref: parseReference("localhost:5000/app:v1"), text: "localhost:5000/app:v1" };
    const layout = { ref: parseReference("L:v1", { layout: true }), text: "L:v1" };
    printDeletion(console, registry, "manifest", { outcome: "deleted", desc }, {});
    printDeletion(console, layout, "manifest", { outcome: "deleted", desc }, {});
    printDeletion(console, registry, "manifest", { outcome: "missing" }, { force: true });
    expect(out).toEqual([
      "Deleted [registry] localhost:5000/app:v1\n",
      "Deleted [oci-layout] L:v1\n",
      "Missing localhost:5000/app:v1\n",
    ]);
  });
});
