/**
 * What a command file is built from: a typed commander Command (the types of its arguments and
 * flags are inferred from their usage strings by @commander-js/extra-typings, a types-only
 * dependency: nothing of it loads at run time), flag groups that several commands share, and
 * {@link withProgress}, which runs an op with the listener the flags and the terminal ask for.
 * A command file is then: flags -> op options -> one op call -> output. Errors it throws end in
 * program.ts, which prints them and turns them into the exit code.
 */
import type { Command, CommandUnknownOpts, OptionValues } from "@commander-js/extra-typings";
import type { Listener } from "../content/events.ts";
import type { Console } from "./io.ts";
import type { OutputFormat } from "./output/format.ts";
import { type ChosenListener, chooseListener } from "./output/progress.ts";
import type { Verb } from "./output/status.ts";

export type { Command, CommandUnknownOpts };

/**
 * Fills a command created by program.ts (name, aliases, summary; see command-table.ts) with its
 * arguments, flags and action.
 */
export type Register = (command: Command, console: Console) => void;

/** Flags that several commands share, added with {@link withFlags}; `Values` is what they parse to. */
export interface FlagGroup<Values extends OptionValues> {
  addTo(command: CommandUnknownOpts): void;
  /** Never set: carries the type of the parsed values. */
  readonly values?: Values;
}

/**
 * Prints `text` on stderr each time the flag `name` (`verbose`, `no-verbose`, `password`) is parsed,
 * before the command runs: how a deprecated flag or a risky use of one is announced, as ORAS does.
 * It goes where commander writes its errors, which program.ts points at the console.
 */
export function warnOnFlag(command: CommandUnknownOpts, name: string, text: string): void {
  command.on(`option:${name}`, () => command.configureOutput().writeErr?.(`${text}\n`));
}

/** The parsed values of a flag group. */
export type FlagValues<Group> = Group extends FlagGroup<infer Values> ? Values : never;

/** A flag group from a chain of `.option()` calls; the type of its values is inferred from the chain. */
export function flagGroup<Values extends OptionValues>(
  define: (command: Command) => Command<[], Values>,
): FlagGroup<Values> {
  // The chain only adds options, so it can run on a command of any type.
  return { addTo: (command) => define(command as unknown as Command) };
}

type ValuesOf<Groups> = Groups extends readonly [FlagGroup<infer Values>, ...infer Rest]
  ? Values & ValuesOf<Rest>
  : Record<never, never>;

/** Adds flag groups to a command, in order (that is the order --help lists them in). */
export function withFlags<
  Args extends unknown[],
  Opts extends OptionValues,
  const Groups extends readonly FlagGroup<OptionValues>[],
>(command: Command<Args, Opts>, ...groups: Groups): Command<Args, Opts & ValuesOf<Groups>> {
  for (const group of groups) group.addTo(command as unknown as CommandUnknownOpts);
  return command as unknown as Command<Args, Opts & ValuesOf<Groups>>;
}

/** Which end of a two-sided command (`cp --from-* --to-*`) a flag belongs to. */
export type Side = "from" | "to";

type Sided<S extends Side, Values> = { [K in keyof Values & string as `${S}${Capitalize<K>}`]: Values[K] };
type Unsided<S extends Side, Values> = {
  [K in keyof Values & string as K extends `${S}${infer Rest}` ? Uncapitalize<Rest> : never]: Values[K];
};

/**
 * A group's flags for one side: `--from-username` for `--username`, no short names, and
 * `(source)` or `(destination)` after each description.
 */
export function sided<S extends Side, Values extends OptionValues>(
  group: FlagGroup<Values>,
  side: S,
): FlagGroup<Sided<S, Values>> {
  return {
    addTo(command) {
      const plain = command.createCommand();
      group.addTo(plain);
      const note = side === "from" ? " (source)" : " (destination)";
      for (const option of plain.options) {
        const long = option.long ?? option.flags;
        const value = option.flags.slice(option.flags.indexOf(long) + long.length);
        const copy = command.createOption(
          `--${side}-${long.replace(/^--/, "")}${value}`,
          `${option.description}${note}`,
        );
        if (option.parseArg) copy.argParser(option.parseArg);
        if (option.defaultValue !== undefined) copy.default(option.defaultValue);
        command.addOption(copy);
      }
    },
  };
}

/** The values of one side's flags under their plain names: `fromUsername` as `username`. */
export function sideFlags<S extends Side, Values extends OptionValues>(
  flags: Values,
  side: S,
): Unsided<S, Values> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    const first = key[side.length];
    if (key.startsWith(side) && first && first !== first.toLowerCase()) {
      values[first.toLowerCase() + key.slice(side.length + 1)] = value;
    }
  }
  return values as Unsided<S, Values>;
}

/** How a command shows the progress of its op. */
interface ProgressSettings {
  verb: Verb;
  format: OutputFormat;
  /**
   * `--debug` and `--no-tty` (`tty: false`): status lines instead of progress bars;
   * `--verbose=false` (`verbose: false`): status lines for titled files only, as in ORAS.
   */
  flags: { debug?: boolean; tty?: boolean; verbose?: boolean };
  /** Data goes to stdout: nothing else may. */
  outputToStdout?: boolean;
  /** The status lines to print instead of the verb's (commands ORAS words its own way). */
  statusLines?: Listener;
}

/**
 * Runs `work` with the listener the flags and the terminal ask for (progress bars, status lines or
 * nothing), and ends the display however `work` ends, before the command prints its result.
 */
export async function withProgress<T>(
  console: Console,
  settings: ProgressSettings,
  work: (listener: Listener, chosen: ChosenListener) => Promise<T>,
): Promise<T> {
  const chosen = chooseListener({
    console,
    verb: settings.verb,
    format: settings.format,
    noTty: settings.flags.tty === false,
    debug: Boolean(settings.flags.debug),
    outputToStdout: Boolean(settings.outputToStdout),
    ...(settings.statusLines ? { statusLines: settings.statusLines } : {}),
    ...(settings.flags.verbose === false ? { verbose: false } : {}),
  });
  try {
    return await work(chosen.listener, chosen);
  } finally {
    chosen.finish();
  }
}

/** Fills a sub-command of a group (`blob fetch`): it creates the command on the group itself. */
export type RegisterSubcommand = (group: Command, console: Console) => void;

/** A group of sub-commands (`blob`, `manifest`, `repo`): its description, examples and sub-commands. */
export function commandGroup(
  description: string,
  examples: string,
  subcommands: readonly RegisterSubcommand[],
): Register {
  return (group, console) => {
    group.description(description).helpCommand(false).addHelpText("after", `\nExamples:\n${examples}`);
    for (const register of subcommands) register(group, console);
  };
}
