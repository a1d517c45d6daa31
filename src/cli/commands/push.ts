import { InvalidArgumentError } from "commander";
import { SkiffError } from "../../errors.ts";
import { parsePlatform } from "../../oci/platform.ts";
import { hostPlatform } from "../../runtime/index.ts";
import { type Register, withFlags, withProgress } from "../command.ts";
import { exportManifest } from "../files.ts";
import {
  formatFlags,
  openOptions,
  packingFlags,
  parseConcurrency,
  referenceArgument,
  reproducibility,
  stdinOptions,
  TARGET_FLAGS,
  verboseFlags,
} from "../flags.ts";
import { pushResultJson } from "../output/descriptors.ts";
import { parseFormat, writeResult } from "../output/format.ts";
import { emptyArtifactListener, pushedLines, pushedTarget } from "../output/status.ts";

const IMAGE_SPECS = ["v1.1", "v1.0"] as const;

/** `--image-spec`: a bad value is commander's invalid-argument error, with ORAS's phrase. */
function imageSpecFlag(value: string): (typeof IMAGE_SPECS)[number] {
  const spec = IMAGE_SPECS.find((known) => known === value);
  if (spec === undefined) {
    throw new InvalidArgumentError(
      `unknown image specification flag: ${value}\nAvailable options: ${IMAGE_SPECS.join(", ")}`,
    );
  }
  return spec;
}

export const registerPush: Register = (command, console) => {
  withFlags(
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
      .option("--image-spec <version>", "manifest flavour: v1.1 (default) or v1.0", imageSpecFlag),
    packingFlags,
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
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
    )
    .action(async (targetText, fileArgs, flags) => {
      const { loadAnnotations } = await import("../../ops/annotations.ts");
      const { parseFileArgument, pushArtifact } = await import("../../ops/push.ts");
      const { openTarget } = await import("../../content/open.ts");

      const format = parseFormat(flags);
      const ref = referenceArgument(targetText, flags, true);
      if (ref.digest) {
        throw new SkiffError(
          "USAGE",
          `cannot push to a digest ("${targetText}"): the digest is what the push computes`,
          "give a tag, or no tag on a layout",
        );
      }
      const { imageSpec } = flags;
      const { created, mtime } = await reproducibility(flags);
      const options: Parameters<typeof pushArtifact>[1] = {
        files: fileArgs.map(parseFileArgument),
        annotations: await loadAnnotations(flags.annotation ?? [], flags.annotationFile),
        tags: ref.tags,
        concurrency: parseConcurrency(flags.concurrency, 5),
        created,
        disablePathValidation: Boolean(flags.disablePathValidation),
        warn: (text) => console.err(`warning: ${text}\n`),
        ...(await stdinOptions(fileArgs, flags)),
      };
      if (mtime !== undefined) options.mtime = mtime;
      // An empty --artifact-type is no artifact type, as in ORAS.
      if (flags.artifactType) options.artifactType = flags.artifactType;
      if (flags.config !== undefined) options.config = parseFileArgument(flags.config);
      if (flags.artifactPlatform !== undefined) {
        options.artifactPlatform = parsePlatform(flags.artifactPlatform, hostPlatform().architecture);
      }
      if (imageSpec !== undefined) options.imageSpec = imageSpec;
      const result = await withProgress(console, { verb: "push", format, flags }, (shown, chosen) => {
        const listener =
          fileArgs.length === 0 && chosen.mode === "status" ? emptyArtifactListener(console, shown) : shown;
        return pushArtifact(() => openTarget(ref, openOptions(flags, console, true)), {
          ...options,
          listener,
        });
      });
      await exportManifest(flags.exportManifest, result.bytes);
      // ORAS lists referenceAsTags sorted, whatever order the tags were given in.
      if (writeResult(console, format, pushResultJson(ref, result.desc, [...result.tags].sort()))) return;
      console.out(
        pushedLines(pushedTarget(ref, ref.tags), result.desc.digest, result.desc.artifactType, {
          tags: ref.tags.slice(1),
        }),
      );
    });
};
