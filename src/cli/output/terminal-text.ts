/**
 * Text for a terminal: sizes and durations as the progress display shows them, colour choice,
 * and widths in character cells (wide East Asian characters and emoji take two, combining marks
 * none), cutting and padding by cells, ANSI sequences kept whole.
 */
import process from "node:process";

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units: `512 B`, `1.5 KiB`, `12.0 MiB`, `2.00 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < UNITS.length - 1);
  // Keep three significant digits without ever printing "1024.0".
  const text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text} ${UNITS[unit]}`;
}

/** Elapsed time: `0.4s`, `12.3s`, `1m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

/** True unless `NO_COLOR` is set to a non-empty value (https://no-color.org). */
export function colorEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return !env.NO_COLOR;
}

/** Code point ranges that take two cells: East Asian wide and fullwidth characters, and emoji. */
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];
/** Code point ranges that take no cell of their own: combining marks, zero-width spaces and joiners. */
const ZERO_WIDTH: readonly [number, number][] = [
  [0x0300, 0x036f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x200b, 0x200f],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0f],
  [0xfe20, 0xfe2f],
];

const within = (code: number, ranges: readonly [number, number][]): boolean =>
  ranges.some(([low, high]) => code >= low && code <= high);

/** Terminal cells one code point takes. */
function cells(char: string): number {
  const code = char.codePointAt(0)!;
  return within(code, ZERO_WIDTH) ? 0 : within(code, WIDE) ? 2 : 1;
}

/** Terminal cells a text takes (the marks and bar cells are one cell wide). */
export function width(text: string): number {
  let n = 0;
  for (const char of text) n += cells(char);
  return n;
}

/** Cuts `text` to at most `max` cells, ending in "…" when cut. */
export function truncate(text: string, max: number): string {
  if (width(text) <= max) return text;
  if (max <= 0) return "";
  let out = "";
  let used = 0;
  for (const char of text) {
    if (used + cells(char) > max - 1) break;
    out += char;
    used += cells(char);
  }
  return `${out}…`;
}

/** Pads `text` with spaces to `size` cells (String.padEnd counts UTF-16 units, not cells). */
export function padCells(text: string, size: number): string {
  return text + " ".repeat(Math.max(0, size - width(text)));
}

export const ESC = "\x1b[";
const ANSI = /^\x1b\[[0-9;?]*[A-Za-z]/;

/** Cuts a line to `max` cells, keeping ANSI sequences whole (a wrapped line breaks redraws). */
export function fit(line: string, max: number, color = true): string {
  let visible = 0;
  let out = "";
  let i = 0;
  while (i < line.length) {
    const sequence = ANSI.exec(line.slice(i, i + 16));
    if (sequence) {
      out += sequence[0];
      i += sequence[0].length;
      continue;
    }
    const char = String.fromCodePoint(line.codePointAt(i)!);
    if (visible + cells(char) > max) return color && out.includes("\x1b[") ? `${out}${ESC}0m` : out;
    out += char;
    visible += cells(char);
    i += char.length;
  }
  return out;
}
