import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { runFetch } from "../../fetch-command.ts";
import { formatFlags, platformFlags, TARGET_FLAGS, verboseFlags } from "../../flags.ts";

export const registerManifestFetchConfig: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("fetch-config")
      .alias("get-config")
      .summary("Fetch the config of a manifest from a registry, OCI layout or layout tar")
      .description(
        "Print, or write to a file, the config blob a manifest points to: an image's OS, architecture and history, or an artifact's config. An index has no config: --platform first picks one of its manifests. An oci-layout://PATH reference needs no tag when the layout holds one manifest.",
      )
      .argument("<reference>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
      .option("-o, --output <file>", "write the config to this file (- for stdout)")
      .option("--pretty", "indent the JSON")
      .option("--descriptor", "print the config's descriptor instead of its content"),
    platformFlags("use this platform's manifest of an index: os/arch[/variant][:os.version]"),
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # The config of a tagged image, indented
  skiff manifest fetch-config --pretty localhost:5000/app:v1
  # The config of the linux/arm64/v8 el8 manifest of an index
  skiff manifest fetch-config --platform linux/arm64/v8:el8 localhost:5000/app:1.2
  # The config descriptor of the only manifest of a layout
  skiff manifest fetch-config --descriptor oci-layout://./out`,
    )
    .action(async (text, flags) => {
      await runFetch(console, text, flags, {
        what: "config",
        async find(target, ref, platform) {
          const { configToFetch } = await import("../../../ops/manifest-fetch.ts");
          return configToFetch(target, ref, platform ? { platform } : {});
        },
      });
    });
};
