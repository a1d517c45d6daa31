import { describe, expect, test } from "bun:test";
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

describe("parsing --platform", () => {
  const cases: [string, Platform][] = [
    ["linux/arm64/v8:el8", { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" }],
    ["linux/amd64:el9", { os: "linux", architecture: "amd64", "os.version": "el9" }],
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }],
    ["linux/x86_64", { os: "linux", architecture: "amd64" }],
    ["Linux/ARM64/V8", { os: "linux", architecture: "arm64", variant: "v8" }],
    [
      "windows/amd64:10.0.17763.1234",
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
    ],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
  ];
  for (const [text, expected] of cases) {
    test(text, () => {
      expect(parsePlatform(text)).toEqual(expected);
    });
  }

  test("a missing architecture is the host's", () => {
    expect(parsePlatform("linux", "arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("linux:el8", "amd64")).toEqual({
      os: "linux",
      architecture: "amd64",
      "os.version": "el8",
    });
  });

  for (const bad of [
    "",
    ":el8",
    "linux/",
    "linux//v8",
    "linux/arm64/v8/x",
    "linux/amd64:",
    "linux/amd 64",
    "linux/amd64:el 8",
  ]) {
    test(`refuses ${JSON.stringify(bad)} with the syntax in the hint`, () => {
      try {
        parsePlatform(bad);
        throw new Error("accepted");
      } catch (error) {
        expect(error).toBeInstanceOf(SkiffError);
        expect((error as SkiffError).code).toBe("INVALID_PLATFORM");
        expect((error as SkiffError).hint).toContain("os/arch[/variant][:os.version]");
      }
    });
  }

  test("format is the inverse of parse", () => {
    for (const text of ["linux/arm64/v8:el8", "linux/amd64", "windows/amd64:10.0.1"]) {
      expect(formatPlatform(parsePlatform(text))).toBe(text);
    }
  });

  test("normalizeArchitecture knows aliases and nothing from Object.prototype", () => {
    expect(normalizeArchitecture("AArch64")).toBe("arm64");
    expect(normalizeArchitecture("x86-64")).toBe("amd64");
    expect(normalizeArchitecture("constructor")).toBe("constructor");
  });
});

describe("platform objects", () => {
  test("validation names the field", () => {
    expect(() => parsePlatformObject({ os: "linux" }, "manifests[0].platform")).toThrow(
      "manifests[0].platform: architecture",
    );
    expect(() =>
      parsePlatformObject({ os: "linux", architecture: "amd64", "os.features": "x" }, "p"),
    ).toThrow("os.features");
    expect(() => parsePlatformObject("linux/amd64", "p")).toThrow("must be an object");
    expect(
      parsePlatformObject({ os: "linux", architecture: "amd64", variant: "", "os.features": [] }, "p"),
    ).toEqual({
      os: "linux",
      architecture: "amd64",
    });
  });
});

describe("matching", () => {
  const el8: Platform = { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" };
  const noVariant: Platform = { os: "linux", architecture: "arm64" };
  const p = (text: string) => parsePlatform(text);

  test("os and architecture are exact; variant and os.version only when asked", () => {
    expect(platformMatches(p("linux/arm64"), el8)).toBe(true);
    expect(platformMatches(p("linux/arm64/v8"), el8)).toBe(true);
    expect(platformMatches(p("linux/arm64/v8:el8"), el8)).toBe(true);
    expect(platformMatches(p("linux/arm64/v8:el9"), el8)).toBe(false);
    expect(platformMatches(p("linux/arm64/v7"), el8)).toBe(false);
    expect(platformMatches(p("linux/amd64"), el8)).toBe(false);
    expect(platformMatches(p("windows/arm64"), el8)).toBe(false);
    expect(platformMatches(p("linux/arm64:el8"), noVariant)).toBe(false);
  });

  test("arm64 without a variant is v8; aliases match", () => {
    expect(platformMatches(p("linux/arm64/v8"), noVariant)).toBe(true);
    expect(platformMatches(p("linux/aarch64/v8:el8"), el8)).toBe(true);
    expect(platformMatches(p("linux/arm/v7"), { os: "linux", architecture: "arm" })).toBe(false);
    expect(platformMatches(p("linux/amd64"), { os: "linux", architecture: "x86_64" })).toBe(true);
  });

  test("windows os.version compares major.minor.build", () => {
    const win: Platform = { os: "windows", architecture: "amd64", "os.version": "10.0.17763.5329" };
    expect(platformMatches(p("windows/amd64:10.0.17763"), win)).toBe(true);
    expect(platformMatches(p("windows/amd64:10.0.17763.1"), win)).toBe(true);
    expect(platformMatches(p("windows/amd64:10.0.20348"), win)).toBe(false);
  });

  test("os.features of the request must be a subset", () => {
    const have: Platform = { os: "windows", architecture: "amd64", "os.features": ["win32k", "x"] };
    expect(platformMatches({ os: "windows", architecture: "amd64", "os.features": ["win32k"] }, have)).toBe(
      true,
    );
    expect(platformMatches({ os: "windows", architecture: "amd64", "os.features": ["y"] }, have)).toBe(false);
    expect(platformMatches({ os: "windows", architecture: "amd64" }, have)).toBe(true);
  });

  test("samePlatform treats defaults and aliases as equal and os.version as significant", () => {
    expect(samePlatform(noVariant, { os: "linux", architecture: "aarch64", variant: "v8" })).toBe(true);
    expect(samePlatform(el8, { ...el8, "os.version": "el9" })).toBe(false);
  });
});
