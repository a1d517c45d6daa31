import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SkiffError } from "../../src/errors.ts";
import {
  formatPlatform,
  normalizeArchitecture,
  type Platform,
  parsePlatform,
  parsePlatformObject,
  platformMatches,
  samePlatform,
} from "../../src/oci/platform.ts";

const RUNS = { numRuns: 2000 };

function onlySkiffError<T>(fn: () => T): T | SkiffError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SkiffError)) {
      throw new Error(`threw ${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
    return error;
  }
}

// Names an attacker or a typo can produce, including keys every JS object inherits.
const prototypeKeys = ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf"];
const nameChars = "abcdefxyzABZ0189_.-".split("");
const name = fc.oneof(
  fc.array(fc.constantFrom(...nameChars), { minLength: 1, maxLength: 10 }).map((c) => c.join("")),
  fc.constantFrom(
    ...prototypeKeys,
    "aarch64",
    "x86_64",
    "x86-64",
    "i386",
    "armhf",
    "arm64",
    "amd64",
    "windows",
  ),
);
const platformText = fc.oneof(
  fc
    .tuple(name, fc.option(name), fc.option(name), fc.option(fc.string({ maxLength: 12 })))
    .map(([os, arch, variant, ver]) => {
      let text = os;
      if (arch !== null) text += `/${arch}`;
      if (arch !== null && variant !== null) text += `/${variant}`;
      if (ver !== null) text += `:${ver}`;
      return text;
    }),
  fc.string({ maxLength: 40 }),
  fc
    .array(fc.constantFrom("linux", "/", ":", "amd64", "v8", "", " ", "\u0000", "10.0.1"), { maxLength: 8 })
    .map((p) => p.join("")),
);

describe("platform parser fuzzing", () => {
  test("parsePlatform throws nothing but SkiffError, and what it returns is all strings", () => {
    fc.assert(
      fc.property(platformText, (text) => {
        const platform = onlySkiffError(() => parsePlatform(text));
        if (platform instanceof SkiffError) {
          expect(platform.code).toBe("INVALID_PLATFORM");
          return;
        }
        expect(typeof platform.os).toBe("string");
        expect(typeof platform.architecture).toBe("string");
        if (platform.variant !== undefined) expect(typeof platform.variant).toBe("string");
        if (platform["os.version"] !== undefined) expect(typeof platform["os.version"]).toBe("string");
      }),
      RUNS,
    );
  });

  test("normalizeArchitecture always returns a string", () => {
    fc.assert(
      fc.property(name, (arch) => {
        expect(typeof normalizeArchitecture(arch)).toBe("string");
      }),
      RUNS,
    );
  });

  // Platforms as parsePlatform produces them: lowercase, normalized architecture.
  const lowerName = fc
    .array(fc.constantFrom(..."abcdefxyz0189_.-".split("")), { minLength: 1, maxLength: 10 })
    .map((c) => c.join(""));
  const canonicalArch = lowerName.filter((a) => normalizeArchitecture(a) === a);
  const osVersion = fc
    .array(fc.constantFrom(..."0123456789.abcXY:-_+".split("")), { minLength: 1, maxLength: 16 })
    .map((c) => c.join(""));
  const canonical: fc.Arbitrary<Platform> = fc
    .record(
      { os: lowerName, architecture: canonicalArch, variant: lowerName, "os.version": osVersion },
      { requiredKeys: ["os", "architecture"] },
    )
    .map((p) => p as Platform);

  test("parsePlatform(formatPlatform(p)) == p for canonical platforms", () => {
    fc.assert(
      fc.property(canonical, (platform) => {
        fc.pre(platform.variant === undefined || platform.architecture !== undefined);
        expect(parsePlatform(formatPlatform(platform))).toEqual(platform);
      }),
      RUNS,
    );
  });

  test("formatPlatform(parsePlatform(text)) parses back to the same platform", () => {
    let accepted = 0;
    fc.assert(
      fc.property(platformText, (text) => {
        const platform = onlySkiffError(() => parsePlatform(text));
        if (platform instanceof SkiffError) return;
        accepted++;
        expect(parsePlatform(formatPlatform(platform))).toEqual(platform);
      }),
      RUNS,
    );
    // The property means little unless the generator reaches accepted inputs.
    expect(accepted).toBeGreaterThan(100);
  });

  const anyPlatform: fc.Arbitrary<Platform> = fc
    .record(
      {
        os: fc.oneof(name, fc.constant("windows")),
        architecture: name,
        variant: name,
        "os.version": fc.oneof(osVersion, fc.constant("10.0.17763.1234")),
        "os.features": fc.array(name, { maxLength: 3 }),
      },
      { requiredKeys: ["os", "architecture"] },
    )
    .map((p) => p as Platform);

  test("platformMatches and samePlatform are reflexive", () => {
    fc.assert(
      fc.property(anyPlatform, (platform) => {
        expect(platformMatches(platform, platform)).toBe(true);
        expect(samePlatform(platform, platform)).toBe(true);
      }),
      RUNS,
    );
  });

  test("samePlatform is symmetric and implies platformMatches both ways", () => {
    fc.assert(
      fc.property(anyPlatform, anyPlatform, (a, b) => {
        expect(samePlatform(a, b)).toBe(samePlatform(b, a));
        if (samePlatform(a, b)) {
          expect(platformMatches(a, b)).toBe(true);
          expect(platformMatches(b, a)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  test("parsePlatformObject throws nothing but SkiffError on arbitrary JSON", () => {
    let accepted = 0;
    const value = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          os: fc.oneof(name, fc.jsonValue()),
          architecture: fc.oneof(name, fc.jsonValue()),
          variant: fc.jsonValue(),
          "os.version": fc.jsonValue(),
          "os.features": fc.oneof(fc.array(name), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      // Arbitrary JSON is rarely a platform; valid ones mixed in keep the check below reached.
      anyPlatform,
    );
    fc.assert(
      fc.property(value, (json) => {
        const platform = onlySkiffError(() => parsePlatformObject(json, "fuzz"));
        if (platform instanceof SkiffError) return;
        accepted++;
        expect(platformMatches(platform, platform)).toBe(true);
      }),
      RUNS,
    );
    // The property means little unless the generator reaches accepted inputs.
    expect(accepted).toBeGreaterThan(100);
  });
});
