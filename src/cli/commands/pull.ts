import { sep } from "node:path";
import { SkiffError } from "../../errors.ts";
import { Annotation } from "../../oci/media-types.ts";
import { displayReference, formatReference, referenceName } from "../../oci/reference.ts";
import { type Register, withFlags, withProgress } from "../command.ts";
import {
  formatFlags,
  openOptions,
  parseConcurrency,
  platformFlag,
  platformFlags,
  referenceArgument,
  TARGET_FLAGS,
  verboseFlags,
} from "../flags.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { pathFlagText, pulledLines, skippedLayersHint } from "../output/status.ts";

function ratioFlag(text: string): number {
  if (!/^\d+$/.test(text))
    throw new SkiffError("USAGE", `--max-unpack-ratio must be a whole number, got "${text}"`);
  return Number(text);
}

/** `--config FILE[:mediaType]`: the media type, if any, follows the last colon. */
function configFlag(text: string): { path: string; mediaType?: string } {
  const colon = text.lastIndexOf(":");
  const path = colon === -1 ? text : text.slice(0, colon);
  const mediaType = colon === -1 ? "" : text.slice(colon + 1);
  if (path === "") throw new SkiffError("USAGE", `--config needs a file name, got "${text}"`);
  return mediaType === "" ? { path } : { path, mediaType };
}

export const registerPull: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Download the files of an artifact (its layers with a title annotation) into a directory, or its single file to stdout with -o -. The source can be a registry, an OCI layout directory or a layout tar; in a layout the reference needs no tag when the layout holds one manifest, and --platform picks one manifest of an index, os.version included (linux/arm64/v8:el8).",
      )
      .argument(
        "<reference>",
        "host/repo:tag|@digest, or a layout PATH[:tag|@digest] (oci-layout://PATH or --oci-layout)",
      )
      .option("-o, --output <path>", "output directory, or - for the single file on stdout", ".")
      .option("-k, --keep-old-files", "fail instead of replacing files that exist")
      .option("-T, --allow-path-traversal", "allow file titles that leave the output directory")
      .option("--include-subject", "also pull the files of the subject (recursively)")
      .option(
        "--config <file[:mediaType]>",
        "also write the manifest's config as this file in the output directory (with :mediaType, only a config of that type)",
      )
      .option("--concurrency <n>", "blobs downloaded at once", "3")
      .option(
        "--max-unpack-ratio <n>",
        "refuse directory layers that inflate beyond N times their compressed size (above 64 MiB; 0: no limit)",
        "200",
      ),
    platformFlags("pull only this platform: os/arch[/variant][:os.version], e.g. linux/arm64/v8:el8"),
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
A layout reference without tag or digest resolves to the layout's only manifest (or, with
--platform, to its only match); when several could be meant, the error lists each with the
exact reference that selects it.

Examples:
  # The files of a tagged artifact into ./out
  skiff pull -o out localhost:5000/app:v1
  # The linux/arm64/v8 el8 manifest of a layout's only index (no tag needed)
  skiff pull --platform linux/arm64/v8:el8 oci-layout://./repo-layout -o out
  # From a layout tar, by tag
  skiff pull --oci-layout ./layout.tar:v1 -o out
  # A single-file artifact to stdout
  skiff pull -o - localhost:5000/config:v1 > config.yaml
  # The pulled files as JSON
  skiff pull --format json -o out localhost:5000/repo:1.2`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { pull, pullToStream } = await import("../../ops/pull.ts");
      const format = parseFormat(flags);
      const ref = referenceArgument(text, flags);
      const platform = platformFlag(flags);
      const concurrency = parseConcurrency(flags.concurrency, 3);
      const source = await openTarget(ref, openOptions(flags, console));

      if (flags.output === "-") {
        const result = await pullToStream(source, ref, {
          ...(platform ? { platform } : {}),
          includeSubject: Boolean(flags.includeSubject),
        });
        for await (const chunk of result.content) console.outBytes(chunk);
        return;
      }

      const result = await withProgress(console, { verb: "pull", format, flags }, (listener) =>
        pull(source, ref, {
          output: flags.output,
          ...(platform ? { platform } : {}),
          keepOldFiles: Boolean(flags.keepOldFiles),
          allowPathTraversal: Boolean(flags.allowPathTraversal),
          includeSubject: Boolean(flags.includeSubject),
          concurrency,
          maxUnpackRatio: ratioFlag(flags.maxUnpackRatio),
          ...(flags.config !== undefined ? { config: configFlag(flags.config) } : {}),
          listener,
        }),
      );
      if (result.skipped.length > 0 && format.kind === "text") {
        console.out(skippedLayersHint(displayReference(ref)));
      }
      const name = referenceName(ref);
      const json = {
        reference: `${name}@${result.resolved.desc.digest}`,
        // ORAS writes null, not [], when no file was pulled.
        files:
          result.files.length === 0
            ? null
            : result.files.map((file) => ({
                // ORAS ends a directory layer's path with a separator.
                path:
                  file.desc.annotations?.[Annotation.unpack] === "true" ? `${file.path}${sep}` : file.path,
                ...descriptorJson(`${name}@${file.desc.digest}`, file.desc),
              })),
      };
      if (writeResult(console, format, json)) return;
      console.out(
        pulledLines(
          { ref, text: pathFlagText(ref, ref.tag) ?? formatReference(ref) },
          result.resolved.desc.digest,
        ),
      );
    });
};
