import { SkiffError } from "../../../errors.ts";
import { formatReference } from "../../../oci/reference.ts";
import { type RegisterSubcommand, withFlags, withProgress } from "../../command.ts";
import { stdinOpener } from "../../files.ts";
import {
  formatFlags,
  openOptions,
  referenceArgument,
  refuseSecondStdin,
  TARGET_FLAGS,
  verboseFlags,
} from "../../flags.ts";
import { printPushed } from "../../output/descriptors.ts";
import { type OutputFormat, parseFormat } from "../../output/format.ts";
import { pathFlagText } from "../../output/status.ts";

export const registerBlobPush: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("push")
      .summary("Push a blob from a file or stdin to a registry or an OCI image layout")
      .description(
        "Upload one file, or stdin, as a blob to a registry repository or an OCI layout directory and report its digest. From stdin the digest (in the target, NAME@sha256:...) and --size must be given up front, as the upload is checked against them.",
      )
      .argument("<target>", "host/repo[@digest], or a layout PATH with --oci-layout")
      .argument("<file>", "the file, or - for stdin (needs @digest and --size)")
      .option("--size <bytes>", "the blob's size (required with stdin)")
      .option(
        "--media-type <type>",
        "media type shown in the descriptor (default application/vnd.oci.image.layer.v1.tar)",
      )
      .option("--descriptor", "print the blob's descriptor instead of status lines")
      .option("--pretty", "indent the --descriptor JSON"),
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # Push a file to a registry repository
  skiff blob push localhost:5000/hello hi.txt
  # Push stdin, with its digest and size
  skiff blob push --size 12 localhost:5000/hello@sha256:9a201d22... - < hi.txt
  # Push into a layout and print the descriptor
  skiff blob push --oci-layout --descriptor \\
    --media-type application/vnd.oci.image.config.v1+json ./out config.json`,
    )
    .action(async (text, file, flags) => {
      const { openTarget } = await import("../../../content/open.ts");
      const { pushBlob } = await import("../../../ops/blob-push.ts");
      const format = parseFormat(flags);
      if (file === "-") refuseSecondStdin(flags, "the blob");
      if (flags.size !== undefined && !/^\d+$/.test(flags.size)) {
        throw new SkiffError("USAGE", `--size must be a whole number of bytes, got "${flags.size}"`);
      }
      if (file === "-" && flags.size === undefined) {
        throw new SkiffError(
          "USAGE",
          "`--size` must be provided if the blob is read from stdin",
          "the upload is checked against it: --size BYTES, and the digest as NAME@sha256:...",
        );
      }
      const ref = referenceArgument(text, flags);
      if (ref.tag)
        throw new SkiffError("USAGE", `a blob has no tag ("${text}")`, "use HOST/REPO or HOST/REPO@DIGEST");
      if (file === "-" && !ref.digest) {
        throw new SkiffError(
          "USAGE",
          "content digest must be provided if it is read from stdin",
          "the upload is checked against it: name the blob as NAME@sha256:...",
        );
      }
      const target = await openTarget(ref, openOptions(flags, console, true));
      const options: Parameters<typeof pushBlob>[2] = {};
      if (flags.mediaType !== undefined) options.mediaType = flags.mediaType;
      if (ref.digest) options.digest = ref.digest;
      if (flags.size !== undefined) options.size = Number(flags.size);
      const source = file === "-" ? { stream: await stdinOpener(), name: "stdin" } : { path: file };
      // With --descriptor, the descriptor is all that is printed: no status lines.
      const quiet = Boolean(flags.descriptor) || format.kind !== "text";
      const shown: OutputFormat = quiet ? { kind: "json" } : format;
      const { desc } = await withProgress(console, { verb: "push", format: shown, flags }, (listener) =>
        pushBlob(target, source, { ...options, listener }),
      );
      const pushedText = pathFlagText(ref, undefined) ?? formatReference(ref);
      printPushed(console, format, flags, { shown: { ref, text: pushedText }, desc });
    });
};
