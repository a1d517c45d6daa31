/**
 * How the command line takes ORAS's flag habits, in-process: Go-style `--flag=true|false` for
 * flags without a value, the deprecated `-v/--verbose` (accepted, with ORAS's warning line), and
 * usage errors exiting 1 with the usage line.
 */
import { describe, expect, test } from "bun:test";
import { Command } from "commander";
import { VERBOSE_DEPRECATED } from "../../src/cli/flags.ts";
import { booleanFlagValues, run } from "../../src/cli/program.ts";
import { captureConsole } from "../fixtures/capture-console.ts";

function command(): Command {
  return new Command("x")
    .option("--plain-http")
    .option("--no-tty")
    .option("-v, --verbose")
    .option("--no-verbose")
    .option("--format <format>");
}

describe("--flag=true|false for flags without a value", () => {
  test("true is the flag, false its --no- form when there is one, else nothing", () => {
    expect(booleanFlagValues(["--verbose=false", "--plain-http=true", "a"], command())).toEqual([
      "--no-verbose",
      "--plain-http",
      "a",
    ]);
    expect(booleanFlagValues(["--plain-http=false", "-v=1", "--no-tty=True"], command())).toEqual([
      "--verbose",
      "--no-tty",
    ]);
    expect(booleanFlagValues(["--plain-http=0", "--no-tty=F"], command())).toEqual([]);
  });

  test("flags with values, unknown flags and words after -- pass unchanged", () => {
    const words = ["--format=json", "--bogus=false", "x=y", "--", "--verbose=false"];
    expect(booleanFlagValues(words, command())).toEqual(words);
  });

  test("a value that is not a boolean is a usage error naming it", () => {
    expect(() => booleanFlagValues(["--verbose=maybe"], command())).toThrow(
      'invalid argument "maybe" for --verbose',
    );
  });
});

describe("-v/--verbose", () => {
  test("is accepted where ORAS has it, with ORAS's deprecation line on stderr before the usage error", async () => {
    for (const args of [
      ["resolve", "--verbose"],
      ["resolve", "-v"],
      ["resolve", "--verbose=false"],
      ["repo", "tags", "--verbose"],
      ["manifest", "fetch", "--verbose"],
      ["blob", "delete", "--verbose"],
    ]) {
      const console = captureConsole();
      const code = await run(args, console);
      expect({ args, code, first: console.stderr.split("\n")[0] }).toEqual({
        args,
        code: 1,
        first: VERBOSE_DEPRECATED,
      });
      expect(console.stderr).toContain("Error: missing required argument");
      expect(console.stderr).toContain("Usage: skiff");
    }
  });

  test("is an unknown flag where ORAS does not have it either", async () => {
    for (const args of [
      ["backup", "-o", "out", "--verbose", "localhost:5000/a"],
      ["restore", "--input", "in", "--verbose", "localhost:5000/a"],
      ["logout", "--verbose", "x"],
    ]) {
      const console = captureConsole();
      expect(await run(args, console)).toBe(1);
      expect(console.stderr).toStartWith("Error: unknown option '--verbose'");
    }
  });

  test("is hidden from help", async () => {
    const console = captureConsole();
    expect(await run(["discover", "--help"], console)).toBe(0);
    expect(console.stdout).not.toContain("--verbose");
  });
});
