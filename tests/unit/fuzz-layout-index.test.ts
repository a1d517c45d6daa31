import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  checkOciLayout,
  matchTag,
  parseLayoutIndex,
  serializeLayoutIndex,
} from "../../src/content/layout/index-file.ts";
import { SkiffError } from "../../src/errors.ts";

const RUNS = { numRuns: 1500 };
const encoder = new TextEncoder();

function onlySkiffError<T>(fn: () => T): T | SkiffError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SkiffError)) {
      throw new Error(`threw ${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
    expect(error.code).toBe("INVALID_LAYOUT");
    return error;
  }
}

const digest = fc.constantFrom(
  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  `sha512:${"b".repeat(128)}`,
  `blake3:${"c".repeat(64)}`,
  "sha256:short",
  "constructor:x",
);
const entry = fc.record(
  {
    mediaType: fc.oneof(
      fc.constant("application/vnd.oci.image.manifest.v1+json"),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    digest: fc.oneof(digest, fc.jsonValue({ maxDepth: 1 })),
    size: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, "3")),
    annotations: fc.oneof(
      fc.record({ "org.opencontainers.image.ref.name": fc.string({ maxLength: 12 }) }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    platform: fc.oneof(fc.constant({ os: "linux", architecture: "amd64" }), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: ["mediaType", "digest", "size"] },
);
/** Mostly right, sometimes wrong: reaches both accepted and refused files. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: good, weight: 5 }, { arbitrary: bad, weight: 1 });
const index = fc.record(
  {
    schemaVersion: mostly(fc.constant(2), fc.jsonValue({ maxDepth: 0 })),
    mediaType: mostly(fc.constant("application/vnd.oci.image.index.v1+json"), fc.string({ maxLength: 8 })),
    manifests: mostly(fc.array(entry, { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
    annotations: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })),
  },
  { requiredKeys: ["manifests"] },
);

describe("layout index.json validator fuzzing", () => {
  test("parseLayoutIndex and checkOciLayout throw nothing but INVALID_LAYOUT on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        onlySkiffError(() => parseLayoutIndex(bytes, "index.json"));
        onlySkiffError(() => checkOciLayout(bytes, "oci-layout"));
      }),
      RUNS,
    );
  });

  test("parseLayoutIndex on arbitrary JSON: clear errors, and accepted files re-serialize to the same entries", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(index, fc.jsonValue()), (json) => {
        const parsed = onlySkiffError(() =>
          parseLayoutIndex(encoder.encode(JSON.stringify(json)), "index.json"),
        );
        if (parsed instanceof SkiffError) return;
        accepted++;
        const again = parseLayoutIndex(serializeLayoutIndex(parsed.fields, parsed.raw), "index.json");
        expect(again.raw.length).toBe(parsed.raw.length);
        expect(new Set(again.entries.map((e) => e.digest))).toEqual(
          new Set(parsed.entries.map((e) => e.digest)),
        );
        // Serialization is deterministic whatever the input order (entries differ in ref name or digest).
        const keys = parsed.raw.map((r) =>
          JSON.stringify([
            (r.annotations as Record<string, unknown> | undefined)?.["org.opencontainers.image.ref.name"] ??
              "",
            String(r.digest),
          ]),
        );
        if (new Set(keys).size !== keys.length) return;
        const reversed = serializeLayoutIndex(parsed.fields, [...parsed.raw].reverse());
        expect(new TextDecoder().decode(reversed)).toBe(
          new TextDecoder().decode(serializeLayoutIndex(parsed.fields, parsed.raw)),
        );
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(30);
  });

  test("matchTag never matches a different bare tag", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 10 }),
        (refName, tag) => {
          const how = matchTag(refName, tag);
          if (how === "exact") expect(refName).toBe(tag);
          if (how === "suffix") expect(refName.endsWith(`:${tag}`)).toBe(true);
          if (!refName.includes(":") && refName !== tag) expect(how).toBe(false);
        },
      ),
      RUNS,
    );
  });
});
