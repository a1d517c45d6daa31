/**
 * What backup and restore print: the JSON of the result, and the text lines worded as ORAS words
 * them (`Found 2 tag(s) in ...`, `Pulled tag v1 with 3 referrer(s)`, `Successfully backed up ...`),
 * since scripts grep for them.
 */
import type { TagCopy, TagCopyResult } from "../../ops/backup.ts";
import type { Console } from "../io.ts";
import type { OutputFormat } from "./format.ts";
import { printable } from "./printable.ts";
import type { ChosenListener } from "./progress.ts";

/** Tag-level lines: stdout with status lines, above the bars with progress, nowhere for json. */
export function tagLineWriter(console: Console, format: OutputFormat, chosen: ChosenListener) {
  return (line: string): void => {
    if (format.kind !== "text") return;
    if (chosen.mode === "progress") chosen.warn(line);
    else console.out(`${line}\n`);
  };
}

/** The JSON result of backup/restore: where, and each tag with its digest and referrer count. */
export function tagCopiesJson(
  result: TagCopyResult,
  place: Record<string, unknown>,
  name: string,
): Record<string, unknown> {
  return {
    ...place,
    dryRun: result.dryRun,
    tags: result.copies.map((copy: TagCopy) => ({
      tag: copy.tag,
      reference: `${name}@${copy.desc.digest}`,
      mediaType: copy.desc.mediaType,
      digest: copy.desc.digest,
      size: copy.desc.size,
      referrers: copy.referrers,
    })),
  };
}

/** A size as ORAS prints archive sizes: `512 B`, `7.5 KB`, `26.5 KB`, `1.25 MB` (1024-based). */
export function humanSize(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const rounded = Number(value.toFixed(decimals));
  return `${rounded} ${units[unit]}`;
}

/** Milliseconds as a Go duration rounded to the millisecond: `37ms`, `1.234s`, `2m5.1s`. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const trim = (n: number): string => String(Number(n.toFixed(3)));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${trim(seconds)}s`;
  if (minutes > 0) return `${minutes}m${trim(seconds)}s`;
  return `${trim(seconds)}s`;
}

/**
 * `Found 2 tag(s) in localhost:5000/app: v1, v2` (`place`: a repository, or `the backup`); over
 * five tags, ORAS ends the line with the colon and lists one tag a line.
 */
export function foundTagsLine(tags: readonly string[], place: string): string {
  const head = `Found ${tags.length} tag(s) in ${printable(place)}:`;
  const shown = tags.map(printable);
  return tags.length <= 5 ? `${head} ${shown.join(", ")}` : [head, ...shown].join("\n");
}

/** What backup (pull) or restore (push) says when one tag is done, or would be in a dry run. */
export function tagDoneLine(
  direction: "pull" | "push",
  tag: string,
  referrers: number,
  dryRun: boolean,
): string {
  const what = `tag ${printable(tag)} with ${referrers} referrer(s)`;
  if (dryRun) return `Dry run: would ${direction} ${what}`;
  return `${direction === "pull" ? "Pulled" : "Pushed"} ${what}`;
}

/** `Exporting to app.tar`, before a backup writes its archive. */
export function exportingLine(path: string): string {
  return `Exporting to ${printable(path)}`;
}

/** `Exported to app.tar (7.5 KB)`, once it is written. */
export function exportedLine(path: string, size: number): string {
  return `Exported to ${printable(path)} (${humanSize(size)})`;
}

/** `Loaded backup archive: app.tar (7.5 KB)`, when restore reads a tar. */
export function loadedArchiveLine(path: string, size: number): string {
  return `Loaded backup archive: ${printable(path)} (${humanSize(size)})`;
}

/** The last line of a backup (the dry run is skiff's own: ORAS's backup has none). */
export function backupSummary(
  count: number,
  source: string,
  output: string,
  ms: number,
  dryRun: boolean,
): string {
  if (dryRun) {
    return `Dry run complete: ${count} tag(s) would be backed up from "${printable(source)}" to "${printable(output)}" (no data written)`;
  }
  return `Successfully backed up ${count} tag(s) from "${printable(source)}" to "${printable(output)}" in ${goDuration(ms)}.`;
}

/** The last line of a restore. */
export function restoreSummary(count: number, destination: string, ms: number, dryRun: boolean): string {
  if (dryRun)
    return `Dry run complete: ${count} tag(s) would be restored to "${printable(destination)}" (no data pushed)`;
  return `Successfully restored ${count} tag(s) to "${printable(destination)}" in ${goDuration(ms)}`;
}
