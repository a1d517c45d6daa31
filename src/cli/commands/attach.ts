import type { Command } from "commander";
import { SkiffError } from "../../errors.ts";
import { formatReference, withDigest } from "../../oci/reference.ts";
import type { Console } from "../io.ts";
import {
  addCommonOptions,
  addFormatOption,
  addLayoutOptions,
  addPlatformOption,
  addRemoteOptions,
  openOptions,
  platformFlag,
  referenceArgument,
} from "../options.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { chooseListener } from "../output/progress.ts";
import { describeTarget } from "../output/status.ts";
import {
  addPackingOptions,
  exportManifest,
  parseConcurrency,
  pinnedName,
  reproducibility,
  stdinOptions,
} from "./push.ts";

type Flags = Record<string, unknown>;

export function registerAttach(command: Command, console: Console): void {
  command
    .description(
      "Attach files (a signature, an SBOM, a note) to a manifest that already exists, as a new artifact whose subject is that manifest: the manifest itself does not change, skiff discover lists the new artifact and skiff cp -r copies it along. The subject can be in a registry or an OCI layout directory (there without a tag when the layout holds one manifest), and --platform picks one platform's manifest of an index.",
    )
    .argument("<subject>", "the manifest to attach to: host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
    .argument("[files...]", "files and directories, each FILE[:mediaType]")
    .requiredOption("--artifact-type <type>", "artifact type of the referrer (required)");
  addPlatformOption(command, "attach to this platform's manifest of a multi-platform index");
  addPackingOptions(command);
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
On a registry without the referrers API, skiff updates the sha256-<hex> fallback tag itself. On a
layout, the referrer gets an untagged index.json entry, so discover finds it. A layout subject
needs no tag when the layout holds one manifest (or --platform picks one).

Examples:
  # Attach an SBOM to an artifact in a registry
  skiff attach --artifact-type application/spdx+json localhost:5000/app:v1 sbom.spdx.json
  # Attach a signature to the only manifest of a layout (no tag needed)
  skiff attach --artifact-type application/vnd.example.sig.v1 oci-layout://./out sig.txt
  # Attach a note, with an annotation, to the linux/arm64/v8 el8 manifest of an index
  skiff attach --artifact-type application/vnd.example.note.v1 -a reviewed=yes \\
    --platform linux/arm64/v8:el8 localhost:5000/app:1.2 note.txt`,
  );
  command.action(async (subject: string, files: string[], flags: Flags) => {
    await runAttach(subject, files, flags, console);
  });
}

async function runAttach(
  subjectText: string,
  fileArgs: string[],
  flags: Flags,
  console: Console,
): Promise<void> {
  const { loadAnnotations } = await import("../../ops/annotations.ts");
  const { parseFileArgument } = await import("../../ops/push.ts");
  const { attachArtifact } = await import("../../ops/attach.ts");
  const { openTarget } = await import("../../content/open.ts");

  const format = parseFormat(flags as { format?: string; template?: string });
  const ref = referenceArgument(subjectText, flags);
  if (ref.tags.length > 1) {
    throw new SkiffError("USAGE", `attach takes one subject, not a tag list ("${subjectText}")`);
  }
  const concurrency = parseConcurrency(flags.concurrency, 5);
  const annotations = await loadAnnotations(
    (flags.annotation as string[] | undefined) ?? [],
    flags.annotationFile as string | undefined,
  );
  const { created, mtime } = await reproducibility(flags);
  const platform = platformFlag(flags);
  const files = fileArgs.map(parseFileArgument);
  // The subject must already exist, so a missing layout is not created here.
  const target = await openTarget(ref, openOptions(flags, "", console));
  if (!target.writable) {
    throw new SkiffError(
      "UNSUPPORTED",
      `cannot attach to ${subjectText}: layout tar archives are read-only`,
      "extract the archive to a layout directory first",
    );
  }
  const chosen = chooseListener({
    console,
    verb: "push",
    format,
    noTty: flags.tty === false,
    debug: Boolean(flags.debug),
  });
  const options: Parameters<typeof attachArtifact>[2] = {
    artifactType: flags.artifactType as string,
    files,
    annotations,
    concurrency,
    listener: chosen.listener,
    created,
    disablePathValidation: Boolean(flags.disablePathValidation),
    ...(await stdinOptions(fileArgs, flags)),
  };
  if (mtime !== undefined) options.mtime = mtime;
  if (platform) options.platform = platform;
  let result: Awaited<ReturnType<typeof attachArtifact>>;
  try {
    result = await attachArtifact(target, ref, options);
  } finally {
    chosen.finish();
  }
  await exportManifest(flags.exportManifest as string | undefined, result.bytes);
  if (writeResult(console, format, descriptorJson(pinnedName(ref, result.desc.digest), result.desc))) return;
  const subjectShown = formatReference(withDigest(ref, result.subject.digest));
  console.out(`Attached to ${describeTarget(ref, subjectShown)}\nDigest: ${result.desc.digest}\n`);
}
