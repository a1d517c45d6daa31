import { SkiffError } from "../../../errors.ts";
import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { openOptions, referenceArgument, TARGET_FLAGS, verboseFlags } from "../../flags.ts";
import { descriptorText, plainDescriptor } from "../../output/descriptors.ts";

export const registerBlobFetch: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("fetch")
      .alias("get")
      .summary("Fetch a blob by digest from a registry, OCI layout or layout tar")
      .description(
        "Download one blob (a layer, a config, any content) by digest from a registry, an OCI layout directory or a layout tar, checked against its digest, into a file or to stdout; --descriptor prints its descriptor (media type, digest, size) instead or as well.",
      )
      .argument("<reference>", "host/repo@digest, or a layout PATH@digest")
      .option("-o, --output <file>", "write the blob to this file (- for stdout)")
      .option("--descriptor", "print the blob's descriptor")
      .option("--pretty", "indent the descriptor JSON"),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # Save a blob from a registry into a file
  skiff blob fetch -o layer.tar.gz localhost:5000/app@sha256:...
  # Write a blob of a layout to stdout
  skiff blob fetch -o - oci-layout://./out@sha256:... | tar -tzf -
  # Only the descriptor, from a layout tar
  skiff blob fetch --descriptor --oci-layout ./app.tar@sha256:...`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../../content/open.ts");
      const { fetchBlob } = await import("../../../ops/blob-fetch.ts");
      const ref = referenceArgument(text, flags);
      if (!ref.digest) {
        throw new SkiffError("USAGE", `"${text}": no digest specified`, "blob fetch needs NAME@sha256:...");
      }
      const { output } = flags;
      if (output === undefined && !flags.descriptor) {
        throw new SkiffError(
          "USAGE",
          "either `--output` or `--descriptor` must be provided",
          "give -o FILE (or -o - for stdout), or --descriptor",
        );
      }
      if (output === "-" && flags.descriptor) {
        throw new SkiffError(
          "USAGE",
          "`--output -` cannot be used with `--descriptor` at the same time",
          "stdout carries one of them: write the blob to a file with -o FILE",
        );
      }
      const target = await openTarget(ref, openOptions(flags, console));
      const to =
        output === "-"
          ? { write: (chunk: Uint8Array) => console.outBytes(chunk) }
          : output !== undefined
            ? { file: output }
            : undefined;
      const desc = await fetchBlob(target, ref.digest, to);
      if (flags.descriptor && output !== "-")
        console.out(descriptorText(plainDescriptor(desc), Boolean(flags.pretty)));
    });
};
