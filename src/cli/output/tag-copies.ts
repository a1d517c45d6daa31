/** What backup and restore print: a line per tag as it is copied, and the JSON of the result. */
import type { TagCopy, TagCopyResult } from "../../ops/backup.ts";
import type { Console } from "../io.ts";
import type { OutputFormat } from "./format.ts";
import type { ChosenListener } from "./progress.ts";

/** `1.23s` or `850ms`. */
export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

/** `1 tag`, `2 tags`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

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
