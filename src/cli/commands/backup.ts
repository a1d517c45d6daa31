/**
 * `backup --output PATH REPO[:t1,t2]` (ORAS 1.3): tagged artifacts of a repository, with their
 * referrers, into an OCI layout directory or a `.tar` archive.
 */
import { SkiffError } from "../../errors.ts";
import { referenceName } from "../../oci/reference.ts";
import type { TagEvent } from "../../ops/backup.ts";
import { type Register, withFlags, withProgress } from "../command.ts";
import { openOptions, repositoryArgument, requiredFlag, TAG_COPY_FLAGS, tagCopyOptions } from "../flags.ts";
import { parseFormat, renderJson } from "../output/format.ts";
import {
  backupSummary,
  exportedLine,
  exportingLine,
  foundTagsLine,
  tagCopiesJson,
  tagDoneLine,
  tagLineWriter,
} from "../output/tag-copies.ts";

export const registerBackup: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Copy the tagged artifacts of a repository (every tag, or the ones named) with everything they reference and their referrers into an OCI layout directory or a layout tar, which skiff restore puts back into any registry. The source can also be a layout, to repack a directory as a tar.",
      )
      .argument("<repository>", "host/repo[:tag1,tag2] (no tags: every tag), or oci-layout://PATH[:tags]")
      .option("-o, --output <path>", "the layout directory, or a FILE.tar archive to write (required)")
      .option("--concurrency <n>", "blobs copied at once", "3"),
    ...TAG_COPY_FLAGS,
  )
    .addHelpText(
      "after",
      `
An output ending in .tar is written as a tar archive: the layout is built in a temporary directory
next to it and the finished archive renamed into place, so a failed backup leaves no partial file.
Any other output is a layout directory (created, or added to). Referrers (signatures, SBOMs, also
those of index children, and theirs) are included by default; --exclude-referrers leaves them out.
Without tags every tag is backed up, except sha256-<hex> referrers fallback tags (the referrers
they index are copied with their subjects instead).

Examples:
  # Every tag of a repository, with referrers, into a layout directory
  skiff backup --output ./app-backup localhost:5000/app
  # Two tags into a tar archive
  skiff backup --output app.tar localhost:5000/app:1.2,1.3
  # See what would be copied, without the referrers
  skiff backup --output app.tar --exclude-referrers --dry-run localhost:5000/app
  # Repack a layout directory as a tar
  skiff backup --output app.tar oci-layout://./app-backup`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { backup } = await import("../../ops/backup.ts");
      const format = parseFormat(flags, ["text", "json"]);
      const output = requiredFlag(
        flags.output,
        "output",
        "pass --output DIR, or --output FILE.tar for a tar archive",
      );
      const ref = repositoryArgument(text);
      if (!output) throw new SkiffError("USAGE", "the output path cannot be empty");
      const options = tagCopyOptions(ref, flags, 3);
      const { dryRun } = options;
      const source = await openTarget(ref, openOptions(flags, console));
      const name = referenceName(ref);
      const started = performance.now();
      const result = await withProgress(console, { verb: "backup", format, flags }, (listener, chosen) => {
        const line = tagLineWriter(console, format, chosen);
        const onEvent = (event: TagEvent): void => {
          switch (event.type) {
            case "tags":
              line(foundTagsLine(event.tags, name));
              break;
            case "tag-done":
              line(tagDoneLine("pull", event.copy.tag, event.copy.referrers, dryRun));
              break;
            case "tar-start":
              line(exportingLine(event.path));
              break;
            case "tar-done":
              line(exportedLine(event.path, event.size));
              break;
          }
        };
        return backup(source, output, {
          ...options,
          listener,
          onEvent,
        });
      });
      if (format.kind === "json") {
        console.out(renderJson(tagCopiesJson(result, { source: name, output, format: result.format }, name)));
        return;
      }
      console.out(
        `${backupSummary(result.copies.length, name, output, performance.now() - started, dryRun)}\n`,
      );
    });
};
