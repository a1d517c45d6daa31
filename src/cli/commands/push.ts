import { writeFile } from "node:fs/promises";
import process from "node:process";
import type { Command } from "commander";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { parsePlatform } from "../../oci/platform.ts";
import { type Reference, referenceName } from "../../oci/reference.ts";
import { hostPlatform } from "../../runtime/index.ts";
import type { Console } from "../io.ts";
import {
  addCommonOptions,
  addFormatOption,
  addLayoutOptions,
  addRemoteOptions,
  collect,
  openOptions,
  referenceArgument,
} from "../options.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { chooseListener } from "../output/progress.ts";
import { pushedLines, pushedTarget } from "../output/status.ts";

type Flags = Record<string, unknown>;

/** `--concurrency N`: a positive whole number. */
export function parseConcurrency(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new SkiffError("USAGE", `--concurrency must be a positive whole number, got "${text}"`);
  }
  return Number(text);
}

/** Flags shared by push and attach: what goes into the artifact and how it is written. */
export function addPackingOptions(command: Command): Command {
  return command
    .option("-a, --annotation <key=value>", "manifest annotation (repeatable)", collect)
    .option(
      "--annotation-file <path>",
      'annotations from a JSON file: {"$manifest": {...}, "$config": {...}, "<file>": {...}}',
    )
    .option("--export-manifest <path>", "write the pushed manifest to this file")
    .option("--disable-path-validation", "allow absolute file paths and paths outside the current directory")
    .option(
      "--no-created",
      "do not add the org.opencontainers.image.created annotation (default: SOURCE_DATE_EPOCH if set, else now)",
    )
    .option("--concurrency <n>", "blobs uploaded at once", "5")
    .option(
      "--stdin-name <name>",
      'the file name (title) of the file read from stdin, given as "-"',
      "stdin",
    );
}

/** For a `-` file: how to open stdin, and the name it is published under. */
export async function stdinOptions(
  fileArgs: string[],
  flags: Flags,
): Promise<{ stdin?: () => ReadableStream<Uint8Array>; stdinName?: string }> {
  if (!fileArgs.some((arg) => arg === "-" || arg.startsWith("-:"))) return {};
  if (flags.passwordStdin || flags.identityTokenStdin) {
    throw new SkiffError("USAGE", "a file and the password cannot both come from stdin");
  }
  const { Readable } = await import("node:stream");
  return {
    stdin: () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
    stdinName: flags.stdinName as string,
  };
}

/** The manifest's `created` annotation and the tar mtime, from `--no-created` and SOURCE_DATE_EPOCH. */
export async function reproducibility(
  flags: Flags,
  env: Record<string, string | undefined> = process.env,
): Promise<{ created: string | null | undefined; mtime: number | undefined }> {
  const { formatCreated, sourceDateEpoch } = await import("../../ops/annotations.ts");
  const epoch = sourceDateEpoch(env);
  const created =
    flags.created === false ? null : epoch === undefined ? undefined : formatCreated(new Date(epoch * 1000));
  return { created, mtime: epoch };
}

/** Writes `--export-manifest`. */
export async function exportManifest(path: string | undefined, bytes: Uint8Array): Promise<void> {
  if (path === undefined) return;
  try {
    await writeFile(path, bytes);
  } catch (error) {
    throw new SkiffError("IO", `cannot write the manifest to ${path}: ${(error as Error).message}`);
  }
}

/** `repo@digest` or `layoutPath@digest`: the `reference` of JSON output. */
export function pinnedName(ref: Reference, digest: string): string {
  return `${referenceName(ref)}@${digest}`;
}

/** The result of push in JSON and templates (ORAS keys, plus `referenceAsTags`, sorted as ORAS sorts them). */
export function pushResultJson(ref: Reference, desc: Descriptor, tags: string[]): Record<string, unknown> {
  const name = referenceName(ref);
  return descriptorJson(pinnedName(ref, desc.digest), desc, {
    referenceAsTags: [...tags].sort().map((tag) => `${name}:${tag}`),
  });
}

export function registerPush(command: Command, console: Console): void {
  command
    .description(
      "Upload files, and directories packed as tar+gzip, as the layers of a new artifact whose manifest names each file, to a registry or an OCI layout directory, with zero or more tags; skiff pull gives the files back. --artifact-platform gives the artifact a platform, so an index of such artifacts can be pulled with --platform.",
    )
    .argument("<target>", "destination: host/repo[:tag1,tag2], or a layout PATH[:tags] with --oci-layout")
    .argument("[files...]", "files and directories, each FILE[:mediaType]")
    .option("--artifact-type <type>", "artifact type (default application/vnd.unknown.artifact.v1)")
    .option("--config <path[:mediaType]>", "use this file as the manifest config")
    .option(
      "--artifact-platform <os/arch[/variant][:os.version]>",
      "write an OCI image config carrying this platform (for pull --platform)",
    )
    .option("--image-spec <version>", "manifest flavour: v1.1 (default) or v1.0");
  addPackingOptions(command);
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Directories are packed as tar+gzip layers. With SOURCE_DATE_EPOCH set, every tar entry gets that
mtime and the created annotation that date, so the same inputs give the same digest.

Examples:
  # A file to a registry, with two tags
  skiff push localhost:5000/hello:v1,latest hi.txt
  # A directory into a layout, with a media type for it
  skiff push --oci-layout ./out build/repo:application/vnd.example.repo
  # An artifact for linux/arm64/v8 el8 into a layout, under a tag
  skiff push --oci-layout --artifact-platform linux/arm64/v8:el8 ./out:el8-arm64 dist/
  # A file from stdin, published as app.log (to pass a media type: -- -:TYPE)
  make build 2>&1 | skiff push --oci-layout ./out:build-log --stdin-name app.log -
  # Print only the reference pushed
  skiff push --oci-layout ./out --format go-template='{{.reference}}' dist/
  # Reproducible: the same inputs give the same digest
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) skiff push registry.example.com/app:1.2 dist/`,
  );
  command.action(async (target: string, files: string[], flags: Flags) => {
    await runPush(target, files, flags, console);
  });
}

async function runPush(
  targetText: string,
  fileArgs: string[],
  flags: Flags,
  console: Console,
): Promise<void> {
  const { loadAnnotations } = await import("../../ops/annotations.ts");
  const { parseFileArgument, pushArtifact } = await import("../../ops/push.ts");
  const { openTarget } = await import("../../content/open.ts");

  const format = parseFormat(flags as { format?: string; template?: string });
  const ref = referenceArgument(targetText, flags, "", true);
  if (ref.digest) {
    throw new SkiffError(
      "USAGE",
      `cannot push to a digest ("${targetText}"): the digest is what the push computes`,
      "give a tag, or no tag on a layout",
    );
  }
  const imageSpec = flags.imageSpec as string | undefined;
  if (imageSpec !== undefined && imageSpec !== "v1.1" && imageSpec !== "v1.0") {
    throw new SkiffError("USAGE", `--image-spec must be v1.1 or v1.0, got "${imageSpec}"`);
  }
  const concurrency = parseConcurrency(flags.concurrency, 5);
  const annotations = await loadAnnotations(
    (flags.annotation as string[] | undefined) ?? [],
    flags.annotationFile as string | undefined,
  );
  const { created, mtime } = await reproducibility(flags);
  const chosen = chooseListener({
    console,
    verb: "push",
    format,
    noTty: flags.tty === false,
    debug: Boolean(flags.debug),
  });
  const options: Parameters<typeof pushArtifact>[1] = {
    files: fileArgs.map(parseFileArgument),
    annotations,
    tags: ref.tags,
    concurrency,
    listener: chosen.listener,
    created,
    disablePathValidation: Boolean(flags.disablePathValidation),
    ...(await stdinOptions(fileArgs, flags)),
  };
  if (mtime !== undefined) options.mtime = mtime;
  if (flags.artifactType !== undefined) options.artifactType = flags.artifactType as string;
  if (flags.config !== undefined) options.config = parseFileArgument(flags.config as string);
  if (flags.artifactPlatform !== undefined) {
    options.artifactPlatform = parsePlatform(flags.artifactPlatform as string, hostPlatform().architecture);
  }
  if (imageSpec !== undefined) options.imageSpec = imageSpec;
  let result: Awaited<ReturnType<typeof pushArtifact>>;
  try {
    result = await pushArtifact(() => openTarget(ref, openOptions(flags, "", console, true)), options);
  } finally {
    chosen.finish();
  }
  await exportManifest(flags.exportManifest as string | undefined, result.bytes);
  if (writeResult(console, format, pushResultJson(ref, result.desc, result.tags))) return;
  console.out(
    pushedLines(pushedTarget(ref, ref.tags), result.desc.digest, result.desc.artifactType, {
      tags: ref.tags.slice(1),
    }),
  );
}
