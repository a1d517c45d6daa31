import { type RegisterSubcommand, withFlags, withProgress } from "../../command.ts";
import { readManifestInput } from "../../files.ts";
import {
  distributionSpecFlags,
  formatFlags,
  openOptions,
  referenceArgument,
  refuseSecondStdin,
  TARGET_FLAGS,
  verboseFlags,
} from "../../flags.ts";
import { printPushed } from "../../output/descriptors.ts";
import { parseFormat } from "../../output/format.ts";
import { pushedTarget, transfersOnly } from "../../output/status.ts";

export const registerManifestPush: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("push")
      .summary("Push a manifest from a file or stdin to a registry or an OCI image layout")
      .description(
        "Push a manifest or index exactly as given, from a JSON file or stdin (its digest is the digest of those bytes), to a registry or an OCI layout directory, with zero or more tags. What it references must be there first: push the blobs (skiff blob push) and child manifests before it.",
      )
      .argument("<target>", "host/repo[:tag1,tag2|@digest], or a layout PATH[:tags] with --oci-layout")
      .argument("<file>", "the manifest JSON, or - for stdin")
      .option("--media-type <type>", "media type of the manifest (default: its mediaType field)")
      .option("--descriptor", "print the pushed manifest's descriptor instead of status lines")
      .option("--pretty", "indent the --descriptor JSON")
      .option("--concurrency <n>", "tags written at once", "5"),
    distributionSpecFlags,
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # Push a manifest from a file, tagged
  skiff manifest push localhost:5000/hello:v1 manifest.json
  # From stdin, with two tags
  skiff manifest push localhost:5000/hello:v1,latest - < manifest.json
  # An index, by digest only
  skiff manifest push --media-type application/vnd.oci.image.index.v1+json \\
    localhost:5000/hello index.json
  # Into a layout, tagged
  skiff manifest push --oci-layout ./out:v1 manifest.json`,
    )
    .action(async (text, file, flags) => {
      const { openTarget } = await import("../../../content/open.ts");
      const { pushManifestBytes } = await import("../../../ops/manifest-push.ts");
      const format = parseFormat(flags);
      if (file === "-") refuseSecondStdin(flags, "the manifest");
      const ref = referenceArgument(text, flags, true);
      const bytes = await readManifestInput(file);
      const target = await openTarget(ref, openOptions(flags, console, true));
      const options: Parameters<typeof pushManifestBytes>[3] = { tags: ref.tags };
      if (flags.mediaType !== undefined) options.mediaType = flags.mediaType;
      if (ref.digest) options.expectedDigest = ref.digest;
      // ORAS's lines: Uploading/Uploaded (or Exists) here, the tags after `Pushed:`.
      const settings = { verb: "push", format, flags, outputToStdout: Boolean(flags.descriptor) } as const;
      const { desc } = await withProgress(console, settings, (listener) =>
        pushManifestBytes(target, bytes, file === "-" ? "the manifest on stdin" : file, {
          ...options,
          listener: transfersOnly(listener),
        }),
      );
      printPushed(console, format, flags, {
        shown: pushedTarget(ref, ref.tags),
        desc,
        moreTags: ref.tags.slice(1),
      });
    });
};
