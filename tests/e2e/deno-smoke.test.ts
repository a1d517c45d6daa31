/**
 * The smoke subset that CI also runs with the CLI started under Deno:
 *   SKIFF_UNDER_DENO=1 npx bun test tests/e2e/deno-smoke.test.ts
 * Without the variable the same tests drive the compiled binary. Add commands here that must keep
 * working on both runtimes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runSkiff, UNDER_DENO } from "../harness/skiff.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
};
const runtime = UNDER_DENO ? `deno ${pkg.devDependencies.deno}` : `bun ${pkg.devDependencies.bun}`;

describe(`smoke (${runtime})`, () => {
  test("version names the runtime it runs on", async () => {
    const result = await runSkiff(["version"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Version:    ${pkg.version}\n`);
    expect(result.stdout).toContain(`Runtime:    ${runtime}\n`);
    expect(result.stdout).toMatch(/^OS\/Arch: {4}linux\/(amd64|arm64)$/m);
  }, 30_000);

  test("--help lists the commands and exits 0", async () => {
    const result = await runSkiff(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith("Usage: skiff [options] [command]\n");
    expect(result.stdout).toMatch(/^ {2}version +Show the version/m);
  }, 30_000);

  test("an unknown command fails with a usage error on stderr", async () => {
    const result = await runSkiff(["no-such-command"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("unknown command 'no-such-command'");
  }, 30_000);
});
