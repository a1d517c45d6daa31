/**
 * `index create|update` (also `manifest index create|update`): compose an image index from
 * manifests and indexes in layouts and registries, or change one.
 */
import { writeFile } from "node:fs/promises";
import type { Listener } from "../../content/events.ts";
import { SkiffError } from "../../errors.ts";
import { type Reference, referenceName } from "../../oci/reference.ts";
import type { IndexResult } from "../../ops/image-index/create.ts";
import type { OpenPlace } from "../../ops/image-index/sources.ts";
import { hostPlatform } from "../../runtime/index.ts";
import {
  type CommandUnknownOpts,
  type FlagValues,
  flagGroup,
  type Register,
  withFlags,
  withProgress,
} from "../command.ts";
import {
  collect,
  formatFlags,
  openOptions,
  parseConcurrency,
  referenceArgument,
  reproducibility,
  requireTagOrDigest,
  TARGET_FLAGS,
} from "../flags.ts";
import type { Console } from "../io.ts";
import { pushResultJson } from "../output/descriptors.ts";
import { type OutputFormat, parseFormat, writeResult } from "../output/format.ts";
import { indexStatusListener } from "../output/index-lines.ts";
import { pathFlagText, pushedLines } from "../output/status.ts";

const SOURCE_RULES = `
A SOURCE is one of:
  TAG or DIGEST               a manifest or index in the target's own repository or layout
  oci-layout://PATH[:TAG|@DIGEST]
                              a layout directory or tar; without TAG or DIGEST it must hold one
                              manifest or index (else the candidates are listed)
  HOST/REPO:TAG|@DIGEST       a manifest or index in any registry repository
Everything the index needs is copied into the target, so the result is self-contained.

Each entry gets mediaType, digest, size, artifactType, and the platform of the source (from its
descriptor, else from its image config: os, architecture, variant, os.version, os.features).
Set or override it with --platform-for 'SOURCE=os/arch[/variant][:os.version]', SOURCE written
exactly as on the command line. Entry annotations: --annotation-for 'SOURCE=KEY=VALUE', or an
annotation file {"$manifest": {index annotations}, "SOURCE": {entry annotations}}.
Two entries with the same platform (also inside a nested index) are refused unless
--allow-duplicate-platforms; a manifest with no platform is refused unless --allow-missing-platform.`;

/** Flags that decide the entries and the checks, shared by create and update. */
const entryFlags = flagGroup((command) =>
  command
    .option(
      "--platform-for <SOURCE=PLATFORM>",
      "set or override the platform (os/arch[/variant][:os.version]) of one source's entry (repeatable)",
      collect,
    )
    .option("--annotation-for <SOURCE=KEY=VALUE>", "annotation on one source's entry (repeatable)", collect)
    .option("--allow-duplicate-platforms", "allow two entries with the same platform")
    .option("--allow-missing-platform", "allow manifest entries without a platform")
    .option("--artifact-type <type>", "the index's artifactType (empty: none; update: removes it)")
    .option("-a, --annotation <key=value>", "index annotation (repeatable)", collect)
    .option(
      "--annotation-file <path>",
      'annotations from a JSON file: {"$manifest": {...index...}, "SOURCE": {...entry...}}',
    )
    .option("-o, --output <file>", "write the index JSON to this file (- for stdout) instead of pushing it")
    .option("--concurrency <n>", "blobs copied at once", "3"),
);

/** Fills the `index` group (create, update): the top-level one, or the one under `manifest`. */
export const registerIndex: Register = (group, console) => {
  // The examples use the words the user typed to get here: `skiff index` or `skiff manifest index`.
  const invocation = commandPath(group);
  group
    .description(
      "Compose image indexes (multi-platform images and artifacts) from manifests and indexes in OCI layouts and registries, and change existing ones. The same commands are under skiff index and skiff manifest index.",
    )
    .helpCommand(false);
  group.addHelpText(
    "after",
    `
Examples:
  # An index of two layouts' manifests, pushed to a registry tag
  ${invocation} create localhost:5000/app:1.2 \\
    oci-layout://build-amd64 oci-layout://build-arm64
  # Add a platform to it
  ${invocation} update localhost:5000/app:1.2 --add oci-layout://build-s390x`,
  );

  withFlags(
    group
      .command("create")
      .alias("pack")
      .summary("Create an image index from manifests and indexes in layouts and registries, and push it")
      .description(
        "Create an image index whose entries are the given manifests and indexes (from the target's own repository or layout, other layouts, or any registry), copy everything they reference into the target, and push the index there, tagged when tags are given. Each entry carries its source's platform, os.version included, so pull --platform linux/arm64/v8:el8 can choose among them.",
      )
      .argument("<target>", "where the index goes: host/repo[:tag1,tag2], or oci-layout://PATH[:tags]")
      .argument("[sources...]", "manifests and indexes to list (see below); none makes an empty index")
      .option("--subject <SOURCE>", "make the index a referrer of this manifest (same forms as SOURCE)")
      .option(
        "--created",
        "add the org.opencontainers.image.created annotation: SOURCE_DATE_EPOCH if set, else now",
      )
      // No annotation is added unless asked (as ORAS); --no-created stays accepted for old scripts.
      .addOption(group.createOption("--no-created", "add no created annotation (the default)").hideHelp()),
    entryFlags,
    formatFlags(),
    ...TARGET_FLAGS,
  )
    .addHelpText(
      "after",
      `${SOURCE_RULES}

In a layout the index gets ONE index.json entry (tagged when tags are given), so a fresh layout
resolves without a tag; untagged entries of sources in that same layout are folded into it.
On a registry the index is pushed by digest, then tagged. Nothing is written when a check fails.

Examples:
  # Merge the only manifests of two layouts (no tags needed) into a layout, with annotations
  ${invocation} create oci-layout://merged \\
    oci-layout://build-el8-arm64 oci-layout://build-el9-arm64 \\
    -a org.opencontainers.image.authors=ci -a org.opencontainers.image.revision=$SHA
  # Index two tags of the target repository, pushed with two tags
  ${invocation} create localhost:5000/app:1.2,latest linux-amd64 linux-arm64
  # Mix a layout and another registry's manifest
  ${invocation} create localhost:5000/app:1.2 \\
    oci-layout://build-a registry.example.com/other/app@sha256:...
  # Give an entry without a platform one
  ${invocation} create --platform-for 'oci-layout://docs=linux/arm64/v8:el8' \\
    oci-layout://out oci-layout://docs
  # Only write the index JSON, push nothing
  ${invocation} create -o index.json localhost:5000/app linux-amd64 linux-arm64`,
    )
    .action(async (targetText, sourceTexts, flags) => {
      const { createIndex } = await import("../../ops/image-index/create.ts");
      const { indexSources } = await import("../../ops/image-index/sources.ts");
      const format = parseFormat(flags);
      const output = checkOutputFlags(flags.output, format);
      const ref = referenceArgument(targetText, flags, true);
      if (ref.digest) {
        throw new SkiffError(
          "USAGE",
          `cannot create an index at a digest ("${targetText}"): the digest is what create computes`,
          "give tags (TARGET:t1,t2), or none",
        );
      }
      const { index, settings } = await entrySettings(flags);
      const sources = indexSources(sourceTexts, ref, settings);
      const subject = flags.subject === undefined ? undefined : indexSources([flags.subject], ref)[0];
      const created = flags.created === true ? (await reproducibility(flags)).created : null;
      const options: Parameters<typeof createIndex>[0] = {
        target: ref,
        tags: ref.tags,
        sources,
        open: await placeOpener(flags, console),
        annotations: index,
        created,
        allowDuplicatePlatforms: Boolean(flags.allowDuplicatePlatforms),
        allowMissingPlatform: Boolean(flags.allowMissingPlatform),
        publish: output === undefined,
        concurrency: parseConcurrency(flags.concurrency, 3),
      };
      // An empty --artifact-type is no artifact type, as in ORAS.
      if (flags.artifactType) options.artifactType = flags.artifactType;
      if (subject) options.subject = subject;
      await runAndReport(console, { mode: "create", ref, format, flags, output }, (listener) =>
        createIndex({ ...options, listener }),
      );
    });

  withFlags(
    group
      .command("update")
      .summary("Update an image index: add, merge or remove entries, change its annotations, push it")
      .description(
        "Change an existing image index: remove entries, merge in the entries of other indexes, add manifests and indexes, change its annotations or artifact type. The result is pushed as a new index (an index is never changed in place) and the tags named in INDEX move to it.",
      )
      .argument("<index>", "the index: host/repo:tag[,tag2]|@digest, or oci-layout://PATH[:tag|@digest]")
      .option(
        "--add <SOURCE>",
        "add a manifest or index (repeatable; same forms as create's SOURCE)",
        collect,
      )
      .option("--merge <INDEX>", "add every entry of this index (repeatable)", collect)
      .option("--remove <DIGEST>", "remove the entry with this digest (repeatable; a tag works too)", collect)
      .option("--tag <tag>", "also tag the updated index (repeatable)", collect),
    entryFlags,
    formatFlags(),
    ...TARGET_FLAGS,
  )
    .addHelpText(
      "after",
      `
Entries are removed first, then added, then merged. The tags named in INDEX move to the updated
index (other tags stay on the old one). In a layout, untagged index.json entries of the old index
point at the new one; INDEX without a tag (a layout with one root) moves its tags too.
A Docker manifest list stays one, and refuses annotations and an artifact type.

--add and --merge take the same forms as SOURCE in index create (TAG or DIGEST in the index's own
place, oci-layout://PATH[:TAG|@DIGEST], HOST/REPO:TAG|@DIGEST); --platform-for, --annotation-for
and annotation-file keys name an --add SOURCE exactly as written. The same checks apply:
duplicate platforms and --add manifests without a platform are refused unless allowed.

Examples:
  # Add a platform to the only index of a layout (no tag needed)
  ${invocation} update oci-layout://merged --add oci-layout://build-el9-amd64
  # Replace an entry: remove it by digest, add its successor
  ${invocation} update localhost:5000/app:1.2 --remove sha256:... --add linux-s390x
  # Annotate an index known by digest and tag the result
  ${invocation} update localhost:5000/app@sha256:... --tag 1.2 \\
    -a org.opencontainers.image.version=1.2`,
    )
    .action(async (indexText, flags) => {
      const { indexSources } = await import("../../ops/image-index/sources.ts");
      const { requestsChange, updateIndex } = await import("../../ops/image-index/update.ts");
      const format = parseFormat(flags);
      const output = checkOutputFlags(flags.output, format);
      if (output !== undefined && flags.tag !== undefined) {
        throw new SkiffError(
          "USAGE",
          "--tag, --output cannot be used at the same time",
          "-o writes the index without pushing it, so there is nothing to tag",
        );
      }
      const ref = referenceArgument(indexText, flags, true);
      requireTagOrDigest(ref, indexText, flags);
      const { index, settings } = await entrySettings(flags);
      const options: Parameters<typeof updateIndex>[0] = {
        index: ref,
        indexTags: ref.tags,
        tags: flags.tag ?? [],
        add: indexSources(flags.add ?? [], ref, settings),
        merge: indexSources(flags.merge ?? [], ref),
        remove: flags.remove ?? [],
        annotations: index,
        open: await placeOpener(flags, console),
        allowDuplicatePlatforms: Boolean(flags.allowDuplicatePlatforms),
        allowMissingPlatform: Boolean(flags.allowMissingPlatform),
        publish: output === undefined,
        concurrency: parseConcurrency(flags.concurrency, 3),
      };
      if (flags.artifactType !== undefined) options.artifactType = flags.artifactType;
      if (!requestsChange(options)) {
        // As ORAS: not an error, and nothing is read or written.
        console.out("Nothing to update as no change is requested\n");
        return;
      }
      await runAndReport(console, { mode: "update", ref, format, flags, output }, (listener) =>
        updateIndex({ ...options, listener }),
      );
    });
};

function commandPath(command: CommandUnknownOpts): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** Opens each place once, with the remote flags; writers may create a missing layout directory. */
async function placeOpener(flags: Parameters<typeof openOptions>[0], console: Console): Promise<OpenPlace> {
  const { openTarget } = await import("../../content/open.ts");
  const { cachedOpener } = await import("../../ops/image-index/sources.ts");
  return cachedOpener((ref, forWriting) => {
    const options = openOptions(flags, console, forWriting);
    // -H is for the registries among the places: a layout among them is no mistake here.
    if (ref.kind === "layout") delete options.remote?.headers;
    return openTarget(ref, options);
  });
}

/** Index annotations, per-source annotations from the file, and the per-source settings. */
async function entrySettings(flags: FlagValues<typeof entryFlags>) {
  const { loadAnnotations } = await import("../../ops/annotations.ts");
  const annotations = await loadAnnotations(flags.annotation ?? [], flags.annotationFile);
  if (Object.keys(annotations.config).length > 0) {
    throw new SkiffError(
      "USAGE",
      `the annotation file has "$config" annotations, but an index has no config`,
      'use "$manifest" for the index and SOURCE keys for its entries',
    );
  }
  return {
    index: annotations.manifest,
    settings: {
      platformFor: flags.platformFor ?? [],
      annotationFor: flags.annotationFor ?? [],
      fileAnnotations: annotations.files,
      hostArchitecture: hostPlatform().architecture,
    },
  };
}

function checkOutputFlags(output: string | undefined, format: OutputFormat): string | undefined {
  if (output === "-" && format.kind !== "text") {
    throw new SkiffError("USAGE", "-o - writes the index to stdout; it cannot be combined with --format");
  }
  return output;
}

async function writeOutput(path: string, bytes: Uint8Array, console: Console): Promise<void> {
  if (path === "-") {
    console.outBytes(bytes);
    return;
  }
  try {
    await writeFile(path, bytes);
  } catch (error) {
    throw new SkiffError("IO", `cannot write the index to ${path}: ${(error as Error).message}`);
  }
}

/** One index command's settings: which lines, for which index, printed how, written where. */
interface IndexRun {
  mode: "create" | "update";
  ref: Reference;
  format: OutputFormat;
  flags: { debug?: boolean; tty?: boolean };
  output: string | undefined;
}

/** Runs `op` with ORAS's index lines (none when the index goes to stdout), then writes and reports its result. */
async function runAndReport(
  console: Console,
  run: IndexRun,
  op: (listener: Listener) => Promise<IndexResult>,
): Promise<void> {
  const { mode, ref, format, flags, output } = run;
  const progress = {
    verb: "push",
    format,
    flags,
    outputToStdout: output === "-",
    statusLines: indexStatusListener((text) => console.out(text), mode, ref),
  } as const;
  const result = await withProgress(console, progress, op);
  if (output !== undefined) await writeOutput(output, result.bytes, console);
  report(ref, result, format, output, console);
}

/** Prints the result: JSON or template, else `Pushed [place] ref` and `Digest:` (or only the digest with -o). */
function report(
  ref: Reference,
  result: IndexResult,
  format: OutputFormat,
  output: string | undefined,
  console: Console,
) {
  if (writeResult(console, format, pushResultJson(ref, result.desc, result.tags))) return;
  if (output === "-") return;
  if (output !== undefined) {
    console.out(`Digest: ${result.desc.digest}\n`);
    return;
  }
  // ORAS: the first tag in the Pushed line, one Tagged line for each other; no ArtifactType line.
  const name = referenceName(ref);
  const text =
    pathFlagText(ref, result.tags[0]) ?? (result.tags.length > 0 ? `${name}:${result.tags[0]}` : name);
  console.out(
    pushedLines({ ref, text }, result.desc.digest, undefined, { padded: true, tags: result.tags.slice(1) }),
  );
}
