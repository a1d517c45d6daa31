import { describe, expect, test } from "bun:test";
import { SkiffError } from "../../src/errors.ts";
import {
  formatReference,
  parseLayoutReference,
  parseReference,
  parseRegistryReference,
  referenceName,
  withDigest,
} from "../../src/oci/reference.ts";

const D = `sha256:${"a".repeat(64)}`;
const D512 = `sha512:${"b".repeat(128)}`;

function invalid(fn: () => unknown, fragment?: string): SkiffError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkiffError);
    const e = error as SkiffError;
    expect(["INVALID_REFERENCE", "INVALID_DIGEST"]).toContain(e.code);
    if (fragment) expect(e.message + (e.hint ?? "")).toContain(fragment);
    return e;
  }
  throw new Error("expected an error");
}

describe("registry references", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["localhost:5000/repo:v1", { registry: "localhost:5000", repository: "repo", tag: "v1" }],
    ["ghcr.io/org/team/app:1.2.3", { registry: "ghcr.io", repository: "org/team/app", tag: "1.2.3" }],
    [`registry.example/repo@${D}`, { registry: "registry.example", repository: "repo", digest: D }],
    [`registry.example/repo:v1@${D}`, { repository: "repo", tag: "v1", digest: D }],
    [`registry.example/repo@${D512}`, { digest: D512 }],
    ["localhost:5000/repo", { registry: "localhost:5000", repository: "repo" }],
    ["[::1]:5000/repo:t", { registry: "[::1]:5000", repository: "repo", tag: "t" }],
    ["host/a.b_c__d-e--f/g:_T.t-1", { repository: "a.b_c__d-e--f/g", tag: "_T.t-1" }],
  ];
  for (const [text, expected] of cases) {
    test(`parses ${text}`, () => {
      const ref = parseRegistryReference(text);
      expect(ref.kind).toBe("registry");
      expect(ref).toMatchObject(expected);
      if (!("tag" in expected)) expect(ref.tag).toBeUndefined();
      if (!("digest" in expected)) expect(ref.digest).toBeUndefined();
    });
  }

  test("a tag list gives every tag", () => {
    const ref = parseReference("localhost:5000/repo:a,b,c", { tagList: true });
    expect(ref.tags).toEqual(["a", "b", "c"]);
    expect(ref.tag).toBe("a");
    invalid(() => parseReference("localhost:5000/repo:a,b"), "tag");
  });

  test("bad references are refused with the reason", () => {
    invalid(() => parseRegistryReference("repo:tag"), "missing registry host");
    invalid(() => parseRegistryReference("host/Repo:tag"), "repository");
    invalid(() => parseRegistryReference("host/repo:-bad"), "tag");
    invalid(() => parseRegistryReference(`host/repo:${"t".repeat(129)}`), "tag");
    expect(parseRegistryReference(`host/repo:${"t".repeat(128)}`).tag).toHaveLength(128);
    invalid(() => parseRegistryReference("host/repo@sha256:abc"), "64");
    invalid(() => parseRegistryReference(`host/repo@md5:${"a".repeat(32)}`), "md5");
    invalid(() => parseRegistryReference("host/repo//x"), "repository");
    invalid(() => parseRegistryReference("host/repo__"), "repository");
    invalid(() => parseRegistryReference(`host/${"a".repeat(300)}`), "longer");
  });

  test("the missing-host error points at oci-layout:// for layouts", () => {
    const error = invalid(() => parseReference("./my-layout"));
    expect(error.hint).toContain("oci-layout://");
  });
});

describe("layout references (ORAS rules)", () => {
  const cases: [string, { path: string; tag?: string; digest?: string }][] = [
    ["./layout", { path: "./layout" }],
    ["./layout:v1", { path: "./layout", tag: "v1" }],
    ["layout.tar:v1", { path: "layout.tar", tag: "v1" }],
    [`./layout@${D}`, { path: "./layout", digest: D }],
    [`/a@b/layout@${D}`, { path: "/a@b/layout", digest: D }],
    ["/a:b/layout", { path: "/a:b/layout" }],
    ["/a:b/layout:t", { path: "/a:b/layout", tag: "t" }],
    ["C:\\layouts\\foo", { path: "C:\\layouts\\foo" }],
    ["C:\\layouts\\foo:v2", { path: "C:\\layouts\\foo", tag: "v2" }],
    ["C:/layouts/foo", { path: "C:/layouts/foo" }],
    [`C:\\layouts\\foo@${D}`, { path: "C:\\layouts\\foo", digest: D }],
    ["dir@notadigest", { path: "dir@notadigest" }],
  ];
  for (const [text, expected] of cases) {
    test(`--oci-layout ${text}`, () => {
      const ref = parseReference(text, { layout: true });
      if (ref.kind !== "layout") throw new Error("not a layout reference");
      expect({ path: ref.path, tag: ref.tag, digest: ref.digest }).toEqual({
        path: expected.path,
        tag: expected.tag,
        digest: expected.digest,
      });
      expect(parseReference(`oci-layout://${text}`)).toEqual(ref);
    });
  }

  test("oci-layout:// works without --oci-layout, and with registry flags around", () => {
    expect(parseReference("oci-layout://out:v1")).toMatchObject({ kind: "layout", path: "out", tag: "v1" });
    expect(parseReference("oci-layout://out")).toMatchObject({ kind: "layout", path: "out", tags: [] });
  });

  test("--oci-layout-path makes the whole argument the tag or digest", () => {
    expect(parseReference("v1", { layoutPath: "./dir:x" })).toMatchObject({ path: "./dir:x", tag: "v1" });
    expect(parseReference(D, { layoutPath: "./dir" })).toMatchObject({ path: "./dir", digest: D });
    expect(parseReference("", { layoutPath: "./dir" })).toMatchObject({ path: "./dir", tags: [] });
    expect(parseReference("a,b", { layoutPath: "d", tagList: true }).tags).toEqual(["a", "b"]);
    invalid(() => parseReference("bad tag", { layoutPath: "d" }), "tag");
  });

  test("an empty tag is no tag, as ORAS reads it: `PATH:`, `oci-layout://PATH:`, `host/repo:`", () => {
    const untagged = { kind: "layout" as const, path: "./out", tags: [] };
    expect(parseReference("./out:", { layout: true })).toEqual(untagged);
    expect(parseReference("oci-layout://./out:")).toEqual(untagged);
    expect(parseReference("./out:", { layout: true, tagList: true })).toEqual(untagged);
    expect(parseReference("/tmp/a:b:", { layout: true })).toEqual({
      kind: "layout",
      path: "/tmp/a:b",
      tags: [],
    });
    expect(parseReference("localhost:5000/app:")).toEqual({
      kind: "registry",
      registry: "localhost:5000",
      repository: "app",
      tags: [],
    });
  });

  test("bad layout references", () => {
    invalid(() => parseLayoutReference(""), "empty");
    invalid(() => parseLayoutReference("./x@sha256:1234"), "64");
    invalid(() => parseLayoutReference("./x:bad!tag"), "tag");
  });

  test("format and name round trip", () => {
    for (const text of ["./l", "./l:v1", `./l@${D}`, "C:\\l:v1"]) {
      expect(formatReference(parseLayoutReference(text))).toBe(text);
    }
    for (const text of ["h:1/r:v1", `h/r@${D}`, `h/r:v1@${D}`, "h/r"]) {
      expect(formatReference(parseRegistryReference(text))).toBe(text);
    }
    expect(referenceName(parseLayoutReference("./l:v1"))).toBe("./l");
    expect(formatReference(withDigest(parseRegistryReference("h/r:v1"), D))).toBe(`h/r@${D}`);
  });
});
