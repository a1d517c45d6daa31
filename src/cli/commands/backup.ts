/**
 * `backup --output PATH REPO[:t1,t2]` (ORAS 1.3): tagged artifacts of a repository, with their
 * referrers, into an OCI layout directory or a `.tar` archive. Shared by `restore`.
 */
import type { Command } from "commander";
import { SkiffError } from "../../errors.ts";
import { type ParsedReference, parseReference, referenceName } from "../../oci/reference.ts";
import type { TagCopy, TagCopyResult, TagEvent } from "../../ops/backup.ts";
import type { Console } from "../io.ts";
import { addCommonOptions, addFormatOption, addRemoteOptions, openOptions } from "../options.ts";
import { type OutputFormat, parseFormat, renderJson } from "../output/format.ts";
import { type ChosenListener, chooseListener } from "../output/progress.ts";
import {
  backupSummary,
  exportedLine,
  exportingLine,
  foundTagsLine,
  tagDoneLine,
} from "../output/tag-copies.ts";
import { parseConcurrency } from "./push.ts";

type Flags = Record<string, unknown>;

/** `--include-referrers` / `--exclude-referrers`: both commands include referrers by default. */
export function addReferrerOptions(command: Command): Command {
  return command
    .option("--include-referrers", "copy the referrers of each artifact too (the default)")
    .option("--exclude-referrers", "copy the tagged artifacts only, without their referrers")
    .option("--dry-run", "resolve the tags and count the referrers, but copy nothing");
}

/** Whether referrers are copied, from the two flags (giving both is an error). */
export function referrersFlag(flags: Flags): boolean {
  if (flags.includeReferrers && flags.excludeReferrers) {
    throw new SkiffError("USAGE", "--include-referrers and --exclude-referrers cannot be used together");
  }
  return !flags.excludeReferrers;
}

/**
 * The repository argument: `host/repo[:t1,t2]` or `oci-layout://PATH[:t1,t2]`; no digest (tags
 * are what a backup records).
 */
export function repositoryArgument(text: string): ParsedReference {
  if (text === "") throw new SkiffError("USAGE", "the repository reference cannot be empty");
  const ref = parseReference(text, { tagList: true });
  if (ref.digest) {
    throw new SkiffError(
      "USAGE",
      `digest references are not supported here: "${text}"`,
      "name tags (REPO:tag1,tag2) or none for every tag; copy a digest with skiff cp",
    );
  }
  return ref;
}

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

export function registerBackup(command: Command, console: Console): void {
  command
    .description(
      "Copy the tagged artifacts of a repository (every tag, or the ones named) with everything they reference and their referrers into an OCI layout directory or a layout tar, which skiff restore puts back into any registry. The source can also be a layout, to repack a directory as a tar.",
    )
    .argument("<repository>", "host/repo[:tag1,tag2] (no tags: every tag), or oci-layout://PATH[:tags]")
    .requiredOption("-o, --output <path>", "the layout directory, or a FILE.tar archive to write")
    .option("--concurrency <n>", "blobs copied at once", "3");
  addReferrerOptions(command);
  addFormatOption(command, ["text", "json"]);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
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
  );
  command.action(async (repository: string, flags: Flags) => {
    await runBackup(repository, flags, console);
  });
}

async function runBackup(text: string, flags: Flags, console: Console): Promise<void> {
  const { openTarget } = await import("../../content/open.ts");
  const { backup } = await import("../../ops/backup.ts");
  const format = parseFormat(flags as { format?: string; template?: string }, ["text", "json"]);
  const ref = repositoryArgument(text);
  const output = flags.output as string;
  if (!output) throw new SkiffError("USAGE", "the output path cannot be empty");
  const referrers = referrersFlag(flags);
  const concurrency = parseConcurrency(flags.concurrency, 3);
  const dryRun = Boolean(flags.dryRun);
  const source = await openTarget(ref, openOptions(flags, "", console));
  const name = referenceName(ref);
  const chosen = chooseListener({
    console,
    verb: "backup",
    format,
    noTty: flags.tty === false,
    debug: Boolean(flags.debug),
  });
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
  const started = performance.now();
  let result: Awaited<ReturnType<typeof backup>>;
  try {
    result = await backup(source, output, {
      ...(ref.tags.length > 0 ? { tags: ref.tags } : {}),
      referrers,
      dryRun,
      concurrency,
      listener: chosen.listener,
      onEvent,
    });
  } finally {
    chosen.finish();
  }
  if (format.kind === "json") {
    console.out(renderJson(tagCopiesJson(result, { source: name, output, format: result.format }, name)));
    return;
  }
  console.out(`${backupSummary(result.copies.length, name, output, performance.now() - started, dryRun)}\n`);
}
