import process from "node:process";
import { ExitCode } from "../errors.ts";
import { isTerminal } from "../runtime/index.ts";

/** Where a command writes: data and status to stdout, errors and progress to stderr. */
export interface Console {
  out(text: string): void;
  err(text: string): void;
  /** Writes raw bytes to stdout (for `-o -`). */
  outBytes(bytes: Uint8Array): void;
  readonly stdoutIsTerminal: boolean;
  readonly stderrIsTerminal: boolean;
}

// node:fs is loaded on the first write, not at start: `skiff version` and `--help` print without it.
let fs: typeof import("node:fs") | undefined;

function writeAll(fd: number, bytes: Uint8Array): void {
  fs ??= process.getBuiltinModule("node:fs") as typeof import("node:fs");
  const { writeSync } = fs;
  let offset = 0;
  while (offset < bytes.byteLength) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The reader went away (`skiff ... | head -1`): nobody reads the rest, or an error about it.
      // Stop quietly, as ORAS and other Go CLIs do when SIGPIPE ends them.
      if (code === "EPIPE") process.exit(ExitCode.brokenPipe);
      // A non-blocking pipe that is full: wait for the reader instead of dropping output.
      if (code !== "EAGAIN") throw error;
    }
  }
}

const encoder = new TextEncoder();

/** The process console; writes are synchronous so output order is the order of calls. */
export const processConsole: Console = {
  out: (text) => writeAll(1, encoder.encode(text)),
  err: (text) => writeAll(2, encoder.encode(text)),
  outBytes: (bytes) => writeAll(1, bytes),
  // Getters: asking costs start-up time (Bun sets up process.stdout), and most runs never ask.
  get stdoutIsTerminal() {
    return isTerminal("stdout");
  },
  get stderrIsTerminal() {
    return isTerminal("stderr");
  },
};
