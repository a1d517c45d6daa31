/**
 * `npm run check` enforces the shape of the code: it fails on an import that points up the layers
 * (biome noRestrictedImports per folder), on an import cycle (biome noImportCycles) and on an
 * export no other file imports (scripts/check-exports.ts). Each case is proved on a scratch copy
 * of the repository with one such line added; the unchanged copy passes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..", "..");
const scratches: string[] = [];

afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

/** A copy of what the checks read: sources, tests, scripts and the tool configs. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-layers-"));
  scratches.push(dir);
  for (const name of ["src", "tests", "scripts", "main.ts", "biome.json", "tsconfig.json", "package.json"]) {
    cpSync(join(repo, name), join(dir, name), { recursive: true });
  }
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function run(dir: string, command: string, args: string[]): { code: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const lint = (dir: string) => run(dir, join(dir, "node_modules", ".bin", "biome"), ["lint", "src"]);
const exportsCheck = (dir: string) =>
  run(dir, process.execPath, [join(dir, "scripts", "check-exports.ts"), dir]);

describe("npm run check keeps the layers", () => {
  const dir = scratchCopy();

  test("the unchanged copy passes both checks", () => {
    const linted = lint(dir);
    expect(linted.output).not.toContain("noRestrictedImports");
    expect(linted.output).not.toContain("noImportCycles");
    expect(linted.code).toBe(0);
    const exported = exportsCheck(dir);
    expect(exported.output).toContain("every export under src/ is imported somewhere");
    expect(exported.code).toBe(0);
  });

  test("an upward import (a store importing from src/ops) fails", () => {
    const copy = scratchCopy();
    appendFileSync(join(copy, "src/content/verify.ts"), 'export { limiter } from "../ops/copy-graph.ts";\n');
    const linted = lint(copy);
    expect(linted.code).not.toBe(0);
    expect(linted.output).toMatch(/src\/content\/verify\.ts:\d+:\d+ lint\/style\/noRestrictedImports/);
    expect(linted.output).toContain("imports only point down");
  });

  test("an import cycle fails", () => {
    const copy = scratchCopy();
    // descriptor.ts imports digest.ts; this line makes digest.ts import descriptor.ts back.
    appendFileSync(
      join(copy, "src/oci/digest.ts"),
      'export { isObject as anyObject } from "./descriptor.ts";\n',
    );
    const linted = lint(copy);
    expect(linted.code).not.toBe(0);
    expect(linted.output).toMatch(/src\/oci\/digest\.ts:\d+:\d+ lint\/suspicious\/noImportCycles/);
  });

  test("an export nobody imports fails, naming it", () => {
    const copy = scratchCopy();
    appendFileSync(join(copy, "src/oci/digest.ts"), "export const importedByNobody = 1;\n");
    const exported = exportsCheck(copy);
    expect(exported.code).toBe(1);
    expect(exported.output).toContain("src/oci/digest.ts: importedByNobody");
  });
});
