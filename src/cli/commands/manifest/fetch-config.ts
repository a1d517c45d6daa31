import type { Command } from "commander";
import { SkiffError } from "../../../errors.ts";
import { isIndex } from "../../../oci/manifest.ts";
import { referenceName } from "../../../oci/reference.ts";
import type { Console } from "../../io.ts";
import {
  addCommonOptions,
  addFormatOption,
  addLayoutOptions,
  addPlatformOption,
  addRemoteOptions,
  openOptions,
  platformFlag,
  referenceArgument,
} from "../../options.ts";
import { descriptorJson, parseFormat, writeResult } from "../../output/format.ts";
import { jsonText, plainDescriptor, prettyBytes, writeOutputFile } from "./fetch.ts";

type Flags = Record<string, unknown>;

export function registerManifestFetchConfig(group: Command, console: Console): void {
  const command = group
    .command("fetch-config")
    .alias("get-config")
    .summary("Fetch the config of a manifest from a registry, OCI layout or layout tar")
    .description(
      "Print, or write to a file, the config blob a manifest points to: an image's OS, architecture and history, or an artifact's config. An index has no config: --platform first picks one of its manifests. Layout references need no tag when the layout holds one manifest.",
    )
    .argument("<reference>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
    .option("-o, --output <file>", "write the config to this file (- for stdout)")
    .option("--pretty", "indent the JSON")
    .option("--descriptor", "print the config's descriptor instead of its content");
  addPlatformOption(command, "use this platform's manifest of an index: os/arch[/variant][:os.version]");
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  # The config of a tagged image, indented
  skiff manifest fetch-config --pretty localhost:5000/app:v1
  # The config of the linux/arm64/v8 el8 manifest of an index
  skiff manifest fetch-config --platform linux/arm64/v8:el8 localhost:5000/app:1.2
  # The config descriptor of the only manifest of a layout
  skiff manifest fetch-config --descriptor oci-layout://./out`,
  );
  command.action(async (text: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { fetchManifest } = await import("../../../content/manifests.ts");
    const { fetchBytes } = await import("../../../content/verify.ts");
    const { resolveReference } = await import("../../../ops/resolve.ts");
    const format = parseFormat(flags as { format?: string; template?: string });
    const ref = referenceArgument(text, flags);
    const where = `${ref.kind} ${referenceName(ref)}`;
    const target = await openTarget(ref, openOptions(flags, "", console));
    const platform = platformFlag(flags);
    const { desc } = await resolveReference(target, ref, platform ? { platform } : {});
    const { manifest } = await fetchManifest(target, desc, where);
    if (isIndex(manifest)) {
      throw new SkiffError(
        "USAGE",
        `${desc.digest} in ${where} is an index, which has no config`,
        "select one platform's manifest with --platform os/arch[/variant][:os.version]",
      );
    }
    const config = manifest.config;
    const pretty = Boolean(flags.pretty);
    const output = flags.output as string | undefined;
    if (flags.descriptor && output === undefined) {
      if (writeResult(console, format, descriptorJson(`${referenceName(ref)}@${config.digest}`, config)))
        return;
      console.out(jsonText(plainDescriptor(config), pretty));
      return;
    }
    const bytes = await fetchBytes(target, config, where);
    if (output !== undefined && output !== "-") {
      await writeOutputFile(output, bytes);
      if (flags.descriptor) console.out(jsonText(plainDescriptor(config), pretty));
      return;
    }
    if (format.kind === "json" || format.kind === "go-template") {
      let content: unknown;
      try {
        content = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw new SkiffError(
          "UNSUPPORTED",
          `the config ${config.digest} is not JSON; use -o FILE to save it`,
        );
      }
      writeResult(
        console,
        format,
        descriptorJson(`${referenceName(ref)}@${config.digest}`, config, { content }),
      );
      return;
    }
    let shown = bytes;
    try {
      shown = prettyBytes(bytes, pretty);
    } catch {
      // not JSON: printed as is
    }
    console.outBytes(shown);
  });
}
