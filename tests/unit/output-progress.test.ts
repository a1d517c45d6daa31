import { describe, expect, test } from "bun:test";
import type { Console } from "../../src/cli/io.ts";
import { parseFormat } from "../../src/cli/output/format.ts";
import {
  chooseListener,
  colorEnabled,
  fit,
  formatBytes,
  formatDuration,
  type ProgressOptions,
  progressRenderer,
  type Ticker,
  width,
} from "../../src/cli/output/progress.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";

const MiB = 1024 * 1024;

function blob(n: number, size: number, title?: string): Descriptor {
  const desc: Descriptor = {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    digest: `sha256:${n.toString(16).padStart(4, "0").repeat(16)}`,
    size,
  };
  if (title) desc.annotations = { "org.opencontainers.image.title": title };
  return desc;
}

/** A tiny terminal: applies \r, \n, cursor up, erase line / erase below, and drops colours. */
class Screen {
  private lines: string[][] = [[]];
  private row = 0;
  private col = 0;
  readonly writes: string[] = [];

  write = (text: string): void => {
    this.writes.push(text);
    let i = 0;
    while (i < text.length) {
      const csi = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i));
      if (csi) {
        const n = Number(csi[1] || "1");
        if (csi[2] === "A") this.row = Math.max(0, this.row - n);
        else if (csi[2] === "K") this.line().length = Math.min(this.line().length, this.col);
        else if (csi[2] === "J") {
          this.line().length = Math.min(this.line().length, this.col);
          this.lines.length = this.row + 1;
        } else if (csi[2] !== "m") throw new Error(`unexpected escape ${csi[0]}`);
        i += csi[0].length;
        continue;
      }
      const char = String.fromCodePoint(text.codePointAt(i)!);
      i += char.length;
      if (char === "\r") this.col = 0;
      else if (char === "\n") {
        this.row++;
        this.col = 0;
        while (this.lines.length <= this.row) this.lines.push([]);
      } else {
        const line = this.line();
        while (line.length < this.col) line.push(" ");
        line[this.col++] = char;
      }
    }
  };

  private line(): string[] {
    while (this.lines.length <= this.row) this.lines.push([]);
    return this.lines[this.row]!;
  }

  /** The visible text, one string per line, without the empty line the cursor sits on. */
  get text(): string[] {
    const out = this.lines.map((line) => line.join(""));
    while (out.length > 0 && out[out.length - 1] === "") out.pop();
    return out;
  }
}

function setup(overrides: Partial<ProgressOptions> = {}) {
  const screen = new Screen();
  const clock = { t: 10_000 };
  const renderer = progressRenderer({
    write: screen.write,
    verb: "push",
    now: () => clock.t,
    size: () => ({ columns: 120, rows: 30 }),
    color: false,
    ticker: null,
    ...overrides,
  });
  return { screen, clock, renderer, emit: renderer.listener };
}

describe("units", () => {
  test("bytes in binary units with three significant digits", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.00 KiB");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(12.5 * MiB)).toBe("12.5 MiB");
    expect(formatBytes(300 * MiB)).toBe("300 MiB");
    expect(formatBytes(2 * 1024 * MiB)).toBe("2.00 GiB");
    expect(formatBytes(1023.9 * MiB)).toBe("1024 MiB");
  });

  test("durations", () => {
    expect(formatDuration(400)).toBe("0.4s");
    expect(formatDuration(12_345)).toBe("12.3s");
    expect(formatDuration(65_000)).toBe("1m05s");
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe("2h03m");
  });

  test("NO_COLOR set to anything non-empty turns colour off", () => {
    expect(colorEnabled({})).toBe(true);
    expect(colorEnabled({ NO_COLOR: "" })).toBe(true);
    expect(colorEnabled({ NO_COLOR: "1" })).toBe(false);
  });

  test("fit cuts visible characters and keeps escape sequences whole", () => {
    expect(fit("abcdef", 3, false)).toBe("abc");
    expect(fit("\x1b[32m✓\x1b[0m abc", 3)).toBe("\x1b[32m✓\x1b[0m a\x1b[0m");
    expect(fit("short", 10)).toBe("short");
  });
});

describe("progress rows", () => {
  test("a row per blob with bar, bytes, percent, speed, elapsed; redrawn in place", () => {
    const { screen, clock, renderer, emit } = setup();
    const a = blob(1, 10 * MiB, "hello.txt");
    const b = blob(2, 2 * 1024 * MiB, "big.bin");
    emit({ type: "start", desc: a });
    emit({ type: "start", desc: b });
    clock.t += 1850;
    emit({ type: "progress", desc: a, bytes: 5 * MiB });
    // The next frame waits for the redraw interval (150 ms).
    clock.t += 150;
    emit({ type: "progress", desc: b, bytes: 100 * MiB });

    const [rowA, rowB, total] = screen.text;
    expect(screen.text).toHaveLength(3);
    expect(rowA).toMatch(
      /^\S Uploading hello\.txt\s+\[█{10}░{10}\]\s+5\.00 MiB\/10\.0 MiB\s+50%\s+2\.50 MiB\/s\s+2\.0s$/,
    );
    expect(rowB).toMatch(/big\.bin\s+\[█░{19}\]\s+100 MiB\/2\.00 GiB\s+4%\s+50\.0 MiB\/s\s+2\.0s$/);
    expect(total).toMatch(
      /^ {2}Total\s+0\/2 done\s+\[.*\]\s+105 MiB\/2\.01 GiB\s+5%\s+52\.5 MiB\/s\s+2\.0s$/,
    );

    clock.t += 2000;
    emit({ type: "done", desc: a });
    renderer.finish();
    // Still three lines: the frame replaced the previous one instead of adding below it.
    expect(screen.text).toHaveLength(3);
    expect(screen.text[0]).toMatch(/^✓ Uploaded {2}hello\.txt\s+\[█{20}\]\s+10\.0 MiB\/10\.0 MiB\s+100%/);
    expect(screen.text[1]).toStartWith("· Uploading big.bin");
    expect(screen.text[2]).toMatch(/Total\s+1\/2 done/);
  });

  test("skipped blobs get a done mark and their size; failures a ✗", () => {
    const { screen, renderer, emit } = setup();
    const empty: Descriptor = {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: `sha256:${"44".repeat(32)}`,
      size: 2,
    };
    const bad = blob(3, 1000, "bad.bin");
    emit({ type: "skip", desc: empty, reason: "exists" });
    emit({ type: "start", desc: bad });
    emit({ type: "progress", desc: bad, bytes: 500 });
    emit({ type: "fail", desc: bad, error: new Error("reset") });
    renderer.finish();
    expect(screen.text[0]).toMatch(/^✓ Exists {4}application\/vnd\.oci\.empty\.v1\+json\s+2 B$/);
    expect(screen.text[1]).toMatch(/^✗ Failed {4}bad\.bin\s+\[█{10}░{10}\]\s+500 B\/1000 B\s+50%/);
    expect(screen.text[2]).toMatch(/Total\s+1\/2 done, 1 failed/);
  });

  test("a resumed download counts the bytes already on disk, its speed only the new ones", () => {
    const { screen, clock, renderer, emit } = setup({ verb: "pull" });
    const a = blob(1, 100 * MiB, "resume.bin");
    emit({ type: "start", desc: a });
    emit({ type: "resumed", desc: a, offset: 60 * MiB });
    clock.t += 1000;
    emit({ type: "progress", desc: a, bytes: 10 * MiB });
    renderer.finish();
    expect(screen.text[0]).toMatch(
      /Downloading resume\.bin\s+\[█{14}░{6}\]\s+70\.0 MiB\/100 MiB\s+70%\s+10\.0 MiB\/s/,
    );
  });

  test("restored and status events update the row's word", () => {
    const { screen, renderer, emit } = setup({ verb: "pull" });
    const a = blob(1, 10, "a.txt");
    emit({ type: "start", desc: a });
    emit({ type: "done", desc: a });
    emit({ type: "restored", desc: a, path: "out/a.txt" });
    emit({ type: "status", desc: blob(9, 5), prompt: "Fetching", text: "localhost:5000/r:v1" });
    renderer.finish();
    expect(screen.text[0]).toMatch(/^✓ Restored {4}a\.txt/);
    expect(screen.text[1]).toMatch(/^• Fetching {4}localhost:5000\/r:v1$/);
    expect(screen.text[2]).toMatch(/Total\s+1\/1 done/);
  });
});

describe("redraw rate", () => {
  test("events inside the interval do not redraw; the ticker and finish() do", () => {
    let tick: (() => void) | undefined;
    let stopped = false;
    const ticker: Ticker = {
      start(fn, ms) {
        expect(ms).toBe(150);
        tick = fn;
        return () => {
          stopped = true;
        };
      },
    };
    const { screen, clock, renderer, emit } = setup({ ticker, intervalMs: 150 });
    const a = blob(1, 1000 * MiB, "a");
    emit({ type: "start", desc: a });
    expect(screen.writes).toHaveLength(1);
    for (let i = 1; i <= 100; i++) {
      clock.t += 1;
      emit({ type: "progress", desc: a, bytes: i * MiB });
    }
    expect(screen.writes).toHaveLength(1);
    clock.t += 100;
    emit({ type: "progress", desc: a, bytes: 101 * MiB });
    expect(screen.writes).toHaveLength(2);
    expect(screen.text[0]).toContain("101 MiB/1000 MiB");

    // With no events, the ticker keeps elapsed time moving while a transfer runs.
    clock.t += 5000;
    tick!();
    expect(screen.writes).toHaveLength(3);
    expect(screen.text[0]).toMatch(/5\.2s$/);

    renderer.finish();
    expect(stopped).toBe(true);
    const frames = screen.writes.length;
    renderer.finish();
    emit({ type: "done", desc: a });
    tick!();
    expect(screen.writes).toHaveLength(frames);
  });

  test("nothing is drawn for an operation without events", () => {
    const { screen, renderer } = setup();
    renderer.finish();
    expect(screen.writes).toEqual([]);
  });
});

describe("terminal size", () => {
  test("only as many rows as the terminal has, the rest summarized", () => {
    const { screen, renderer, emit } = setup({ size: () => ({ columns: 100, rows: 6 }) });
    const blobs = Array.from({ length: 10 }, (_, i) => blob(i + 1, 100, `file-${i}`));
    for (const [i, desc] of blobs.entries()) {
      emit({ type: "start", desc });
      if (i < 7) emit({ type: "done", desc });
    }
    renderer.finish();
    // 6 rows: 3 blobs, the "+N more" line, the total, and the cursor's line.
    expect(screen.text).toHaveLength(5);
    // The running transfers keep their place; finished ones give theirs up.
    expect(screen.text.slice(0, 3).map((line) => line.match(/file-\d/)![0])).toEqual([
      "file-7",
      "file-8",
      "file-9",
    ]);
    expect(screen.text[3]).toBe("  +7 more (7 done)");
    expect(screen.text[4]).toMatch(/Total\s+7\/10 done/);
  });

  test("a terminal too short for rows shows the total alone", () => {
    const { screen, renderer, emit } = setup({ size: () => ({ columns: 100, rows: 2 }) });
    emit({ type: "start", desc: blob(1, 100, "a") });
    renderer.finish();
    expect(screen.text).toHaveLength(1);
    expect(screen.text[0]).toMatch(/Total\s+0\/1 done/);
  });

  test("no line is wider than the terminal; narrow terminals drop columns, then cut names", () => {
    for (const columns of [40, 60, 80, 100, 200]) {
      const { screen, clock, renderer, emit } = setup({ size: () => ({ columns, rows: 30 }), color: true });
      const a = blob(1, 300 * MiB, "a-rather-long-file-name-for-a-narrow-terminal.tar.gz");
      emit({ type: "start", desc: a });
      clock.t += 3000;
      emit({ type: "progress", desc: a, bytes: 150 * MiB });
      renderer.finish();
      for (const line of screen.text) expect(Array.from(line).length).toBeLessThanOrEqual(columns - 1);
      expect(screen.text[0]).toContain("50%");
      if (columns >= 120)
        expect(screen.text[0]).toContain("a-rather-long-file-name-for-a-narrow-terminal.tar.gz");
      // A standard 80-column terminal still shows speed and elapsed time (with a shorter bar).
      if (columns >= 80)
        expect(screen.text[0]).toMatch(/\[█+░+\]\s+150 MiB\/300 MiB\s+50%\s+50\.0 MiB\/s\s+3\.0s$/);
      if (columns <= 60) expect(screen.text[0]).not.toContain("3.0s");
    }
  });
});

describe("names", () => {
  test("wide characters count two cells: columns line up and no line wraps", () => {
    for (const columns of [50, 80, 120]) {
      const { screen, clock, renderer, emit } = setup({ size: () => ({ columns, rows: 30 }) });
      const names = ["数据集-训练-第一部分.tar", "plain.txt", "😀-emoji.bin", "e\u0301te\u0301.txt"];
      const descs = names.map((name, i) => blob(i + 1, 1000, name));
      for (const desc of descs) emit({ type: "start", desc });
      clock.t += 1000;
      for (const desc of descs) emit({ type: "progress", desc, bytes: 500 });
      renderer.finish();
      for (const line of screen.text) expect(width(line)).toBeLessThanOrEqual(columns - 1);
      // The bar starts in the same cell on every row.
      const barCell = screen.text.map((line) => width(line.slice(0, line.indexOf("["))));
      expect(new Set(barCell).size).toBe(1);
    }
    expect(width("数据")).toBe(4);
    expect(width("e\u0301")).toBe(1);
  });

  test("a title with escape sequences cannot draw on the terminal", () => {
    const { screen, renderer, emit } = setup();
    const evil = blob(1, 10, "x\x1b[2J\x1b]0;title\x07y");
    emit({ type: "start", desc: evil });
    emit({ type: "done", desc: evil });
    renderer.finish();
    expect(screen.text[0]).toContain("x\\x1b[2J\\x1b]0;title\\x07y");
  });
});

describe("colour", () => {
  const run = (color: boolean): string => {
    const { screen, renderer, emit } = setup({ color });
    const a = blob(1, 10, "a");
    emit({ type: "start", desc: a });
    emit({ type: "done", desc: a });
    renderer.finish();
    return screen.writes.join("");
  };

  test("colours by default", () => {
    expect(run(true)).toMatch(/\x1b\[32m✓/);
  });

  test("NO_COLOR: no colour codes, cursor movement still", () => {
    const out = run(false);
    expect(out).not.toMatch(/\x1b\[[0-9;]*m/);
    expect(out).toContain("\x1b[2A");
    expect(out).toContain("✓");
  });
});

describe("printAbove", () => {
  test("a warning lands above the rows, which are drawn again below it", () => {
    const { screen, renderer, emit } = setup();
    emit({ type: "start", desc: blob(1, 10, "a") });
    renderer.printAbove("Warning: slow registry");
    expect(screen.text[0]).toBe("Warning: slow registry");
    expect(screen.text[1]).toMatch(/Uploading a/);
    expect(screen.text).toHaveLength(3);
  });
});

function fakeConsole(stderrIsTerminal: boolean) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const console: Console = {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    outBytes: () => {},
    stdoutIsTerminal: stderrIsTerminal,
    stderrIsTerminal,
  };
  return { console, stdout, stderr };
}

describe("chooseListener", () => {
  const desc = blob(1, 10, "a.txt");
  const quietProgress = { ticker: null, size: () => ({ columns: 100, rows: 20 }) };

  test("progress on stderr when stderr is a terminal; nothing on stdout", () => {
    const { console, stdout, stderr } = fakeConsole(true);
    const chosen = chooseListener({ console, verb: "push", env: {}, progress: quietProgress });
    expect(chosen.mode).toBe("progress");
    chosen.listener({ type: "start", desc });
    chosen.listener({ type: "done", desc });
    chosen.finish();
    chosen.finish();
    expect(stdout).toEqual([]);
    expect(stderr.join("")).toContain("Uploaded");
  });

  test("progress even with --format json or -o -, since it stays on stderr", () => {
    const { console } = fakeConsole(true);
    expect(chooseListener({ console, verb: "pull", format: "json", env: {} }).mode).toBe("progress");
    expect(chooseListener({ console, verb: "pull", outputToStdout: true, env: {} }).mode).toBe("progress");
  });

  test("--no-tty, --debug and TERM=dumb turn progress into status lines", () => {
    const { console } = fakeConsole(true);
    expect(chooseListener({ console, verb: "push", noTty: true, env: {} }).mode).toBe("status");
    expect(chooseListener({ console, verb: "push", debug: true, env: {} }).mode).toBe("status");
    expect(chooseListener({ console, verb: "push", env: { TERM: "dumb" } }).mode).toBe("status");
  });

  test("without a terminal: ORAS status lines on stdout", () => {
    const { console, stdout, stderr } = fakeConsole(false);
    const chosen = chooseListener({ console, verb: "copy", format: parseFormat({}), env: {} });
    expect(chosen.mode).toBe("status");
    chosen.listener({ type: "done", desc });
    chosen.finish();
    expect(stdout).toEqual(["Copied  000100010001 a.txt\n"]);
    expect(stderr).toEqual([]);
  });

  test("json, go-template and -o - keep stdout for the data: no status lines", () => {
    for (const options of [
      { format: parseFormat({ format: "json" }) },
      { format: parseFormat({ format: "go-template={{.digest}}" }) },
      { format: "json" as const },
      { outputToStdout: true },
    ]) {
      const { console, stdout, stderr } = fakeConsole(false);
      const chosen = chooseListener({ console, verb: "pull", env: {}, ...options });
      expect(chosen.mode).toBe("quiet");
      chosen.listener({ type: "start", desc });
      chosen.listener({ type: "done", desc });
      chosen.finish();
      expect(stdout).toEqual([]);
      expect(stderr).toEqual([]);
    }
  });

  test("warnings go to stderr in every mode", () => {
    for (const terminal of [true, false]) {
      const { console, stdout, stderr } = fakeConsole(terminal);
      const chosen = chooseListener({ console, verb: "push", env: {}, progress: quietProgress });
      chosen.warn("Warning: x");
      expect(stdout).toEqual([]);
      expect(stderr.join("")).toContain("Warning: x\n");
    }
  });
});
