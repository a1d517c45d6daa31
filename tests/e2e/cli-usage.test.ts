/**
 * Usage errors (exit code 1, as in ORAS) look the same whether commander finds them (missing argument, unknown
 * flag or command) or a command's action does (a SkiffError with the USAGE code):
 *   Error: what is wrong
 *   [hint]
 *   Usage: skiff CMD [options] <args>
 *   Run 'skiff CMD --help' for the options and examples.
 */
import { describe, expect, test } from "bun:test";
import { runSkiff, tmpDir } from "../harness/skiff.ts";

async function runResult(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runSkiff(args);
  return { code, stdout, stderr };
}

describe("usage errors", () => {
  test("a missing argument names it, then shows the command's usage line", async () => {
    expect(await runResult(["pull"])).toEqual({
      code: 1,
      stdout: "",
      stderr: [
        "Error: missing required argument 'reference'",
        "Usage: skiff pull [options] <reference>",
        "Run 'skiff pull --help' for the options and examples.",
        "",
      ].join("\n"),
    });
  }, 30_000);

  test("an unknown flag of a sub-command shows that sub-command's usage line", async () => {
    expect(await runResult(["blob", "fetch", "--bogus", "localhost:5000/repo@sha256:0"])).toEqual({
      code: 1,
      stdout: "",
      stderr: [
        "Error: unknown option '--bogus'",
        "Usage: skiff blob fetch|get [options] <reference>",
        "Run 'skiff blob fetch --help' for the options and examples.",
        "",
      ].join("\n"),
    });
  }, 30_000);

  test("an unknown command suggests the closest one on the hint line", async () => {
    expect(await runResult(["pul", "localhost:5000/repo:v1"])).toEqual({
      code: 1,
      stdout: "",
      stderr: [
        "Error: unknown command 'pul'",
        "Did you mean pull?",
        "Usage: skiff [options] [command]",
        "Run 'skiff --help' for the list of commands.",
        "",
      ].join("\n"),
    });
  }, 30_000);

  test("a usage error from inside a command keeps its hint and adds the usage line", async () => {
    expect(await runResult(["completion", "tcsh"])).toEqual({
      code: 1,
      stdout: "",
      stderr: [
        'Error: unknown shell "tcsh"',
        "use one of: bash, zsh, fish, powershell",
        "Usage: skiff completion [options] <shell>",
        "Run 'skiff completion --help' for the options and examples.",
        "",
      ].join("\n"),
    });
  }, 30_000);

  test("a bad flag value found by the command is a usage error with the usage line", async () => {
    const result = await runResult(["pull", "--concurrency", "two", `oci-layout://${tmpDir()}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        'Error: --concurrency must be a whole number, got "two"',
        "Usage: skiff pull [options] <reference>",
        "Run 'skiff pull --help' for the options and examples.",
        "",
      ].join("\n"),
    );
  }, 30_000);

  test("a failure that is not a usage error has no usage line", async () => {
    const result = await runResult(["pull", `oci-layout://${tmpDir()}/missing`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith("Error: ");
    expect(result.stderr).not.toContain("Usage:");
  }, 30_000);
});
