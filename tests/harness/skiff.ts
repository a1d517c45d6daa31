/**
 * Runs skiff the way users do: the compiled host binary `dist/skiff-linux-x64` as a subprocess (or
 * `deno run -A main.ts` when `SKIFF_UNDER_DENO=1`, for the Deno smoke run in CI). Every e2e test
 * runs skiff through here: `runSkiff` (no assertion), `skiffOk` (asserts exit 0), `skiffFails`
 * (asserts a non-zero exit), `startSkiff` (for tests that kill it midway).
 *
 * Each run gets its own HOME and DOCKER_CONFIG (a fresh temp dir) unless `home` is given, so the
 * user's real docker config never leaks into a test.
 */
import { expect } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { removeTmpDir, tmpDir, trackChild } from "./cleanup.ts";

export { removeTmpDir, tmpDir } from "./cleanup.ts";

/** The repository root. */
export const ROOT = resolve(import.meta.dir, "../..");
/** The binary the e2e tests run; `SKIFF_BIN` overrides it (e.g. on an arm64 host). */
export const SKIFF_BINARY = process.env.SKIFF_BIN ?? join(ROOT, "dist", "skiff-linux-x64");
/** True when this test run drives `deno run -A main.ts` instead of the compiled binary. */
export const UNDER_DENO = process.env.SKIFF_UNDER_DENO === "1";
/** What skiff (as ORAS) prints on stderr for any command given `-p/--password`. */
export const PASSWORD_WARNING = "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";

/**
 * The first retry backoff step (ms) every run gets (`SKIFF_RETRY_BACKOFF_MS`, see
 * src/content/registry/retry.ts): the retries still happen, in a fraction of the real waits. A
 * test that measures the real backoff passes `env: { SKIFF_RETRY_BACKOFF_MS: undefined }`.
 */
export const TEST_RETRY_BACKOFF_MS = "10";

export interface RunOptions {
  /** Extra environment; a value of `undefined` removes the variable. Applied last. */
  env?: Record<string, string | undefined>;
  /** Bytes or text for stdin; without it stdin is empty (like `</dev/null`). */
  stdin?: string | Uint8Array;
  /** Working directory (default: the run's HOME dir). */
  cwd?: string;
  /** Kill the run (SIGKILL) after this long (default 60 s); the result then has `timedOut: true`. */
  timeoutMs?: number;
  /**
   * HOME for the run; DOCKER_CONFIG is `<home>/.docker`. Pass the same dir to several runs to share
   * a login. Default: a fresh temp dir, removed after the run.
   */
  home?: string;
}

export interface RunResult {
  /** Exit code; null when the process was killed by a signal (see `signal`, `timedOut`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout exactly as written (for binary output such as `blob fetch -o -`). */
  stdoutBytes: Uint8Array;
  timedOut: boolean;
  /** From the spawn to the process's exit (not counting the wait for its output to drain). */
  durationMs: number;
}

/** The command line that starts skiff in this test run (binary, or deno with main.ts). */
export function skiffCommand(): { command: string; args: string[] } {
  if (UNDER_DENO) {
    return {
      command: join(ROOT, "node_modules", ".bin", "deno"),
      args: ["run", "-A", "--quiet", `--config=${join(ROOT, "deno.json")}`, join(ROOT, "main.ts")],
    };
  }
  if (!existsSync(SKIFF_BINARY)) {
    throw new Error(`${SKIFF_BINARY} is missing: build it first with \`npm run build -- --host\``);
  }
  return { command: SKIFF_BINARY, args: [] };
}

function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Nothing from the caller's registry or container auth set-up may reach the run.
    if (value === undefined || /^(DOCKER_|REGISTRY_AUTH_FILE$|XDG_|SKIFF_)/.test(name)) continue;
    env[name] = value;
  }
  env.HOME = home;
  env.USERPROFILE = home;
  env.DOCKER_CONFIG = join(home, ".docker");
  env.XDG_CONFIG_HOME = join(home, ".config");
  env.XDG_RUNTIME_DIR = join(home, ".run");
  // skiff's own temporary files (push's packed directories) go with the run's HOME, even when
  // a test kills it before it can remove them.
  env.TMPDIR = join(home, ".tmp");
  mkdirSync(env.TMPDIR, { recursive: true });
  env.SKIFF_RETRY_BACKOFF_MS = TEST_RETRY_BACKOFF_MS;
  if (UNDER_DENO && process.env.DENO_DIR === undefined) {
    // Share Deno's module cache between runs instead of starting cold in every fresh HOME.
    env.DENO_DIR = join(ROOT, "node_modules", ".cache", "deno");
  }
  return env;
}

/** A skiff process started by {@link startSkiff}. */
export interface StartedSkiff {
  pid: number | undefined;
  /** Sends `signal` (default SIGKILL) unless the process has ended. */
  kill(signal?: NodeJS.Signals): void;
  /** Its exit status and output, once it has ended (its own HOME is removed by then). */
  result: Promise<RunResult>;
}

/**
 * Starts skiff with `args` without waiting for it: for tests that kill it midway. Everything else
 * uses {@link runSkiff}, {@link skiffOk} or {@link skiffFails}.
 */
export function startSkiff(args: string[], options: RunOptions = {}): StartedSkiff {
  const { command, args: prefix } = skiffCommand();
  const ownHome = options.home === undefined;
  const home = options.home ?? tmpDir("skiff-home-");
  mkdirSync(join(home, ".docker"), { recursive: true });
  const env = baseEnv(home);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const started = performance.now();
  const child = spawn(command, [...prefix, ...args], {
    cwd: options.cwd ?? home,
    env,
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  trackChild(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  if (options.stdin !== undefined && child.stdin) {
    child.stdin.on("error", () => {}); // skiff may exit before reading all of stdin
    child.stdin.end(options.stdin);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 60_000);
  let exitedAt: number | undefined;
  child.once("exit", () => {
    exitedAt = performance.now();
  });
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.once("error", fail);
    child.once("close", (exitCode, exitSignal) => done([exitCode, exitSignal]));
  });
  const result = ended
    .then(([code, signal]): RunResult => {
      const stdoutBytes = new Uint8Array(Buffer.concat(stdout));
      return {
        code,
        signal,
        stdout: Buffer.from(stdoutBytes).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        stdoutBytes,
        timedOut,
        durationMs: (exitedAt ?? performance.now()) - started,
      };
    })
    .finally(() => {
      clearTimeout(timer);
      if (ownHome) removeTmpDir(home);
    });
  return {
    pid: child.pid,
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    result,
  };
}

/** Runs skiff with `args` and collects its exit status and output (asserting nothing). */
export function runSkiff(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return startSkiff(args, options).result;
}

/** How a run ended, with its output: the message of a failed {@link skiffOk} or {@link skiffFails}. */
function explain(args: string[], run: RunResult, expected: string): string {
  const end = run.timedOut
    ? "was killed by the timeout"
    : run.code === null
      ? `was killed by ${run.signal}`
      : `exited ${run.code}`;
  const show = (text: string) => (text.length > 4000 ? `${text.slice(0, 4000)}...` : text);
  return `skiff ${args.join(" ")}: ${end}, expected ${expected}\n--- stderr\n${show(run.stderr)}--- stdout\n${show(run.stdout)}`;
}

/** Runs skiff and asserts it exits 0; a failure shows the command, how it ended, stderr and stdout. */
export async function skiffOk(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const run = await runSkiff(args, options);
  expect(run.code, explain(args, run, "exit 0")).toBe(0);
  return run;
}

/**
 * Runs skiff and asserts it fails on its own: a non-zero exit, not a kill or a timeout (a failure
 * shows the command and its output). Returns the run, for checking the error.
 */
export async function skiffFails(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const run = await runSkiff(args, options);
  const failedOnItsOwn = run.code !== null && run.code !== 0 && !run.timedOut;
  expect(failedOnItsOwn, explain(args, run, "a non-zero exit")).toBe(true);
  return run;
}
