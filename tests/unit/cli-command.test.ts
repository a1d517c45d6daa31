import { describe, expect, test } from "bun:test";
import { Command as CommanderCommand } from "commander";
import { type Command, sided, sideFlags, withFlags, withProgress } from "../../src/cli/command.ts";
import { commonFlags, remoteFlags } from "../../src/cli/flags.ts";
import { captureConsole } from "../fixtures/capture-console.ts";

const typed = (command: CommanderCommand) => command as unknown as Command;

describe("flag groups", () => {
  test("a sided group has --from-/--to- names, no short names, a side note and the same parsers", async () => {
    const command = withFlags(typed(new CommanderCommand("cp")), sided(remoteFlags, "from"), commonFlags);
    const flags = command.options.map((option) => option.flags);
    expect(flags).toContain("--from-username <name>");
    expect(flags).toContain("--from-header <header>");
    expect(flags.some((flag) => flag.startsWith("-u") || flag.startsWith("-H"))).toBe(false);
    expect(command.options.find((option) => option.long === "--from-username")?.description).toBe(
      "registry username (source)",
    );
    let seen: Record<string, unknown> = {};
    command.action((values) => {
      seen = values;
    });
    await command.parseAsync(["--from-header", "a: 1", "--from-header", "b: 2", "--no-tty"], {
      from: "user",
    });
    expect(seen).toEqual({ fromHeader: ["a: 1", "b: 2"], tty: false });
  });

  test("sideFlags gives one side's values under their plain names, and nothing of the other side", () => {
    const flags = { fromUsername: "me", fromPlainHttp: true, toUsername: "you", format: "json", tty: true };
    expect(sideFlags(flags, "from")).toEqual({ username: "me", plainHttp: true });
    expect(sideFlags(flags, "to")).toEqual({ username: "you" });
  });
});

describe("withProgress", () => {
  test("ends the progress display when the op fails, and the error reaches the command", async () => {
    const console = { ...captureConsole(), stderrIsTerminal: true };
    const written: string[] = [];
    console.err = (text) => written.push(text);
    const desc = { mediaType: "application/octet-stream", digest: `sha256:${"a".repeat(64)}`, size: 10 };
    const run = withProgress(
      console,
      { verb: "push", format: { kind: "text" }, flags: {} },
      async (listener) => {
        listener({ type: "start", desc });
        throw new Error("op failed");
      },
    );
    await expect(run).rejects.toThrow("op failed");
    // The last frame is the finished one: an interrupted transfer shows "·", not a spinner.
    expect(written.at(-1)).toContain("·");
  });
});
