import { SkiffError } from "../../../errors.ts";
import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { runFetch } from "../../fetch-command.ts";
import { collect, formatFlags, platformFlags, TARGET_FLAGS, verboseFlags } from "../../flags.ts";

export const registerManifestFetch: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("fetch")
      .aliases(["get", "show"])
      .summary("Fetch a manifest or index from a registry, OCI layout or layout tar")
      .description(
        "Print, or write to a file, the manifest or index a reference points to, as stored (so its digest is the one you asked for; --pretty indents it). --platform resolves an index to that platform's manifest, --descriptor prints the descriptor instead, --media-type accepts only the given types, and an oci-layout://PATH reference needs no tag when the layout holds one manifest.",
      )
      .argument("<reference>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
      .option("-o, --output <file>", "write the manifest to this file (- for stdout)")
      .option("--pretty", "indent the JSON")
      .option("--descriptor", "print the manifest's descriptor instead of its content")
      .option(
        "--media-type <types>",
        "accept only these manifest media types (comma-separated, repeatable; registries only)",
        collect,
      ),
    platformFlags("fetch this platform's manifest of an index: os/arch[/variant][:os.version]"),
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # The manifest of a tag, indented
  skiff manifest fetch --pretty localhost:5000/app:v1
  # The linux/arm64/v8 el8 manifest of an index, into a file
  skiff manifest fetch --platform linux/arm64/v8:el8 -o manifest.json localhost:5000/app:1.2
  # The descriptor (media type, digest, size) of the only manifest of a layout tar
  skiff manifest fetch --descriptor oci-layout://./app.tar
  # The annotations of a manifest in a layout directory
  skiff manifest fetch --format go-template='{{json .content.annotations}}' oci-layout://./out:v1`,
    )
    .action(async (text, flags) => {
      const mediaTypes = (flags.mediaType ?? []).flatMap((value) => value.split(",")).filter(Boolean);
      await runFetch(console, text, flags, {
        what: "manifest",
        check() {
          if (mediaTypes.length > 0 && flags.ociLayout) {
            throw new SkiffError(
              "USAGE",
              "`--media-type` cannot be used with `--oci-layout` at the same time",
              "a layout serves each manifest as what it is",
            );
          }
        },
        async find(target, ref, platform) {
          const { manifestToFetch } = await import("../../../ops/manifest-fetch.ts");
          return manifestToFetch(target, ref, { ...(platform ? { platform } : {}), mediaTypes, text });
        },
        failurePrefix: (raw) =>
          flags.descriptor && flags.output === undefined
            ? `failed to find "${raw}"`
            : `failed to fetch the content of "${raw}"`,
      });
    });
};
