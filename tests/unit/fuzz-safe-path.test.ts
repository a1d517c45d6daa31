import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import fc from "fast-check";
import { checkTitle, isInside, resolveLinkInside } from "../../src/content/files/safe-path.ts";
import { SkiffError } from "../../src/errors.ts";

const RUNS = { numRuns: 3000 };

// Pieces that path attacks are made of.
const piece = fc.constantFrom(
  "..",
  ".",
  "",
  "a",
  "b.txt",
  "/",
  "\\",
  "C:",
  "c:",
  "\u0000",
  "..\\",
  "%2e%2e",
  "\u2024\u2024",
  "~",
  " ",
  "....",
  "./",
  "//",
);
const hostilePath = fc.oneof(
  fc.array(piece, { maxLength: 8 }).map((parts) => parts.join("")),
  fc.array(piece, { maxLength: 8 }).map((parts) => parts.join("/")),
  fc.string({ maxLength: 30 }),
);

describe("title safety fuzzing", () => {
  test("an accepted title always lands strictly inside the output directory", () => {
    const root = "/srv/out";
    fc.assert(
      fc.property(hostilePath, (title) => {
        let name: string;
        try {
          name = checkTitle(title, false);
        } catch (error) {
          if (!(error instanceof SkiffError)) throw error;
          expect(error.code).toBe("UNSAFE_PATH");
          return;
        }
        expect(name).not.toContain("\u0000");
        expect(name).not.toContain("\\");
        expect(name.startsWith("/")).toBe(false);
        expect(/^[A-Za-z]:/.test(name)).toBe(false);
        expect(name.split("/")).not.toContain("..");
        const path = posix.join(root, name);
        expect(isInside(root, path)).toBe(true);
        expect(path).not.toBe(root);
      }),
      RUNS,
    );
  });

  test("with -T only empty and NUL titles are refused", () => {
    fc.assert(
      fc.property(hostilePath, (title) => {
        try {
          checkTitle(title, true);
        } catch (error) {
          if (!(error instanceof SkiffError)) throw error;
          expect(title.trim() === "" || title.includes("\u0000")).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe("symlink target fuzzing", () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "skiff-fuzz-links-")));
    root = join(base, "root");
    outside = join(base, "outside");
    mkdirSync(join(root, "a", "b"), { recursive: true });
    mkdirSync(outside);
    symlinkSync("..", join(root, "a", "up")); // inside: a/up -> root
    symlinkSync("../..", join(root, "a", "b", "upup")); // inside: a/b/upup -> root
    symlinkSync(outside, join(root, "abs-out")); // leaves
    symlinkSync("../outside", join(root, "rel-out")); // leaves
    symlinkSync("loop2", join(root, "loop1"));
    symlinkSync("loop1", join(root, "loop2"));
  });
  afterAll(() => {
    rmSync(join(root, ".."), { recursive: true, force: true });
  });

  const linkPiece = fc.constantFrom(
    "..",
    ".",
    "a",
    "b",
    "up",
    "upup",
    "abs-out",
    "rel-out",
    "loop1",
    "new",
    "",
  );
  const target = fc.array(linkPiece, { minLength: 1, maxLength: 7 }).map((parts) => parts.join("/"));
  const from = fc.constantFrom("", "a", "a/b");

  test("resolveLinkInside never answers a place outside the root", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(target, from, async (link, dir) => {
        const landed = await resolveLinkInside(root, join(root, dir), link);
        if (landed === undefined) return;
        accepted++;
        expect(isInside(root, landed)).toBe(true);
        // Where the kernel would land (for the part that exists) agrees: it is inside too.
        let real: string | undefined;
        try {
          real = realpathSync(join(root, dir, link));
        } catch {
          real = undefined;
        }
        if (real !== undefined) expect(isInside(root, real)).toBe(true);
      }),
      { numRuns: 1500 },
    );
    // The property means little unless the generator reaches accepted inputs.
    expect(accepted).toBeGreaterThan(100);
  });

  test("links through abs-out or rel-out are always refused", async () => {
    for (const link of [
      "abs-out",
      "rel-out/x",
      "a/up/abs-out",
      "a/b/upup/rel-out",
      "../outside",
      "a/../../outside",
    ]) {
      expect(await resolveLinkInside(root, root, link)).toBeUndefined();
    }
  });
});
