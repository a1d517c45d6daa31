/**
 * docs/FROM-ORAS.md names skiff flags; docs/commands/ is generated from `--help` and checked
 * against it (scripts/gen-command-docs.ts --check). This keeps the page honest in between: every
 * long flag it mentions exists in some command's help, except the ORAS flags it says skiff lacks.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const page = readFileSync(join(ROOT, "docs", "FROM-ORAS.md"), "utf8");
const help = readdirSync(join(ROOT, "docs", "commands"))
  .map((name) => readFileSync(join(ROOT, "docs", "commands", name), "utf8"))
  .join("\n");

/** ORAS flags the page lists as missing from skiff. */
const NOT_IN_SKIFF = new Set<string>([]);
/** ORAS's deprecated flags skiff accepts without listing them in --help. */
const HIDDEN = new Set(["--verbose"]);

describe("docs/FROM-ORAS.md", () => {
  test("every flag it names for skiff is in the command help", () => {
    const flags = new Set(page.match(/--[a-z][a-z-]*[a-z]/g) ?? []);
    expect(flags.size).toBeGreaterThan(30);
    const unknown = [...flags].filter(
      (flag) => !NOT_IN_SKIFF.has(flag) && !HIDDEN.has(flag) && !help.includes(flag),
    );
    expect(unknown).toEqual([]);
  });

  test("the deprecated --verbose it says skiff accepts is hidden from the help", () => {
    const pull = readFileSync(join(ROOT, "docs", "commands", "pull.md"), "utf8");
    expect(pull).not.toContain("--verbose");
  });

  test("the ORAS flags it says skiff has are in the help", () => {
    const pull = readFileSync(join(ROOT, "docs", "commands", "pull.md"), "utf8");
    const cp = readFileSync(join(ROOT, "docs", "commands", "cp.md"), "utf8");
    expect(pull).toContain("--config");
    expect(cp).toContain("--from-distribution-spec");
    expect(cp).toContain("--to-distribution-spec");
  });
});
