import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Help } from "commander";
import { COMMANDS, commandTerm, topLevelHelp } from "../../src/cli/command-table.ts";
import { buildProgram, run } from "../../src/cli/program.ts";
import { captureConsole as capture } from "../fixtures/capture-console.ts";

describe("the command table", () => {
  test("names, aliases and terms match the commands once loaded", async () => {
    const program = await buildProgram(capture());
    const help = new Help();
    const loaded = program.commands.map((command) => ({
      name: command.name(),
      term: help.subcommandTerm(command),
    }));
    expect(COMMANDS.map((entry) => ({ name: entry.name, term: commandTerm(entry) }))).toEqual(loaded);
  });

  test("the top-level help printed without commander is commander's", async () => {
    const program = await buildProgram(capture());
    expect(topLevelHelp()).toBe(program.helpInformation());
  });

  test("commander's top-level help is the same when only one command is loaded", async () => {
    const console = capture();
    expect(await run(["--help", "pull"], console)).toBe(0);
    expect(console.stdout).toBe(topLevelHelp());
  });

  test("`version` prints the same with and without commander", async () => {
    const direct = capture();
    expect(await run(["version"], direct)).toBe(0);
    const viaCommander = capture();
    await (await buildProgram(viaCommander, "version")).parseAsync(["version"], { from: "user" });
    expect(viaCommander.stdout).toBe(direct.stdout);
    expect(direct.stdout).toContain("Version:");
  });
});

describe("the bundle's entry chunk", () => {
  // What the entry chunk imports is paid by every run, `skiff version` included.
  test("loads neither commander nor any node: built-in but process", () => {
    const outdir = mkdtempSync(join(tmpdir(), "skiff-entry-"));
    try {
      const root = resolve(import.meta.dir, "..", "..");
      const result = Bun.spawnSync(
        [
          process.execPath,
          "build",
          "--target=bun",
          "--splitting",
          "--format=esm",
          "main.ts",
          "--outdir",
          outdir,
        ],
        { cwd: root, stdout: "ignore", stderr: "pipe" },
      );
      expect(result.stderr.toString()).toBe("");
      const imported = new Set<string>();
      const visit = (file: string): void => {
        const text = readFileSync(join(outdir, file), "utf8");
        // Static imports only: `import ... from "x"` at the start of a line (dynamic ones are lazy).
        for (const [, from] of text.matchAll(/^(?:import|export)[^;]*?from\s*"([^"]+)"/gms)) {
          if (!from || imported.has(from)) continue;
          imported.add(from);
          if (from.startsWith("./")) visit(from.slice(2));
        }
      };
      expect(readdirSync(outdir)).toContain("main.js");
      visit("main.js");
      const external = [...imported].filter((name) => !name.startsWith("./")).sort();
      expect(external).toEqual(["process"]);
      const bundled = [...imported].filter((name) => name.startsWith("./"));
      for (const chunk of bundled)
        expect(readFileSync(join(outdir, chunk), "utf8")).not.toContain("commander");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
