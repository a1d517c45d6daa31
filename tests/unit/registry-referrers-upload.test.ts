import { describe, expect, test } from "bun:test";

import {
  addToReferrersIndex,
  referrersFromIndex,
  referrersTag,
  removeFromReferrersIndex,
} from "../../src/content/registry/referrers.ts";
import {
  checkDeclaredMediaType,
  contentMediaType,
  parseContentRange,
} from "../../src/content/registry/served.ts";
import {
  configuredChunkSize,
  parseByteSize,
  StreamSlicer,
  withQuery,
} from "../../src/content/registry/upload.ts";
import { readAll } from "../../src/content/verify.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseManifest, referrerDescriptor } from "../../src/oci/manifest.ts";

const hex = "a".repeat(64);
const index = "application/vnd.oci.image.index.v1+json";
const manifestType = "application/vnd.oci.image.manifest.v1+json";
const referrer = (n: number, artifactType = "application/vnd.example.sbom"): Descriptor => ({
  mediaType: manifestType,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  artifactType,
});
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe("referrers tag schema", () => {
  test("the fallback tag is <alg>-<hex>", () => {
    expect(referrersTag(`sha256:${hex}`)).toBe(`sha256-${hex}`);
    expect(referrersTag(`sha512:${"b".repeat(128)}`)).toHaveLength(128);
  });

  test("adding: a new index, then appended, never twice", () => {
    const first = addToReferrersIndex(undefined, referrer(1), "t")!;
    expect(decode(first)).toEqual({ schemaVersion: 2, mediaType: index, manifests: [referrer(1)] });
    const second = addToReferrersIndex(first, referrer(2, "application/vnd.example.sig"), "t")!;
    expect(decode(second).manifests.map((m: Descriptor) => m.digest)).toEqual([
      referrer(1).digest,
      referrer(2).digest,
    ]);
    expect(addToReferrersIndex(second, referrer(2), "t")).toBeUndefined();
    expect(referrersFromIndex(second, "t", "application/vnd.example.sig")).toEqual([
      referrer(2, "application/vnd.example.sig"),
    ]);
    expect(referrersFromIndex(second, "t")).toHaveLength(2);
  });

  test("removing: the rest stays, the last one empties the index, unknown digests change nothing", () => {
    const both = addToReferrersIndex(addToReferrersIndex(undefined, referrer(1), "t")!, referrer(2), "t")!;
    const one = removeFromReferrersIndex(both, referrer(1).digest, "t");
    expect(one).toBeInstanceOf(Uint8Array);
    expect(decode(one as Uint8Array).manifests).toEqual([referrer(2)]);
    expect(removeFromReferrersIndex(one as Uint8Array, referrer(2).digest, "t")).toBe("empty");
    expect(removeFromReferrersIndex(both, referrer(9).digest, "t")).toBeUndefined();
  });

  test("a referrers index is read as leniently as ORAS reads it", () => {
    const encode = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
    // olareg answers an empty list with "manifests": null.
    expect(referrersFromIndex(encode({ schemaVersion: 2, mediaType: index, manifests: null }), "t")).toEqual(
      [],
    );
    expect(referrersFromIndex(encode({ schemaVersion: 2 }), "t")).toEqual([]);
    // Artifact types are labels: ORAS's own test data has "test.sbom.file".
    const odd = referrer(1, "test.sbom.file");
    const listed = encode({ schemaVersion: 2, mediaType: index, manifests: [odd, referrer(2)] });
    expect(referrersFromIndex(listed, "t")).toEqual([odd, referrer(2)]);
    expect(referrersFromIndex(listed, "t", "test.sbom.file")).toEqual([odd]);
    // ...and such an index can still be updated.
    expect(decode(addToReferrersIndex(listed, referrer(3), "t")!).manifests).toHaveLength(3);
    expect(decode(removeFromReferrersIndex(listed, odd.digest, "t") as Uint8Array).manifests).toEqual([
      referrer(2),
    ]);
    // Digests, sizes and control characters are still refused.
    for (const bad of [
      { ...odd, digest: "sha256:1234" },
      { ...odd, size: -1 },
      { ...odd, artifactType: "a\r\nX-Injected: 1" },
      { ...odd, mediaType: "" },
    ]) {
      expect(() => referrersFromIndex(encode({ schemaVersion: 2, manifests: [bad] }), "t")).toThrow();
    }
    expect(() => referrersFromIndex(encode({ schemaVersion: 2, manifests: {} }), "t")).toThrow(
      "must be an array",
    );
  });

  test("a referrer's entry: artifactType, else the config media type; annotations", () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: { mediaType: "application/vnd.example.config", digest: `sha256:${hex}`, size: 2 },
        layers: [],
        annotations: { a: "b" },
      }),
    );
    const desc = { mediaType: manifestType, digest: `sha256:${"c".repeat(64)}`, size: bytes.byteLength };
    expect(referrerDescriptor(desc, parseManifest(bytes, manifestType, "t"))).toEqual({
      ...desc,
      artifactType: "application/vnd.example.config",
      annotations: { a: "b" },
    });
  });
});

describe("content types", () => {
  test("parameters are dropped; a declared mediaType must agree with a specific Content-Type", () => {
    expect(contentMediaType("application/vnd.oci.image.manifest.v1+json; charset=utf-8")).toBe(manifestType);
    expect(contentMediaType(null)).toBeUndefined();
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: manifestType }));
    expect(checkDeclaredMediaType(bytes, manifestType, "m")).toBe(manifestType);
    expect(checkDeclaredMediaType(bytes, "application/json", "m")).toBe(manifestType);
    expect(() => checkDeclaredMediaType(bytes, index, "m")).toThrow(
      'says mediaType "application/vnd.oci.image.manifest.v1+json" but was served as',
    );
    const bare = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    expect(checkDeclaredMediaType(bare, undefined, "m")).toBe(index);
  });
});

describe("uploads", () => {
  test("sizes and the chunk size setting", () => {
    expect(parseByteSize("8M")).toBe(8 * 1024 * 1024);
    expect(parseByteSize("512k")).toBe(512 * 1024);
    expect(parseByteSize("1GiB")).toBe(1024 ** 3);
    expect(parseByteSize("100")).toBe(100);
    expect(parseByteSize("0")).toBeUndefined();
    expect(parseByteSize("lots")).toBeUndefined();
    expect(configuredChunkSize({})).toBeUndefined();
    expect(configuredChunkSize({ SKIFF_UPLOAD_CHUNK_SIZE: "16M" })).toBe(16 * 1024 * 1024);
    expect(() => configuredChunkSize({ SKIFF_UPLOAD_CHUNK_SIZE: "big" })).toThrow("SKIFF_UPLOAD_CHUNK_SIZE");
  });

  test("upload URLs keep their state query", () => {
    expect(withQuery(new URL("http://r/v2/a/blobs/uploads/u?_state=xyz"), "digest", "sha256:1").search).toBe(
      "?_state=xyz&digest=sha256%3A1",
    );
  });

  test("a stream sliced into chunks of given lengths, across source chunk edges", async () => {
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([0, 1, 2]));
        c.enqueue(new Uint8Array([3, 4, 5, 6, 7]));
        c.enqueue(new Uint8Array([8, 9]));
        c.close();
      },
    });
    const slicer = new StreamSlicer(source);
    const parts: number[][] = [];
    for (const length of [4, 4, 2]) parts.push([...(await readAll(slicer.slice(length), 100))]);
    expect(parts).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    await slicer.finish();
  });

  test("a source shorter or longer than announced is an error", async () => {
    const make = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(n));
          c.close();
        },
      });
    const short = new StreamSlicer(make(3));
    await expect(readAll(short.slice(5), 100)).rejects.toThrow("ended 2 bytes short");
    const long = new StreamSlicer(make(6));
    await readAll(long.slice(5), 100);
    await expect(long.finish()).rejects.toThrow("longer than the expected size");
  });

  test("Content-Range of a resumed download", () => {
    expect(parseContentRange("bytes 100-199/200")).toEqual({ start: 100, end: 199, total: 200 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9 });
    expect(parseContentRange("items 1-2/3")).toBeUndefined();
  });
});
