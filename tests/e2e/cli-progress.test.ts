/**
 * Progress as people see it: the binary runs in a real pseudo-terminal (tmux), pulling from a
 * registry slowed down by the fault proxy, and the test reads what the terminal shows, scrollback
 * included. Without a terminal, and on a terminal with --no-tty, --debug or TERM=dumb, the same
 * pull prints ORAS's plain status lines and no escape codes. NO_COLOR takes the colours away and
 * keeps the bars.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { LayoutBuilder } from "../fixtures/layout-builder.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, skiffCommand, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain"]);
const REPO = "progress/app";
const FILES = ["alpha.bin", "bravo.bin", "charlie.bin"];
const FILE_SIZE = 192 * 1024;
let proxy: FaultProxy;
let layout: string;

// ---- a terminal ---------------------------------------------------------------------------------

/**
 * tmux is installed by .ci/run; the README's fresh-machine command does not install it, so there
 * the terminal tests are skipped, loudly, rather than failing `npm test`.
 */
const HAVE_TMUX = spawnSync("tmux", ["-V"]).status === 0;
if (!HAVE_TMUX) console.warn("cli-progress: tmux is not installed; the pseudo-terminal tests are skipped");

/** One tmux server for this test file, on its own socket, without the user's tmux config. */
const SOCKET = `skiff-progress-${process.pid}`;

function tmux(...args: string[]): string {
  const result = spawnSync("tmux", ["-L", SOCKET, "-f", "/dev/null", ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

function stopTmux(): void {
  spawnSync("tmux", ["-L", SOCKET, "kill-server"], { stdio: "ignore" });
}
process.on("exit", stopTmux);

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

interface TerminalRun {
  /** The visible screen (`escapes`: with colour and attribute codes). */
  screen(escapes?: boolean): string;
  /** Everything the terminal shows and has scrolled away, top to bottom. */
  everything(): string;
  /** Waits until the screen matches, or throws with the screen after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for skiff to exit; returns its exit code. */
  exited(timeoutMs?: number): Promise<number>;
}

let sessions = 0;

/**
 * Runs skiff with `args` in a fresh tmux session of `columns` x `rows` cells, stdout and stderr both
 * on the terminal, with a clean environment (own HOME) plus `env`.
 */
function runInTerminal(
  args: string[],
  options: {
    columns?: number;
    rows?: number;
    env?: Record<string, string>;
    cwd?: string;
    /** Redirect stdout to this file (stderr stays on the terminal). */
    stdoutFile?: string;
  } = {},
): TerminalRun {
  const dir = tmpDir("skiff-tty-");
  const rcFile = join(dir, "rc");
  const { command, args: prefix } = skiffCommand();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    DOCKER_CONFIG: join(dir, ".docker"),
    LANG: "C.UTF-8",
    ...options.env,
  };
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
  // TERM is what tmux gives the pane unless the test sets its own.
  if (!("TERM" in env)) assignments.push('TERM="$TERM"');
  const script = join(dir, "run.sh");
  writeFileSync(
    script,
    [
      `cd ${quote(options.cwd ?? dir)}`,
      `env -i ${assignments.join(" ")} ${[command, ...prefix, ...args].map(quote).join(" ")}${
        options.stdoutFile ? ` > ${quote(options.stdoutFile)}` : ""
      }`,
      `echo $? > ${quote(`${rcFile}.tmp`)} && mv ${quote(`${rcFile}.tmp`)} ${quote(rcFile)}`,
      // Keep the pane open so its screen can be read after skiff exits.
      "exec sleep 600",
    ].join("\n"),
  );
  const session = `run${++sessions}`;
  const size = ["-x", String(options.columns ?? 120), "-y", String(options.rows ?? 30)];
  tmux("-u", "new-session", "-d", "-s", session, ...size, `sh ${quote(script)}`);

  const screen = (escapes = false): string =>
    tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session).replace(/\n+$/, "\n");
  const poll = async <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${screen()}`);
      await Bun.sleep(40);
    }
  };
  return {
    screen,
    everything: () => tmux("capture-pane", "-p", "-S", "-", "-t", session).replace(/\n+$/, "\n"),
    waitFor: (pattern, timeoutMs = 30_000) =>
      poll(
        () => {
          const text = screen();
          return pattern.test(text) ? text : undefined;
        },
        timeoutMs,
        String(pattern),
      ),
    exited: (timeoutMs = 60_000) =>
      poll(
        () => (existsSync(rcFile) ? Number(readFileSync(rcFile, "utf8").trim()) : undefined),
        timeoutMs,
        "skiff to exit",
      ),
  };
}

// ---- content ------------------------------------------------------------------------------------

/** Deterministic, distinct bytes for each file. */
function content(index: number): Uint8Array {
  const bytes = new Uint8Array(FILE_SIZE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + index * 7 + (i >> 9)) % 251;
  return bytes;
}

beforeAll(async () => {
  const files = tmpDir("skiff-progress-files-");
  for (const [i, name] of FILES.entries()) writeFileSync(join(files, name), content(i));
  layout = join(files, "layout");
  for (const target of [
    ["--plain-http", `${registries.plain.host}/${REPO}:v1`],
    ["--oci-layout", `${layout}:v1`],
  ]) {
    const pushed = await runSkiff(["push", "--no-tty", ...target, ...FILES], { cwd: files });
    expect(pushed.code).toBe(0);
  }
  const single = await runSkiff(["push", "--no-tty", "--oci-layout", `${layout}:single`, FILES[0]!], {
    cwd: files,
  });
  expect(single.code).toBe(0);
  proxy = await startFaultProxy({ upstream: registries.plain.url });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  stopTmux();
});

/** Every blob download through the proxy trickles: 8 KiB every 60 ms, about 1.4 s per file. */
function slowBlobs(): void {
  proxy.clearRules();
  proxy.addRule({
    method: "GET",
    path: /\/blobs\/sha256:/,
    times: Number.POSITIVE_INFINITY,
    fault: { kind: "throttle", chunk: 8192, ms: 60 },
  });
}

const ESCAPE = /\x1b/;
const COLOUR = /\x1b\[[0-9;]*m/;
const SPEED = String.raw`\d+(\.\d+)? (B|KiB|MiB)/s`;
const ELAPSED = String.raw`\d+\.\ds`;
const SPINNER = "[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]";

// ---- tests --------------------------------------------------------------------------------------

describe.skipIf(!HAVE_TMUX)("on a terminal", () => {
  test("a throttled pull: live rows per blob, then done marks and a total, redrawn in place", async () => {
    slowBlobs();
    const out = tmpDir("skiff-progress-out-");
    const run = runInTerminal(["pull", "--plain-http", `${proxy.host}/${REPO}:v1`, "-o", out]);

    // While the blobs trickle in: a spinner, a partly filled bar, bytes of the total, a percentage.
    const live = await run.waitFor(
      new RegExp(
        String.raw`${SPINNER} Downloading +\S+\.bin +\[█*░+\] +[\d.]+ (B|KiB)/192 KiB +([1-9]|[1-9]\d)% +${SPEED} +${ELAPSED}`,
      ),
    );
    expect(live).toMatch(/^ {2}Total +[0-3]\/3 done +\[[█░]+\] +[\d.]+ (B|KiB)\/576 KiB +\d+%/m);

    expect(await run.exited()).toBe(0);
    proxy.clearRules();
    const screen = run.screen();
    for (const name of FILES) {
      expect(screen).toMatch(
        new RegExp(
          String.raw`^✓ Downloaded  ${name.replace(".", "\\.")} +\[█{20}\] +192 KiB/192 KiB +100% +${SPEED} +${ELAPSED}$`,
          "m",
        ),
      );
    }
    expect(screen).toMatch(
      new RegExp(
        String.raw`^ {2}Total +3/3 done +\[█{20}\] +576 KiB/576 KiB +100% +${SPEED} +${ELAPSED}$`,
        "m",
      ),
    );
    expect(screen).toContain(`Pulled [registry] ${proxy.host}/${REPO}:v1\nDigest: sha256:`);

    // Many frames were drawn, yet each row is on the terminal once: every frame replaced the last.
    const everything = run.everything();
    for (const name of FILES) expect(everything.split(name).length - 1).toBe(1);
    expect(everything.match(/Total/g)).toHaveLength(1);
    for (const name of FILES)
      expect(readFileSync(join(out, name))).toEqual(Buffer.from(content(FILES.indexOf(name))));
  }, 90_000);

  test("a blob that cannot be fetched gets a failure mark; the error follows the rows", async () => {
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: /\/blobs\/sha256:/,
      times: Number.POSITIVE_INFINITY,
      fault: { kind: "status", status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN"}]}' },
    });
    const run = runInTerminal(["pull", "--plain-http", `${proxy.host}/${REPO}:v1`, "-o", tmpDir()]);
    expect(await run.exited()).toBe(1);
    proxy.clearRules();
    const screen = run.screen();
    expect(screen).toMatch(/^✗ Failed +\S+\.bin/m);
    expect(screen).toMatch(/^ {2}Total +0\/\d done, [1-3] failed/m);
    expect(screen).toMatch(/Total.*\n(.*\n)*Error: /);
    expect(screen).not.toMatch(new RegExp(SPINNER));
  }, 90_000);

  test("only as many rows as the terminal has; the rest are counted", async () => {
    const run = runInTerminal(["pull", `oci-layout://${layout}:v1`, "-o", tmpDir()], { rows: 4 });
    expect(await run.exited()).toBe(0);
    const everything = run.everything();
    // 4 rows: 1 blob, "+2 more", the total, and the cursor's line; the closing lines scroll it up.
    const frame = everything.slice(0, everything.indexOf("Pulled"));
    expect(frame.trimEnd().split("\n")).toHaveLength(3);
    expect(frame).toMatch(/^✓ Downloaded {2}\S+\.bin /m);
    expect(frame).toMatch(/^ {2}\+2 more \(2 done\)$/m);
    expect(frame).toMatch(/^ {2}Total +3\/3 done/m);
  }, 60_000);

  test("colours by default; NO_COLOR keeps the bars and drops every colour code", async () => {
    const coloured = runInTerminal(["pull", `oci-layout://${layout}:v1`, "-o", tmpDir()]);
    expect(await coloured.exited()).toBe(0);
    expect(coloured.screen(true)).toMatch(/\x1b\[32m✓/);

    const plain = runInTerminal(["pull", `oci-layout://${layout}:v1`, "-o", tmpDir()], {
      env: { NO_COLOR: "1" },
    });
    expect(await plain.exited()).toBe(0);
    const screen = plain.screen(true);
    expect(screen).toMatch(/^✓ Downloaded {2}alpha\.bin +\[█{20}\]/m);
    expect(screen).not.toMatch(COLOUR);
  }, 60_000);

  test("a title with escape sequences is shown escaped, not executed", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("ok\x1b[2J\x1b[31mred.txt", "x\n")] })]);
    const run = runInTerminal(["pull", `oci-layout://${b.dir}`, "-o", tmpDir()]);
    expect(await run.exited()).toBe(0);
    expect(run.screen()).toMatch(/^✓ Downloaded {2}ok\\x1b\[2J\\x1b\[31mred\.txt /m);
    expect(run.screen(true)).not.toMatch(/\x1b\[31m/);
  }, 60_000);

  test("push: the same rows with push's words", async () => {
    const run = runInTerminal(["push", "--oci-layout", `${join(tmpDir(), "layout")}:v1`, ...FILES], {
      cwd: join(layout, ".."),
    });
    expect(await run.exited()).toBe(0);
    const screen = run.screen();
    for (const name of FILES) {
      expect(screen).toMatch(
        new RegExp(
          String.raw`^✓ Uploaded +${name.replace(".", "\\.")} +\[█{20}\] +192 KiB/192 KiB +100%`,
          "m",
        ),
      );
    }
    expect(screen).toMatch(/^ {2}Total +\d\/\d done/m);
    expect(screen).toContain("Pushed [oci-layout] ");
  }, 60_000);

  test("stdout redirected, stderr on the terminal: -o - writes only the file's bytes", async () => {
    const file = join(tmpDir(), "alpha.bin");
    const run = runInTerminal(["pull", `oci-layout://${layout}:single`, "-o", "-"], { stdoutFile: file });
    expect(await run.exited()).toBe(0);
    expect(readFileSync(file)).toEqual(Buffer.from(content(0)));
  }, 60_000);

  for (const [name, extra, env] of [
    ["--no-tty", ["--no-tty"], {}],
    ["--debug", ["--debug"], {}],
    ["TERM=dumb", [], { TERM: "dumb" }],
  ] as const) {
    test(`${name}: plain status lines, no bars`, async () => {
      const run = runInTerminal(
        ["pull", "--plain-http", ...extra, `${registries.plain.host}/${REPO}:v1`, "-o", tmpDir()],
        { env },
      );
      expect(await run.exited()).toBe(0);
      const everything = run.everything();
      for (const file of FILES)
        expect(everything).toMatch(new RegExp(`^Downloaded  [0-9a-f]{12} ${file}$`, "m"));
      expect(everything).not.toMatch(/[█░✓]|Total/);
      expect(run.screen(true)).not.toMatch(COLOUR);
      if (name === "--debug") expect(everything).toMatch(/GET .*\/v2\//);
    }, 60_000);
  }
});

describe("without a terminal", () => {
  test("ORAS status lines on stdout, nothing on stderr, no escape codes", async () => {
    slowBlobs();
    const out = tmpDir("skiff-progress-out-");
    const result = await runSkiff(["pull", "--plain-http", `${proxy.host}/${REPO}:v1`, "-o", out]);
    proxy.clearRules();
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).not.toMatch(ESCAPE);
    const lines = result.stdout.trimEnd().split("\n");
    const hex = "[0-9a-f]{12}";
    // Transfers run in parallel, so only the closing lines have a fixed place.
    const transfers = lines.slice(0, -2);
    // Each file, and (as in ORAS) the manifest: Downloading, Processing, Downloaded.
    expect(transfers).toHaveLength(FILES.length * 2 + 3);
    expect(transfers[0]).toMatch(
      new RegExp(`^Downloading ${hex} application/vnd\\.oci\\.image\\.manifest\\.v1\\+json$`),
    );
    expect(transfers[1]).toMatch(
      new RegExp(`^Processing  ${hex} application/vnd\\.oci\\.image\\.manifest\\.v1\\+json$`),
    );
    for (const file of FILES) {
      expect(transfers).toContainEqual(expect.stringMatching(new RegExp(`^Downloading ${hex} ${file}$`)));
      expect(transfers).toContainEqual(expect.stringMatching(new RegExp(`^Downloaded  ${hex} ${file}$`)));
    }
    expect(lines.at(-2)).toBe(`Pulled [registry] ${proxy.host}/${REPO}:v1`);
    expect(lines.at(-1)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
  }, 60_000);
});
