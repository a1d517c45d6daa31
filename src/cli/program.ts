import type { Command } from "commander";
import { asSkiffError, ExitCode, SkiffError } from "../errors.ts";
import { writeStdio } from "../runtime/index.ts";
import { VERSION } from "../version.ts";
import type { Command as TypedCommand } from "./command.ts";
import {
  COMMANDS,
  commandTerm,
  findCommand,
  HELP_WIDTH,
  PROGRAM_DESCRIPTION,
  topLevelHelp,
} from "./command-table.ts";
import { versionText } from "./commands/version.ts";
import { type Console, processConsole } from "./io.ts";
import { printableLines } from "./output/printable.ts";

/**
 * Builds the command tree: every command of the table by name, but only `commandName`'s module
 * loaded (all of them when `commandName` is undefined, as the docs generator needs).
 */
export async function buildProgram(
  console: Console = processConsole,
  commandName?: string,
): Promise<Command> {
  const { Command, Help } = await import("commander");
  const wanted = findCommand(commandName);
  const loadAll = commandName === undefined || wanted?.needsAllCommands;
  const loaded = COMMANDS.filter((entry) => loadAll || entry === wanted);
  const registers = new Map(
    await Promise.all(loaded.map(async (entry) => [entry, await entry.load()] as const)),
  );

  const defaultTerm = Help.prototype.subcommandTerm;
  const program = new Command("skiff")
    .description(PROGRAM_DESCRIPTION)
    .version(VERSION, "--version", "print the version number")
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .configureHelp({
      // A fixed width keeps --help identical everywhere, so docs/commands can be checked for drift.
      helpWidth: HELP_WIDTH,
      sortSubcommands: true,
      // Commands that are not loaded have no arguments or options yet: the table knows their terms.
      subcommandTerm(this: InstanceType<typeof Help>, command: Command): string {
        const entry = command.parent?.parent ? undefined : findCommand(command.name());
        return entry ? commandTerm(entry) : defaultTerm.call(this, command);
      },
    })
    .configureOutput({
      writeOut: (text) => console.out(text),
      writeErr: (text) => console.err(text),
    });
  for (const entry of COMMANDS) {
    const command = program
      .command(entry.name)
      .aliases(entry.aliases ?? [])
      .summary(entry.summary);
    // Commander's Command, seen through the typings that infer option types (command.ts).
    registers.get(entry)?.(command as unknown as TypedCommand, console);
  }
  return program;
}

/** Prints an error for people: `Error: ...` and an optional hint line. */
export function reportError(error: unknown, console: Console = processConsole): number {
  const skiffError = error instanceof SkiffError ? error : asSkiffError(error);
  // Messages quote references, titles and registry text: none of it may act on the terminal.
  console.err(`${printableLines(skiffError.heading ?? "Error")}: ${printableLines(skiffError.message)}\n`);
  if (skiffError.hint) console.err(`${printableLines(skiffError.hint)}\n`);
  return skiffError.exitCode;
}

/** Runs skiff with `argv` (without the runtime and script names); returns the exit code. */
export async function run(argv: string[], console: Console = processConsole): Promise<number> {
  const quick = quickAnswer(argv);
  if (quick) {
    if (quick.stream === "stdout") console.out(quick.text);
    else console.err(quick.text);
    return quick.exitCode;
  }

  // Top-level options take no values, so the first word that is not an option names the command.
  const program = await buildProgram(
    console,
    argv.find((word) => !word.startsWith("-")),
  );
  // The command a usage error is about: the one that ran, or the one commander stopped in.
  let current = commandNamedBy(program, argv);
  program.hook("preAction", (_program, actionCommand) => {
    current = actionCommand;
  });
  for (const command of [program, ...allCommands(program)]) {
    command.exitOverride((error) => {
      current = command;
      throw error;
    });
    command.configureOutput({
      writeOut: (text) => console.out(text),
      writeErr: (text) => console.err(text),
      // run() prints commander's errors itself, in the same form as skiff's own usage errors.
      outputError: () => {},
    });
  }
  const { CommanderError } = await import("commander");
  try {
    await program.parseAsync(booleanFlagValues(argv, current), { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      const code = reportError(error, console);
      if (error instanceof SkiffError && error.isUsage) console.err(usageLines(current));
      return code;
    }
    // Help and --version end through here with exit code 0.
    if (error.exitCode === 0) return ExitCode.ok;
    // A group run without a sub-command: commander has printed the group's help on stderr.
    if (error.code === "commander.help") return ExitCode.usage;
    // `error: unknown command 'pul'` and, on a second line, `(Did you mean pull?)`.
    const [message = "", suggestion] = error.message.replace(/^error: /, "").split("\n");
    reportError(new SkiffError("USAGE", message, suggestion?.replace(/^\((.*)\)$/, "$1")), console);
    console.err(usageLines(current));
    return ExitCode.usage;
  }
}

/** The command `argv` runs: sub-command names followed from the start (`repo tags`). */
function commandNamedBy(program: Command, argv: readonly string[]): Command {
  let command = program;
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  return command;
}

const TRUE_WORDS = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "false", "FALSE", "False"]);

/**
 * `--flag=true` and `--flag=false` for a flag that takes no value, which ORAS accepts (Go's
 * boolean flags): true is the flag itself; false is its `--no-` form when the command has one
 * (`--verbose=false` is `--no-verbose`), else the flag left out. Other words pass unchanged.
 */
export function booleanFlagValues(argv: readonly string[], command: Command): string[] {
  const out: string[] = [];
  for (const [i, word] of argv.entries()) {
    if (word === "--") return [...out, ...argv.slice(i)];
    const match = /^(-{1,2}[^-=][^=]*)=(.*)$/s.exec(word);
    const name = match?.[1];
    const option = command.options.find(
      (o) => (o.long === name || o.short === name) && !o.required && !o.optional,
    );
    if (!match || !option) {
      out.push(word);
      continue;
    }
    const value = match[2] ?? "";
    const long = option.long ?? option.flags;
    if (TRUE_WORDS.has(value)) {
      out.push(long);
    } else if (FALSE_WORDS.has(value)) {
      const negated = option.negate ? undefined : `--no-${long.replace(/^--/, "")}`;
      if (negated && command.options.some((o) => o.long === negated)) out.push(negated);
    } else {
      throw new SkiffError("USAGE", `invalid argument "${value}" for ${name}: it takes true or false`);
    }
  }
  return out;
}

/** `Usage: skiff pull [options] <reference>` and where to read more, after a usage error. */
function usageLines(command: Command): string {
  const usage = command.createHelp().commandUsage(command);
  const more = command.commands.length > 0 ? "the list of commands" : "the options and examples";
  return `Usage: ${usage}\nRun '${commandPath(command)} --help' for ${more}.\n`;
}

function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

interface QuickAnswer {
  stream: "stdout" | "stderr";
  text: string;
  exitCode: number;
}

/**
 * What `version`, `--version`, `--help` and a bare `skiff` print, answered from the table:
 * loading commander (and node:fs, see main.ts) costs more than these answers do.
 */
export function quickAnswer(argv: readonly string[]): QuickAnswer | undefined {
  if (argv.length === 0) return { stream: "stderr", text: topLevelHelp(), exitCode: ExitCode.usage };
  if (argv.length > 1) return undefined;
  switch (argv[0]) {
    case "version":
      return { stream: "stdout", text: versionText(), exitCode: ExitCode.ok };
    case "--version":
      return { stream: "stdout", text: `${VERSION}\n`, exitCode: ExitCode.ok };
    case "--help":
    case "-h":
      return { stream: "stdout", text: topLevelHelp(), exitCode: ExitCode.ok };
    default:
      return undefined;
  }
}

/**
 * Prints a quick answer for main.ts, without the process console: its node:fs alone costs a few
 * milliseconds of start-up (docs/BENCHMARKS.md). A failed write is reported like any error.
 */
export async function printQuickAnswer(quick: QuickAnswer): Promise<number> {
  try {
    await writeStdio(quick.stream, quick.text);
    return quick.exitCode;
  } catch (error) {
    // The reader went away (`skiff version | head -c1`): quietly, as in io.ts.
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return ExitCode.brokenPipe;
    return reportError(error);
  }
}

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}
