import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { digestOf, verifyBytes } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import { isDigest, parseDigest, shortDigest } from "../../src/oci/digest.ts";

const RUNS = { numRuns: 3000 };

const hexChars = "0123456789abcdefABCDEF".split("");
const algorithms = [
  "sha256",
  "sha512",
  "blake3",
  "sha384",
  "md5",
  "constructor",
  "toString",
  "__proto__",
  "SHA256",
  "sha256+b64u",
  "",
];
const digestLike = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...algorithms),
      fc.constantFrom(":", "", "::", ": "),
      fc.array(fc.constantFrom(...hexChars, "=", "_", "-", "g", " "), { maxLength: 130 }),
    )
    .map(([alg, sep, enc]) => alg + sep + enc.join("")),
  fc.string({ maxLength: 150 }),
);

describe("digest parser fuzzing", () => {
  test("parseDigest throws only SkiffError INVALID_DIGEST and accepts only sha256/sha512 lowercase hex", () => {
    fc.assert(
      fc.property(digestLike, (text) => {
        let parsed: ReturnType<typeof parseDigest> | undefined;
        try {
          parsed = parseDigest(text);
        } catch (error) {
          if (!(error instanceof SkiffError)) throw new Error(`threw ${String(error)}`);
          expect(error.code).toBe("INVALID_DIGEST");
          expect(isDigest(text)).toBe(false);
          return;
        }
        expect(text).toMatch(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
        expect(`${parsed.algorithm}:${parsed.encoded}`).toBe(text);
        expect(isDigest(text)).toBe(true);
      }),
      RUNS,
    );
  });

  test("unknown-algorithm errors name the algorithm in plain words", () => {
    for (const alg of ["blake3", "md5", "constructor", "tostring"]) {
      const text = `${alg}:${"a".repeat(64)}`;
      let message = "";
      try {
        parseDigest(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`unsupported digest algorithm "${alg}"`);
      expect(message).not.toContain("function");
    }
  });

  test("digestOf output parses, and verifyBytes accepts exactly the bytes it was computed from", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.constantFrom("sha256" as const, "sha512" as const),
        fc.nat(),
        (bytes, alg, flipAt) => {
          const digest = digestOf(bytes, alg);
          expect(isDigest(digest)).toBe(true);
          expect(shortDigest(digest)).toHaveLength(Math.min(12, digest.length - alg.length - 1));
          verifyBytes(
            bytes,
            { mediaType: "application/octet-stream", digest, size: bytes.byteLength },
            "fuzz",
          );
          if (bytes.byteLength > 0) {
            const flipped = bytes.slice();
            const i = flipAt % flipped.byteLength;
            flipped[i] = flipped[i]! ^ 0xff;
            expect(() =>
              verifyBytes(
                flipped,
                { mediaType: "application/octet-stream", digest, size: bytes.byteLength },
                "fuzz",
              ),
            ).toThrow(SkiffError);
          }
        },
      ),
      RUNS,
    );
  });
});
