import { Command, CommanderError } from "commander";
import { asSkiffError, ExitCode, SkiffError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { registerAttach } from "./commands/attach.ts";
import { registerBackup } from "./commands/backup.ts";
import { registerBlob } from "./commands/blob/index.ts";
import { registerCompletion } from "./commands/completion.ts";
import { registerCopy } from "./commands/cp.ts";
import { registerDiscover } from "./commands/discover.ts";
import { registerIndex } from "./commands/index-cmd.ts";
import { registerLogin, registerLogout } from "./commands/login.ts";
import { registerManifest } from "./commands/manifest/index.ts";
import { registerPull } from "./commands/pull.ts";
import { registerPush } from "./commands/push.ts";
import { registerRepo } from "./commands/repo/index.ts";
import { registerResolve } from "./commands/resolve.ts";
import { registerRestore } from "./commands/restore.ts";
import { registerTag } from "./commands/tag.ts";
import { registerVersion } from "./commands/version.ts";
import { type Console, processConsole } from "./io.ts";

/** Builds the command tree. Each command file adds itself; actions load their verb lazily. */
export function buildProgram(console: Console = processConsole): Command {
  const program = new Command("skiff")
    .description(
      "Push, pull, copy, resolve and compose OCI artifacts between registries, layouts and layout tars.",
    )
    .version(VERSION, "--version", "print the version number")
    .helpCommand(false)
    .showSuggestionAfterError(true)
    // A fixed width keeps --help identical everywhere, so docs/commands can be checked for drift.
    .configureHelp({ helpWidth: 100, sortSubcommands: true })
    .configureOutput({
      writeOut: (text) => console.out(text),
      writeErr: (text) => console.err(text),
    });
  registerVersion(program, console);
  registerCompletion(program, console);
  registerPush(program, console);
  registerAttach(program, console);
  registerDiscover(program, console);
  registerIndex(program, console);
  registerPull(program, console);
  registerResolve(program, console);
  registerManifest(program, console);
  registerBlob(program, console);
  registerRepo(program, console);
  registerCopy(program, console);
  registerBackup(program, console);
  registerRestore(program, console);
  registerTag(program, console);
  registerLogin(program, console);
  registerLogout(program, console);
  return program;
}

/** Prints an error for people: `Error: ...` and an optional hint line. */
export function reportError(error: unknown, console: Console = processConsole): number {
  const skiffError = error instanceof SkiffError ? error : asSkiffError(error);
  console.err(`Error: ${skiffError.message}\n`);
  if (skiffError.hint) console.err(`${skiffError.hint}\n`);
  return skiffError.exitCode;
}

/** Runs skiff with `argv` (without the runtime and script names); returns the exit code. */
export async function run(argv: string[], console: Console = processConsole): Promise<number> {
  const program = buildProgram(console);
  program.exitOverride();
  for (const command of allCommands(program)) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => console.out(text),
      writeErr: (text) => console.err(text),
      outputError: (text, write) => write(text),
    });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end through here with exit code 0.
      if (error.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    return reportError(error, console);
  }
}

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}
