/**
 * Progress on a terminal: one row per blob (bar, bytes, percent, speed, elapsed, ✓ or ✗), a
 * total line, redrawn in place a few times a second. Plus {@link chooseListener}, which picks
 * progress, plain status lines or silence for a command.
 */
import process from "node:process";
import { ignoreEvents, type Listener, type TransferEvent } from "../../content/events.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { isManifestMediaType } from "../../oci/media-types.ts";
import type { Console } from "../io.ts";
import { type FormatName, isStructured, type OutputFormat } from "./format.ts";
import { printable } from "./printable.ts";
import { consoleStatusListener, displayName, PROMPTS, promptWidth, titledOnly, type Verb } from "./status.ts";
import {
  colorEnabled,
  ESC,
  fit,
  formatBytes,
  formatDuration,
  padCells,
  truncate,
  width,
} from "./terminal-text.ts";

export { colorEnabled, fit, formatBytes, formatDuration, width } from "./terminal-text.ts";

/** Terminal size in character cells. */
interface TerminalSize {
  columns: number;
  rows: number;
}

/** Timers the renderer uses to redraw while nothing else happens (injectable for tests). */
export interface Ticker {
  start(tick: () => void, intervalMs: number): () => void;
}

export interface ProgressOptions {
  /** Where frames go (normally `console.err`); each frame is one call. */
  write: (text: string) => void;
  verb: Verb;
  /** Milliseconds clock; default `Date.now`. */
  now?: () => number;
  /** Terminal size, read at every frame; default: stderr's size, else 80x24. */
  size?: () => TerminalSize;
  /** ANSI colours; default: on unless `NO_COLOR` is set to a non-empty value. */
  color?: boolean;
  /** Minimum milliseconds between frames; default 150 (about 7 frames a second). */
  intervalMs?: number;
  /** Redraw timer; default a real interval timer; `null` redraws only on events and finish(). */
  ticker?: Ticker | null;
}

/** A live progress display. */
interface ProgressRenderer {
  readonly listener: Listener;
  /** Draws the final frame and stops redrawing; later calls do nothing. */
  finish(): void;
  /** Prints lines above the live rows (warnings) without breaking the display. */
  printAbove(text: string): void;
}

type RowState = "active" | "done" | "skipped" | "failed" | "info";

interface Row {
  desc: Descriptor;
  name: string;
  prompt: string;
  state: RowState;
  /** Bytes moved in this run. */
  bytes: number;
  /** Bytes already on disk when a download resumed. */
  offset: number;
  started: number;
  ended?: number;
  /** When the row last changed state (for choosing rows when they do not all fit). */
  changed: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Bar cells on a wide terminal, and the fewest before the bar is dropped on a narrow one. */
const BAR_CELLS = 20;
const MIN_BAR_CELLS = 8;

const COLORS = { green: "32", red: "31", cyan: "36", dim: "2" } as const;

function realTicker(): Ticker {
  return {
    start(tick, intervalMs) {
      const handle = setInterval(tick, intervalMs) as unknown as { unref?: () => void };
      // Never keep the process alive just to redraw.
      handle.unref?.();
      return () => clearInterval(handle as unknown as ReturnType<typeof setInterval>);
    },
  };
}

function stderrSize(): TerminalSize {
  const stream = process.stderr as { columns?: number; rows?: number };
  return { columns: stream.columns || 80, rows: stream.rows || 24 };
}

/** The right-hand side of a row. */
interface Cells {
  /** How much of the bar is filled, 0..1, or undefined for no bar. */
  fill?: number;
  bytes: string;
  percent: string;
  speed: string;
  elapsed: string;
}

type Column = "bar" | "bytes" | "percent" | "speed" | "elapsed";
/** Columns dropped first when the terminal is narrow. */
const DROP_ORDER: Column[] = ["elapsed", "speed", "bar", "bytes", "percent"];
const COLUMNS: Column[] = ["bar", "bytes", "percent", "speed", "elapsed"];

/** Creates a progress display for one operation. Call `finish()` before printing anything else on the terminal. */
export function progressRenderer(options: ProgressOptions): ProgressRenderer {
  const now = options.now ?? Date.now;
  const size = options.size ?? stderrSize;
  const color = options.color ?? colorEnabled();
  const interval = options.intervalMs ?? 150;
  const prompts = PROMPTS[options.verb];
  const rows = new Map<string, Row>();
  let lastFrame = Number.NEGATIVE_INFINITY;
  let drawnLines = 0;
  let firstStart: number | undefined;
  let finishedAt: number | undefined;
  let finished = false;
  let dirty = false;
  let stopTicker: (() => void) | undefined;

  const paint = (text: string, code: keyof typeof COLORS): string =>
    color && text ? `${ESC}${COLORS[code]}m${text}${ESC}0m` : text;

  const rowFor = (desc: Descriptor, state: RowState, prompt: string): Row => {
    let row = rows.get(desc.digest);
    const t = now();
    if (!row) {
      row = { desc, name: displayName(desc), prompt, state, bytes: 0, offset: 0, started: t, changed: t };
      rows.set(desc.digest, row);
    }
    return row;
  };

  const setState = (row: Row, state: RowState, prompt: string): void => {
    const t = now();
    row.state = state;
    row.prompt = prompt;
    row.changed = t;
    if (state === "active") {
      row.started = t;
      row.ended = undefined;
    } else if (state !== "info") {
      row.ended = t;
    }
  };

  const onEvent = (event: TransferEvent): void => {
    if (finished) return;
    const t = now();
    if (event.type === "start" || event.type === "progress" || event.type === "resumed") firstStart ??= t;
    switch (event.type) {
      case "start": {
        const row = rowFor(event.desc, "active", prompts.start);
        setState(row, "active", prompts.start);
        row.bytes = 0;
        break;
      }
      case "progress": {
        const row = rowFor(event.desc, "active", prompts.start);
        row.bytes = event.bytes;
        break;
      }
      case "resumed": {
        const row = rowFor(event.desc, "active", prompts.resumed);
        row.offset = event.offset;
        break;
      }
      case "done": {
        const row = rowFor(event.desc, "done", prompts.done);
        setState(row, "done", prompts.done);
        row.bytes = Math.max(0, event.desc.size - row.offset);
        break;
      }
      case "skip":
        setState(rowFor(event.desc, "skipped", prompts[event.reason]), "skipped", prompts[event.reason]);
        break;
      case "duplicate":
        // The row of that digest already shows the copy of its content.
        break;
      case "restored": {
        const row = rowFor(event.desc, "done", prompts.restored);
        if (row.state !== "done") row.bytes = Math.max(0, event.desc.size - row.offset);
        setState(row, "done", prompts.restored);
        break;
      }
      case "fail":
        setState(rowFor(event.desc, "failed", prompts.failed), "failed", prompts.failed);
        break;
      case "status": {
        const row = rowFor(event.desc, "info", event.prompt);
        row.prompt = event.prompt;
        if (event.text !== undefined && row.state === "info") row.name = printable(event.text);
        break;
      }
    }
    dirty = true;
    if (!stopTicker && options.ticker !== null) {
      stopTicker = (options.ticker ?? realTicker()).start(() => {
        if (!finished) draw(false);
      }, interval);
    }
    if (now() - lastFrame >= interval) draw(false);
  };

  const transferred = (row: Row): number => Math.min(row.desc.size, row.offset + row.bytes);

  const cellsFor = (row: Row, t: number): Cells => {
    if (row.state === "info") return { bytes: "", percent: "", speed: "", elapsed: "" };
    if (row.state === "skipped")
      return { bytes: formatBytes(row.desc.size), percent: "", speed: "", elapsed: "" };
    const done = transferred(row);
    const fraction = row.desc.size > 0 ? done / row.desc.size : row.state === "done" ? 1 : 0;
    const elapsed = (row.ended ?? t) - row.started;
    const speed = elapsed > 0 ? (row.bytes / elapsed) * 1000 : 0;
    return {
      fill: fraction,
      bytes: `${formatBytes(done)}/${formatBytes(row.desc.size)}`,
      percent: `${Math.floor(fraction * 100)}%`,
      speed: `${formatBytes(speed)}/s`,
      elapsed: formatDuration(elapsed),
    };
  };

  const renderBar = (fill: number, state: RowState | "total", cells: number): string => {
    const filled = Math.max(0, Math.min(cells, Math.round(fill * cells)));
    const code = state === "failed" ? "red" : state === "done" ? "green" : "cyan";
    return `[${paint("█".repeat(filled), code)}${"░".repeat(cells - filled)}]`;
  };

  const mark = (row: Row, t: number): string => {
    switch (row.state) {
      case "done":
      case "skipped":
        return paint("✓", "green");
      case "failed":
        return paint("✗", "red");
      case "info":
        return "•";
      default:
        // A transfer still running when the display ends was interrupted: no spinner in the last frame.
        return finished ? "·" : SPINNER[Math.floor(t / 100) % SPINNER.length]!;
    }
  };

  /** The rows that fit, in the order they appeared; failed and active ones first in line for a place. */
  const visibleRows = (limit: number): { shown: Row[]; hidden: Row[] } => {
    const all = [...rows.values()];
    if (all.length <= limit) return { shown: all, hidden: [] };
    const rank = (row: Row): number => (row.state === "failed" ? 0 : row.state === "active" ? 1 : 2);
    const chosen = new Set(
      [...all].sort((a, b) => rank(a) - rank(b) || b.changed - a.changed).slice(0, Math.max(0, limit)),
    );
    return { shown: all.filter((row) => chosen.has(row)), hidden: all.filter((row) => !chosen.has(row)) };
  };

  const frameLines = (): string[] => {
    const t = finishedAt ?? now();
    const { columns, rows: height } = size();
    const lineWidth = Math.max(10, columns - 1);
    // Leave one line for the cursor and one for the total line.
    const itemRoom = Math.max(0, height - 2);
    let { shown, hidden } = visibleRows(itemRoom);
    // When rows are hidden, one line says how many; a terminal too small for that shows only the total.
    if (hidden.length > 0 && itemRoom >= 1) ({ shown, hidden } = visibleRows(itemRoom - 1));

    const transfers = [...rows.values()].filter((row) => row.state !== "info" && row.state !== "skipped");
    const total = transfers.reduce((sum, row) => sum + row.desc.size, 0);
    const moved = transfers.reduce((sum, row) => sum + transferred(row), 0);
    const movedNow = transfers.reduce((sum, row) => sum + row.bytes, 0);
    const complete = [...rows.values()].filter((r) => r.state === "done" || r.state === "skipped").length;
    const failed = [...rows.values()].filter((r) => r.state === "failed").length;
    const counted = [...rows.values()].filter((r) => r.state !== "info").length;
    const elapsed = firstStart === undefined ? 0 : t - firstStart;
    const totalFraction = total > 0 ? moved / total : counted > 0 && complete === counted ? 1 : 0;
    const totalCells: Cells = {
      fill: totalFraction,
      bytes: `${formatBytes(moved)}/${formatBytes(total)}`,
      percent: `${Math.floor(totalFraction * 100)}%`,
      speed: `${formatBytes(elapsed > 0 ? (movedNow / elapsed) * 1000 : 0)}/s`,
      elapsed: formatDuration(elapsed),
    };
    const totalName = `${complete}/${counted} done${failed ? `, ${failed} failed` : ""}`;
    const totalState: RowState | "total" = failed
      ? "failed"
      : counted > 0 && complete === counted
        ? "done"
        : "total";

    const lines: { mark: string; prompt: string; name: string; cells: Cells; state: RowState | "total" }[] = [
      ...shown.map((row) => ({
        mark: mark(row, t),
        prompt: row.prompt,
        name: row.name,
        cells: cellsFor(row, t),
        state: row.state,
      })),
    ];
    const all = [
      ...lines,
      { mark: " ", prompt: "Total", name: totalName, cells: totalCells, state: totalState },
    ];

    // Column widths over every line of the frame, dropping columns until a row fits.
    const promptCol = Math.max(promptWidth(options.verb), ...all.map((line) => width(line.prompt)));
    let barCells = BAR_CELLS;
    const colWidth = (column: Column): number =>
      column === "bar"
        ? all.some((line) => line.cells.fill !== undefined)
          ? barCells + 2
          : 0
        : Math.max(0, ...all.map((line) => width(line.cells[column])));
    let columnsShown = COLUMNS.filter((column) => colWidth(column) > 0);
    const nameWanted = Math.max(...all.map((line) => width(line.name)));
    const rightWidth = (): number => columnsShown.reduce((sum, column) => sum + colWidth(column) + 2, 0);
    const leftFixed = 2 + promptCol + 1;
    const minName = Math.min(nameWanted, 12);
    // Narrow terminals: first a shorter bar, then fewer columns.
    const overflow = leftFixed + minName + rightWidth() - lineWidth;
    if (overflow > 0) barCells = Math.max(MIN_BAR_CELLS, BAR_CELLS - overflow);
    for (const column of DROP_ORDER) {
      if (leftFixed + minName + rightWidth() <= lineWidth) break;
      columnsShown = columnsShown.filter((c) => c !== column);
    }
    const nameCol = Math.max(1, Math.min(nameWanted, lineWidth - leftFixed - rightWidth()));

    const render = (line: (typeof all)[number]): string => {
      let text = `${line.mark} ${line.prompt.padEnd(promptCol)} ${padCells(truncate(line.name, nameCol), nameCol)}`;
      for (const column of columnsShown) {
        const cellWidth = colWidth(column);
        if (column === "bar") {
          text += `  ${line.cells.fill === undefined ? " ".repeat(cellWidth) : renderBar(line.cells.fill, line.state, barCells)}`;
        } else {
          text += `  ${line.cells[column].padStart(cellWidth)}`;
        }
      }
      return fit(text.trimEnd(), lineWidth, color);
    };
    const out = lines.map(render);
    if (hidden.length > 0 && itemRoom >= 1) {
      const active = hidden.filter((row) => row.state === "active").length;
      const doneHidden = hidden.length - active;
      const parts = [active ? `${active} active` : "", doneHidden ? `${doneHidden} done` : ""].filter(
        Boolean,
      );
      out.push(paint(truncate(`  +${hidden.length} more (${parts.join(", ")})`, lineWidth), "dim"));
    }
    out.push(render(all[all.length - 1]!));
    return out;
  };

  const draw = (force: boolean): void => {
    if (!force && !dirty && ![...rows.values()].some((row) => row.state === "active")) return;
    const lines = frameLines();
    let frame = drawnLines > 0 ? `\r${ESC}${drawnLines}A` : "";
    for (const line of lines) frame += `${line}${ESC}K\n`;
    if (lines.length < drawnLines) frame += `${ESC}J`;
    options.write(frame);
    drawnLines = lines.length;
    lastFrame = now();
    dirty = false;
  };

  return {
    listener: onEvent,
    finish() {
      if (finished) return;
      finished = true;
      finishedAt = now();
      stopTicker?.();
      if (rows.size > 0) draw(true);
    },
    printAbove(text: string) {
      const body = text.endsWith("\n") ? text : `${text}\n`;
      if (drawnLines === 0 || finished) {
        options.write(body);
        return;
      }
      options.write(`\r${ESC}${drawnLines}A${ESC}J${body}`);
      drawnLines = 0;
      draw(true);
    },
  };
}

/** A pull's bars are its files: the manifests it walks get status lines, not rows. */
function filesOnly(listener: Listener): Listener {
  return (event) => {
    if (!isManifestMediaType(event.desc.mediaType)) listener(event);
  };
}

/** What {@link chooseListener} picked, and how to end it. */
export interface ChosenListener {
  mode: "progress" | "status" | "quiet";
  listener: Listener;
  /** Ends the display (final progress frame); call before printing the result. Safe to call twice. */
  finish(): void;
  /** Prints a warning on stderr without breaking a progress display. */
  warn(text: string): void;
}

interface ChooseListenerOptions {
  console: Console;
  verb: Verb;
  /** The parsed `--format` (or its name); json and go-template keep status lines off stdout. */
  format?: OutputFormat | FormatName;
  /** `--no-tty`: never draw progress. */
  noTty?: boolean;
  /** `--debug`: never draw progress (HTTP logs go to stderr). */
  debug?: boolean;
  /** Data goes to stdout (`-o -`, `manifest fetch`): nothing else may. */
  outputToStdout?: boolean;
  /** Environment for `NO_COLOR` and `TERM`; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Overrides for the progress renderer (tests). */
  progress?: Partial<Omit<ProgressOptions, "write" | "verb">>;
  /** The status lines to print instead of the verb's (commands ORAS words its own way). */
  statusLines?: Listener;
  /** `--verbose=false` (ORAS): status lines only for titled files, none for manifests and configs. */
  verbose?: boolean;
}

/**
 * Progress bars on stderr when stderr is a terminal (and not `--no-tty`, `--debug` or `TERM=dumb`);
 * else ORAS status lines on stdout for text output; else nothing (json, go-template, `-o -`).
 */
export function chooseListener(options: ChooseListenerOptions): ChosenListener {
  const { console } = options;
  const env = options.env ?? process.env;
  const format = typeof options.format === "string" ? options.format : (options.format?.kind ?? "text");
  const structured =
    typeof options.format === "object"
      ? isStructured(options.format)
      : format === "json" || format === "go-template";
  const warn = (text: string): void => console.err(text.endsWith("\n") ? text : `${text}\n`);
  if (console.stderrIsTerminal && !options.noTty && !options.debug && env.TERM !== "dumb") {
    const renderer = progressRenderer({
      write: (text) => console.err(text),
      verb: options.verb,
      color: colorEnabled(env),
      ...options.progress,
    });
    return {
      mode: "progress",
      listener: options.verb === "pull" ? filesOnly(renderer.listener) : renderer.listener,
      finish: renderer.finish,
      warn: renderer.printAbove,
    };
  }
  if (!structured && !options.outputToStdout) {
    const lines = options.statusLines ?? consoleStatusListener(console, options.verb);
    const listener = options.verbose === false ? titledOnly(lines) : lines;
    return { mode: "status", listener, finish: () => {}, warn };
  }
  return { mode: "quiet", listener: ignoreEvents, finish: () => {}, warn };
}
