/**
 * `restore --input PATH REPO[:t1,t2]` (ORAS 1.3): push tagged artifacts of an OCI layout
 * (directory or tar), with their referrers, back into a repository.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { SkiffError } from "../../errors.ts";
import { referenceName } from "../../oci/reference.ts";
import type { TagEvent } from "../../ops/backup.ts";
import { type Register, withFlags, withProgress } from "../command.ts";
import { openOptions, repositoryArgument, requiredFlag, TAG_COPY_FLAGS, tagCopyOptions } from "../flags.ts";
import { parseFormat, renderJson } from "../output/format.ts";
import {
  foundTagsLine,
  loadedArchiveLine,
  restoreSummary,
  tagCopiesJson,
  tagDoneLine,
  tagLineWriter,
} from "../output/tag-copies.ts";

/** A directory that is no OCI layout has no tags to restore: ORAS's words, and what it lacks. */
async function refuseNonLayoutDirectory(input: string): Promise<void> {
  const info = await stat(input).catch(() => undefined);
  if (!info?.isDirectory() || (await stat(join(input, "oci-layout")).catch(() => undefined))) return;
  throw new SkiffError(
    "NOT_FOUND",
    `no tags found in OCI layout "${input}": it is not an OCI image layout (it has no oci-layout file)`,
    "restore reads a layout directory or tar archive, such as skiff backup writes",
  );
}

export const registerRestore: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Copy tagged artifacts (every tag of the layout, or the ones named) with everything they reference and their referrers from an OCI layout directory or tar, such as one skiff backup wrote, into a registry repository.",
      )
      .argument("<repository>", "host/repo[:tag1,tag2] (no tags: every tag of the layout)")
      .option("--input <path>", "the layout directory or layout tar archive to restore from (required)")
      .option("--concurrency <n>", "blobs copied at once", "5"),
    ...TAG_COPY_FLAGS,
  )
    .addHelpText(
      "after",
      `
Every tagged artifact of the layout (or the named tags) is copied with its whole graph and, unless
--exclude-referrers, its referrers; blobs the repository has are skipped. On a registry without
the referrers API, skiff keeps the sha256-<hex> fallback tags current itself.

Examples:
  # Every tag of a backup tar into a repository
  skiff restore --input app.tar localhost:5000/app
  # One tag from a layout directory
  skiff restore --input ./app-backup localhost:5000/app:1.2
  # See what would be copied
  skiff restore --input app.tar --dry-run localhost:5000/app`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { restore } = await import("../../ops/backup.ts");
      const format = parseFormat(flags, ["text", "json"]);
      const input = requiredFlag(
        flags.input,
        "input",
        "pass --input with the layout directory or tar archive to restore",
      );
      const ref = repositoryArgument(text);
      if (!input) throw new SkiffError("USAGE", "the input path cannot be empty");
      const options = tagCopyOptions(ref, flags, 5);
      const { dryRun } = options;
      await refuseNonLayoutDirectory(input);
      const source = await openTarget({ kind: "layout", path: input });
      const destination = await openTarget(ref, openOptions(flags, console, !dryRun));
      const name = referenceName(ref);
      const started = performance.now();
      const result = await withProgress(
        console,
        { verb: "restore", format, flags },
        async (listener, chosen) => {
          const line = tagLineWriter(console, format, chosen);
          if (!source.writable) {
            const info = await stat(input);
            line(loadedArchiveLine(input, info.size));
          }
          const onEvent = (event: TagEvent): void => {
            if (event.type === "tags") {
              line(foundTagsLine(event.tags, "the backup"));
            } else if (event.type === "tag-done") {
              line(tagDoneLine("push", event.copy.tag, event.copy.referrers, dryRun));
            }
          };
          return restore(source, destination, {
            ...options,
            listener,
            onEvent,
          });
        },
      );
      if (format.kind === "json") {
        console.out(renderJson(tagCopiesJson(result, { input, destination: name }, name)));
        return;
      }
      console.out(`${restoreSummary(result.copies.length, name, performance.now() - started, dryRun)}\n`);
    });
};
