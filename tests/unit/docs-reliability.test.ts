/**
 * docs/RELIABILITY.md names a test file and test for every case; this keeps the table honest: each
 * file exists and each named test is declared in it (titles built with `${...}` match any text there).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const doc = readFileSync(join(ROOT, "docs", "RELIABILITY.md"), "utf8");

/** Rows of the tables whose second cell is a test file: [case, file, test names]. */
function rows(): { caseName: string; file: string; names: string }[] {
  const out: { caseName: string; file: string; names: string }[] = [];
  for (const line of doc.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 5 || !/^tests\/.*\.test\.ts$/.test(cells[2]!)) continue;
    out.push({ caseName: cells[1]!, file: cells[2]!, names: cells[3]! });
  }
  return out;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The titles of `test(...)`/`describe(...)` calls in a file, as regexes (`${x}` matches anything). */
function declaredTitles(source: string): RegExp[] {
  const titles: RegExp[] = [];
  const call = /\b(?:test|it|describe)(?:\.\w+(?:\([^)]*\))?)*\(\s*(["'`])((?:\\.|(?!\1)[\s\S])*?)\1/g;
  for (const match of source.matchAll(call)) {
    const raw = match[2]!.replace(/\\(["'`\\])/g, "$1");
    const pattern = raw
      .split(/\$\{[^}]*\}/)
      .map(escapeRegExp)
      .join(".*");
    titles.push(new RegExp(`^${pattern}$`, "s"));
  }
  return titles;
}

describe("docs/RELIABILITY.md", () => {
  const table = rows();

  test("lists test files and tests", () => {
    expect(table.length).toBeGreaterThan(50);
  });

  test("every listed test exists in the listed file", () => {
    const missing: string[] = [];
    for (const { caseName, file, names } of table) {
      const path = join(ROOT, file);
      if (!existsSync(path)) {
        missing.push(`${caseName}: ${file} does not exist`);
        continue;
      }
      const titles = declaredTitles(readFileSync(path, "utf8"));
      const has = (name: string) => titles.some((t) => t.test(name));
      const wanted = has(names) ? [] : names.split("; ").filter((name) => !has(name));
      for (const name of wanted) missing.push(`${caseName}: "${name}" is not a test in ${file}`);
    }
    expect(missing).toEqual([]);
  });
});
