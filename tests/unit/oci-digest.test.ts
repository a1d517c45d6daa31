import { describe, expect, test } from "bun:test";
import { digestOf, verifyBytes } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import { isDigest, parseDigest, shortDigest } from "../../src/oci/digest.ts";

const HEX64 = "0123456789abcdef".repeat(4);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkiffError);
    return (error as SkiffError).code;
  }
  return "ok";
}

describe("digests", () => {
  test("sha256 and sha512 with exact lowercase hex", () => {
    expect(parseDigest(`sha256:${HEX64}`)).toEqual({ algorithm: "sha256", encoded: HEX64 });
    expect(parseDigest(`sha512:${HEX64}${HEX64}`).algorithm).toBe("sha512");
  });

  const bad = [
    `sha256:${HEX64.toUpperCase()}`,
    `sha256:${HEX64.slice(1)}`,
    `sha256:${HEX64}0`,
    `sha512:${HEX64}`,
    `SHA256:${HEX64}`,
    `md5:${"a".repeat(32)}`,
    `blake3:${HEX64}`,
    `constructor:${HEX64}`,
    "sha256:",
    ":abc",
    HEX64,
    "",
    `sha256:${"g".repeat(64)}`,
  ];
  for (const value of bad) {
    test(`refuses ${JSON.stringify(value.slice(0, 30))}`, () => {
      expect(code(() => parseDigest(value))).toBe("INVALID_DIGEST");
      expect(isDigest(value)).toBe(false);
    });
  }

  test("the error names what was parsed", () => {
    try {
      parseDigest("sha256:12", "subject digest");
    } catch (error) {
      expect((error as Error).message).toContain("subject digest");
      expect((error as Error).message).toContain("64");
    }
  });

  test("shortDigest is the first 12 hex characters", () => {
    expect(shortDigest(`sha256:${HEX64}`)).toBe(HEX64.slice(0, 12));
  });

  test("digestOf and verifyBytes agree, and a mismatch is DIGEST_MISMATCH or SIZE_MISMATCH", () => {
    const bytes = new TextEncoder().encode("{}");
    const digest = digestOf(bytes);
    expect(digest).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    verifyBytes(bytes, { mediaType: "x/y", digest, size: 2 }, "test");
    expect(code(() => verifyBytes(bytes, { mediaType: "x/y", digest, size: 3 }, "test"))).toBe(
      "SIZE_MISMATCH",
    );
    const other = digestOf(new TextEncoder().encode("[]"));
    expect(code(() => verifyBytes(bytes, { mediaType: "x/y", digest: other, size: 2 }, "test"))).toBe(
      "DIGEST_MISMATCH",
    );
    expect(digestOf(bytes, "sha512")).toMatch(/^sha512:[0-9a-f]{128}$/);
  });
});
