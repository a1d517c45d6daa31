import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SkiffError } from "../../src/errors.ts";
import { parseDescriptor } from "../../src/oci/descriptor.ts";
import {
  detectManifestMediaType,
  encodeManifest,
  isIndex,
  MAX_MANIFEST_BYTES,
  parseManifest,
  platformFromConfig,
  successors,
} from "../../src/oci/manifest.ts";
import { MediaType } from "../../src/oci/media-types.ts";

const RUNS = { numRuns: 1500 };
const encoder = new TextEncoder();

function onlySkiffError<T>(fn: () => T): T | SkiffError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SkiffError)) {
      throw new Error(`threw ${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
    expect(["INVALID_MANIFEST", "TOO_LARGE", "INVALID_DIGEST"]).toContain(error.code);
    return error;
  }
}

const mediaTypes = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociLayerTar,
  "application/vnd.unknown.artifact.v1",
  "",
  "not a media type",
  "constructor",
];
const mediaType = fc.oneof(fc.constantFrom(...mediaTypes), fc.string({ maxLength: 20 }));
const goodDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    -1,
    1.5,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    "2",
    null,
    [],
    {},
    "sha256:abc",
    `blake3:${"a".repeat(64)}`,
  ),
);

/** Mostly the good value, sometimes a wrong one: reaches both the accept and the reject paths. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: weird, weight: 1 });
const goodType = fc.constantFrom(MediaType.ociManifest, MediaType.ociLayerTar, "application/x.y+json");
const validDescriptor = fc.record(
  {
    mediaType: mostly(goodType),
    digest: mostly(fc.constantFrom(goodDigest, `sha512:${"a".repeat(128)}`)),
    size: mostly(fc.nat()),
    urls: mostly(fc.array(fc.string(), { maxLength: 2 })),
    annotations: mostly(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })),
    data: mostly(fc.constant("e30=")),
    platform: mostly(fc.record({ os: fc.constant("linux"), architecture: fc.constant("amd64") })),
  },
  { requiredKeys: ["mediaType", "digest", "size"] },
);
const validShape = fc.oneof(
  fc.record(
    {
      schemaVersion: fc.constant(2),
      mediaType: fc.constantFrom(MediaType.ociManifest, MediaType.dockerManifest),
      config: validDescriptor,
      layers: fc.array(validDescriptor, { maxLength: 3 }),
      subject: validDescriptor,
      annotations: mostly(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })),
    },
    { requiredKeys: ["schemaVersion", "config"] },
  ),
  fc.record(
    {
      schemaVersion: fc.constant(2),
      mediaType: fc.constantFrom(MediaType.ociIndex, MediaType.dockerManifestList),
      artifactType: mostly(fc.constant("application/x.y")),
      manifests: fc.array(validDescriptor, { maxLength: 3 }),
      subject: validDescriptor,
    },
    { requiredKeys: ["schemaVersion", "manifests"] },
  ),
);

// Descriptors that are mostly right with one field possibly wrong.
const descriptor = fc.record(
  {
    mediaType: fc.oneof(fc.constantFrom(...mediaTypes), weird),
    digest: fc.oneof(fc.constant(goodDigest), fc.constant(`sha512:${"a".repeat(128)}`), weird),
    size: fc.oneof(fc.nat(), weird),
    urls: fc.oneof(fc.array(fc.string()), weird),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), weird),
    data: fc.oneof(fc.constant("e30="), weird),
    platform: fc.oneof(fc.record({ os: fc.constant("linux"), architecture: fc.constant("amd64") }), weird),
    artifactType: fc.oneof(fc.constant("application/x.y"), weird),
  },
  { requiredKeys: [] },
);
const manifestShape = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant(2), weird),
    mediaType: fc.oneof(fc.constantFrom(...mediaTypes), weird),
    artifactType: fc.oneof(fc.constant("application/x.y"), weird),
    config: fc.oneof(descriptor, weird),
    layers: fc.oneof(fc.array(descriptor, { maxLength: 3 }), weird),
    manifests: fc.oneof(fc.array(descriptor, { maxLength: 3 }), weird),
    subject: fc.oneof(descriptor, weird),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), weird),
    __proto__: weird,
  },
  { requiredKeys: [] },
);

function bytesOf(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

describe("manifest and index validator fuzzing", () => {
  test("parseManifest on arbitrary bytes throws nothing but SkiffError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), mediaType, (bytes, type) => {
        onlySkiffError(() => parseManifest(bytes, type, "fuzz"));
        onlySkiffError(() => detectManifestMediaType(bytes, "fuzz"));
        onlySkiffError(() => platformFromConfig(bytes, "fuzz"));
      }),
      RUNS,
    );
  });

  test("parseManifest on arbitrary JSON throws nothing but SkiffError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), manifestShape), mediaType, (json, type) => {
        const bytes = bytesOf(json);
        onlySkiffError(() => parseManifest(bytes, type, "fuzz"));
        onlySkiffError(() => detectManifestMediaType(bytes, "fuzz"));
        onlySkiffError(() => platformFromConfig(bytes, "fuzz"));
      }),
      RUNS,
    );
  });

  test("whatever parseManifest accepts is well-formed: valid descriptors, non-negative sizes, re-encodes and re-parses", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(manifestShape, validShape), mediaType, (json, type) => {
        const parsed = onlySkiffError(() => parseManifest(bytesOf(json), type, "fuzz"));
        if (parsed instanceof SkiffError) return;
        accepted++;
        // An rc2 artifact manifest has no schemaVersion (tests/unit/oci-manifest.test.ts).
        if (!("blobs" in parsed)) expect(parsed.schemaVersion).toBe(2);
        for (const child of successors(parsed)) {
          expect(Number.isSafeInteger(child.size) && child.size >= 0).toBe(true);
          expect(child.digest).toMatch(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
          parseDescriptor(child, "re-check");
        }
        if (isIndex(parsed)) expect(Array.isArray(parsed.manifests)).toBe(true);
        else expect(Array.isArray("blobs" in parsed ? parsed.blobs : parsed.layers)).toBe(true);
        const again = parseManifest(encodeManifest(parsed), parsed.mediaType ?? type, "again");
        expect(again).toEqual(parsed);
      }),
      RUNS,
    );
    // The property means little unless the generator reaches accepted manifests.
    expect(accepted).toBeGreaterThan(10);
  });

  test("invalid UTF-8 is refused as not UTF-8, never decoded with replacement characters", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0x80]),
        (s, bad) => {
          const text = encoder.encode(`{"schemaVersion":2,"x":"${s.replace(/["\\]/g, "")}`);
          const tail = encoder.encode('","config":{},"layers":[]}');
          const bytes = new Uint8Array([...text, ...bad, ...tail]);
          const error = onlySkiffError(() => parseManifest(bytes, MediaType.ociManifest, "fuzz"));
          expect(error).toBeInstanceOf(SkiffError);
          expect((error as SkiffError).message).toContain("not UTF-8");
        },
      ),
      { numRuns: 300 },
    );
  });

  test("negative, fractional and unsafe sizes are refused", () => {
    for (const size of [-1, -0.5, 1.5, 2 ** 53, Number.MAX_VALUE, "2"]) {
      const json = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociEmpty, digest: goodDigest, size },
        layers: [],
      };
      const error = onlySkiffError(() => parseManifest(bytesOf(json), MediaType.ociManifest, "fuzz"));
      expect(error).toBeInstanceOf(SkiffError);
      expect((error as SkiffError).message).toContain("size");
    }
  });

  test("manifests over 4 MiB are refused before parsing", () => {
    const big = new Uint8Array(MAX_MANIFEST_BYTES + 1).fill(0x20);
    const error = onlySkiffError(() => parseManifest(big, MediaType.ociManifest, "fuzz"));
    expect((error as SkiffError).code).toBe("TOO_LARGE");
  });

  test("deeply nested JSON is a clear error or a value, never a stack overflow", () => {
    for (const depth of [1000, 100_000]) {
      const bytes = encoder.encode(`${"[".repeat(depth)}${"]".repeat(depth)}`);
      onlySkiffError(() => parseManifest(bytes, MediaType.ociIndex, "fuzz"));
      const objects = encoder.encode(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
      onlySkiffError(() => parseManifest(objects, MediaType.ociIndex, "fuzz"));
    }
  });
});
