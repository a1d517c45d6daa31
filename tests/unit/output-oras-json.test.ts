/**
 * JSON and raw outputs shaped byte for byte as ORAS's: key order, sorting, and the bytes of raw
 * JSON (no newline added).
 */
import { describe, expect, test } from "bun:test";
import { pushResultJson } from "../../src/cli/commands/push.ts";
import type { Console } from "../../src/cli/io.ts";
import { printDeletion } from "../../src/cli/output/deletion.ts";
import { descriptorText, plainDescriptor, shownDescriptor } from "../../src/cli/output/descriptor.ts";
import { descriptorJson, renderJson } from "../../src/cli/output/format.ts";
import { goJson, sortedDeep, sortedMap } from "../../src/cli/output/go-json.ts";
import { pushedLines, pushedTarget } from "../../src/cli/output/status.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseReference } from "../../src/oci/reference.ts";

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

  test("a layout tag shows its index.json entry, tag included; a layout digest only the three fields", () => {
    const entry: Descriptor = { ...desc, annotations: { x: "y" }, artifactType: "a/b" };
    const byTag = shownDescriptor(parseReference("out:v1", { layout: true }), entry);
    expect(byTag.annotations).toEqual({ x: "y", "org.opencontainers.image.ref.name": "v1" });
    expect(byTag.artifactType).toBe("a/b");
    const byDigest = shownDescriptor(parseReference(`out@${desc.digest}`, { layout: true }), entry);
    expect(byDigest).toEqual({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    // A platform picked from an index, and registries, are shown as resolved.
    const child: Descriptor = { ...desc, digest: `sha256:${"b".repeat(64)}` };
    expect(shownDescriptor(parseReference("out:v1", { layout: true }), child, entry)).toBe(child);
    expect(shownDescriptor(parseReference("localhost:5000/a:v1"), entry)).toBe(entry);
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
    printDeletion(console, "localhost:5000/app:v1", "manifest", { outcome: "deleted", desc }, {});
    printDeletion(console, "L:v1", "manifest", { outcome: "deleted", desc }, {}, "layout");
    printDeletion(console, "localhost:5000/app:v1", "manifest", { outcome: "missing" }, { force: true });
    expect(out).toEqual([
      "Deleted [registry] localhost:5000/app:v1\n",
      "Deleted [oci-layout] L:v1\n",
      "Missing localhost:5000/app:v1\n",
    ]);
  });
});
