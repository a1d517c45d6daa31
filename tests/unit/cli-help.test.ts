/**
 * Every command's --help has a description paragraph and examples, and every example is a command
 * line skiff accepts: the right command, known flags, the right number of arguments. (Commands are
 * parsed, not run: their actions are replaced.)
 */
import { describe, expect, test } from "bun:test";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/program.ts";
import { captureConsole as capture } from "../fixtures/capture-console.ts";

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

function path(command: Command): string {
  return command.parent ? `${path(command.parent)} ${command.name()}` : command.name();
}

/** The example command lines of a help text, `\` continuations joined, comment lines left out. */
function examples(help: string): string[] {
  const block = help.split("\nExamples:\n")[1] ?? "";
  const lines: string[] = [];
  let pending = "";
  for (const raw of block.split("\n")) {
    if (!raw.startsWith("  ")) break;
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    pending += line.endsWith("\\") ? `${line.slice(0, -1)} ` : line;
    if (!line.endsWith("\\")) {
      lines.push(pending);
      pending = "";
    }
  }
  return lines;
}

/** Shell words of a `skiff ...` line up to a pipe or redirection; quotes removed. */
function skiffWords(line: string): string[] | undefined {
  const at = line.search(/(^|\s)skiff\s/);
  if (at < 0 || line.slice(0, at).includes("(")) return undefined;
  const words: string[] = [];
  for (const [, word] of line.slice(at).matchAll(/\s*((?:'[^']*'|"[^"]*"|[^\s'"])+)/g)) {
    if (/^[|<>]/.test(word!)) break;
    words.push(word!.replace(/'([^']*)'|"([^"]*)"/g, "$1$2"));
  }
  return words.slice(1);
}

async function helpOf(command: Command, console: ReturnType<typeof capture>): Promise<string> {
  console.stdout = "";
  command.outputHelp();
  return console.stdout;
}

describe("--help of every command", async () => {
  const console = capture();
  const program = await buildProgram(console);
  const commands = [...allCommands(program)];

  test.each(commands.map((command) => [path(command), command] as const))(
    "%s: a description paragraph and pasteable examples",
    async (_name, command) => {
      const help = await helpOf(command, console);
      expect(command.description().length).toBeGreaterThan(command.summary().length);
      expect(command.description()).toMatch(/\.$/);
      const lines = examples(help);
      expect(lines.length).toBeGreaterThanOrEqual(2);

      for (const line of lines) {
        const words = skiffWords(line);
        if (!words) continue;
        const parser = await buildProgram(capture());
        let ran: Command | undefined;
        for (const each of [parser, ...allCommands(parser)]) {
          each.exitOverride();
          if (each.commands.length === 0) {
            each.action(function (this: Command) {
              ran = this;
            });
          }
        }
        try {
          await parser.parseAsync(words, { from: "user" });
        } catch (error) {
          // `--version` ends through commander's exit with code 0.
          if ((error as { exitCode?: number }).exitCode !== 0) throw new Error(`${line}: ${error}`);
          continue;
        }
        expect(ran && path(ran)).toStartWith(path(command));
      }
    },
  );
});
