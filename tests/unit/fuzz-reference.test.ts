import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SkiffError } from "../../src/errors.ts";
import {
  formatReference,
  type LayoutReference,
  parseLayoutReference,
  parseReference,
  parseRegistryReference,
  type RegistryReference,
} from "../../src/oci/reference.ts";

const RUNS = { numRuns: 2000 };

/** Runs `fn`; anything thrown must be a SkiffError with a message (never a TypeError or RangeError). */
function onlySkiffError<T>(fn: () => T): T | SkiffError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SkiffError)) {
      throw new Error(`threw ${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
    expect(error.message.length).toBeGreaterThan(0);
    return error;
  }
}

// Characters that matter to the grammar, plus prototype keys and odd unicode.
const grammarChar = fc.constantFrom(
  ..."abcxyz019ABZ:/@._-\\ +,=%\u0000\u00e9\u202e\ud83d\ude00".split(""),
  "sha256:",
  "sha512:",
  "constructor",
  "__proto__",
  "oci-layout://",
  "C:\\",
  "localhost:5000/",
  "[::1]:5000/",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
);
const grammarText = fc.array(grammarChar, { maxLength: 24 }).map((parts) => parts.join(""));
const anyText = fc.oneof(
  grammarText,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

const options = fc.record(
  {
    layout: fc.boolean(),
    layoutPath: fc.oneof(fc.constant("/tmp/layout"), fc.string({ maxLength: 10 })),
    tagList: fc.boolean(),
  },
  { requiredKeys: [] },
);

// Valid pieces of the distribution grammar.
const lower = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789".split(""));
const alnumRun = fc.array(lower, { minLength: 1, maxLength: 6 }).map((c) => c.join(""));
const separator = fc.constantFrom(".", "_", "__", "-", "--");
const component = fc
  .tuple(alnumRun, fc.array(fc.tuple(separator, alnumRun), { maxLength: 2 }))
  .map(([head, tail]) => head + tail.map(([s, r]) => s + r).join(""));
const repository = fc.array(component, { minLength: 1, maxLength: 3 }).map((c) => c.join("/"));
const label = fc
  .tuple(
    fc.constantFrom(..."abcXYZ019".split("")),
    fc.array(fc.constantFrom(..."abz09-".split("")), { maxLength: 5 }),
    fc.constantFrom(..."aZ9".split("")),
  )
  .map(([a, mid, z]) => a + mid.join("") + z);
const host = fc.oneof(
  fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 1, max: 65535 })))
    .map(([labels, port]) => labels.join(".") + (port === null ? "" : `:${port}`)),
  fc.constantFrom("localhost:5000", "[::1]:5000", "127.0.0.1"),
);
const tagChars = "abcXYZ019_.-".split("");
const tag = fc
  .tuple(fc.constantFrom(..."aZ9_".split("")), fc.array(fc.constantFrom(...tagChars), { maxLength: 127 }))
  .map(([first, rest]) => first + rest.join(""));
const hex = (length: number) =>
  fc
    .array(fc.constantFrom(..."0123456789abcdef".split("")), { minLength: length, maxLength: length })
    .map((c) => c.join(""));
const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

describe("reference parser fuzzing", () => {
  test("parseReference throws nothing but SkiffError on arbitrary text and options", () => {
    fc.assert(
      fc.property(anyText, options, (text, opts) => {
        onlySkiffError(() => parseReference(text, opts));
      }),
      RUNS,
    );
  });

  test("parseRegistryReference and parseLayoutReference throw nothing but SkiffError", () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (text, tagList) => {
        onlySkiffError(() => parseRegistryReference(text, tagList));
        onlySkiffError(() => parseLayoutReference(text, tagList));
      }),
      RUNS,
    );
  });

  test("a parsed registry reference only holds grammar-valid parts", () => {
    // Arbitrary text rarely parses; valid references mixed in keep the checks below reached.
    const validText = fc
      .tuple(host, repository, fc.array(tag, { maxLength: 2 }), fc.option(digest))
      .map(
        ([h, repo, tags, d]) => `${h}/${repo}${tags.length ? `:${tags.join(",")}` : ""}${d ? `@${d}` : ""}`,
      );
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(anyText, validText), (text) => {
        const ref = onlySkiffError(() => parseRegistryReference(text, true));
        if (ref instanceof SkiffError) return;
        accepted++;
        expect(ref.repository).toMatch(
          /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/,
        );
        for (const t of ref.tags) expect(t).toMatch(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/);
        if (ref.digest !== undefined)
          expect(ref.digest).toMatch(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
      }),
      RUNS,
    );
    // The property means little unless the generator reaches accepted inputs.
    expect(accepted).toBeGreaterThan(100);
  });

  test("registry references round-trip: parse(format(ref)) == ref", () => {
    fc.assert(
      fc.property(host, repository, fc.option(tag), fc.option(digest), (registry, repo, t, d) => {
        fc.pre(registry.length + 1 + repo.length <= 255);
        const ref: RegistryReference = { kind: "registry", registry, repository: repo };
        if (t !== null) ref.tag = t;
        if (d !== null) ref.digest = d;
        const text = formatReference(ref);
        const parsed = parseRegistryReference(text);
        expect(parsed.registry).toBe(registry);
        expect(parsed.repository).toBe(repo);
        expect(parsed.tag).toBe(ref.tag);
        expect(parsed.digest).toBe(ref.digest);
        expect(formatReference(parsed)).toBe(text);
      }),
      RUNS,
    );
  });

  test("registry references with a tag list keep every tag in order", () => {
    fc.assert(
      fc.property(host, repository, fc.array(tag, { minLength: 1, maxLength: 4 }), (registry, repo, tags) => {
        fc.pre(registry.length + 1 + repo.length <= 255);
        const parsed = parseRegistryReference(`${registry}/${repo}:${tags.join(",")}`, true);
        expect(parsed.tags).toEqual(tags);
        expect(parsed.tag).toBe(tags[0]);
      }),
      RUNS,
    );
  });

  // Layout paths: anything without '@' (a path holding '@x:' is read as a digest, see RELIABILITY.md).
  const layoutPath = fc
    .array(fc.constantFrom(..."ab/._-:\\ 09".split(""), "C:\\", "/tmp/", "dir:x/"), {
      minLength: 1,
      maxLength: 12,
    })
    .map((p) => p.join(""))
    .filter((p) => p !== "" && !p.endsWith(":"));

  test("layout references with a tag or digest round-trip: parse(format(ref)) == ref", () => {
    fc.assert(
      fc.property(
        layoutPath,
        fc.oneof(
          tag.map((t) => ({ tag: t })),
          digest.map((d) => ({ digest: d })),
        ),
        (path, which) => {
          const ref = { kind: "layout", path, ...which } as LayoutReference;
          const parsed = parseLayoutReference(formatReference(ref));
          expect(parsed.path).toBe(path);
          expect(parsed.tag).toBe(ref.tag);
          expect(parsed.digest).toBe(ref.digest);
        },
      ),
      RUNS,
    );
  });

  test("layout text round-trips: format(parse(text)) == text when it parses without a tag list", () => {
    let accepted = 0;
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = onlySkiffError(() => parseLayoutReference(text));
        if (parsed instanceof SkiffError) return;
        accepted++;
        // An empty tag (`PATH:`) is no tag, as in ORAS: the colon does not come back.
        const emptyTag = parsed.tag === undefined && parsed.digest === undefined && parsed.path !== text;
        expect(formatReference(parsed)).toBe(emptyTag ? text.slice(0, -1) : text);
      }),
      RUNS,
    );
    // The property means little unless the generator reaches accepted inputs.
    expect(accepted).toBeGreaterThan(100);
  });

  test("an empty tag is no tag, on layouts and registries", () => {
    fc.assert(
      fc.property(layoutPath, fc.boolean(), (path, tagList) => {
        expect(parseLayoutReference(`${path}:`, tagList)).toEqual({ kind: "layout", path, tags: [] });
      }),
      RUNS,
    );
    fc.assert(
      fc.property(host, repository, (registry, repo) => {
        fc.pre(registry.length + 1 + repo.length <= 255);
        const parsed = parseRegistryReference(`${registry}/${repo}:`);
        expect(parsed).toEqual({ kind: "registry", registry, repository: repo, tags: [] });
      }),
      RUNS,
    );
  });

  test("oci-layout:// prefix is the same as --oci-layout", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        fc.pre(!text.startsWith("oci-layout://"));
        const a = onlySkiffError(() => parseReference(`oci-layout://${text}`));
        const b = onlySkiffError(() => parseReference(text, { layout: true }));
        if (a instanceof SkiffError || b instanceof SkiffError) {
          expect(a instanceof SkiffError).toBe(b instanceof SkiffError);
          return;
        }
        expect(a).toEqual(b);
      }),
      RUNS,
    );
  });

  test("--oci-layout-path takes the whole argument as tag or digest", () => {
    fc.assert(
      fc.property(fc.oneof(tag, digest), (value) => {
        const ref = parseReference(value, { layoutPath: "/some/dir:with@odd" });
        expect(ref.kind).toBe("layout");
        expect(ref.kind === "layout" && ref.path).toBe("/some/dir:with@odd");
        expect(ref.tag ?? ref.digest).toBe(value);
      }),
      RUNS,
    );
  });
});
