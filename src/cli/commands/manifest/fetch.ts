import { rename, rm, writeFile } from "node:fs/promises";
import process from "node:process";
import type { Command } from "commander";
import { SkiffError } from "../../../errors.ts";
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
import { descriptorText, plainDescriptor, shownDescriptor } from "../../output/descriptor.ts";
import { descriptorJson, parseFormat, writeResult } from "../../output/format.ts";
import { sortedDeep } from "../../output/go-json.ts";

type Flags = Record<string, unknown>;

// `--descriptor` output lives with the other output shapes; these names stay for the commands using them.
export { descriptorText as jsonText, plainDescriptor } from "../../output/descriptor.ts";

/** Writes bytes to a file via a temporary name, so a failure never leaves half a file. */
export async function writeOutputFile(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.skiff-${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new SkiffError("IO", `cannot write ${path}: ${(error as Error).message}`);
  }
}

/** The bytes of a JSON document, re-indented with `--pretty`. */
export function prettyBytes(bytes: Uint8Array, pretty: boolean): Uint8Array {
  if (!pretty) return bytes;
  return new TextEncoder().encode(
    `${JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2)}\n`,
  );
}

export function registerManifestFetch(group: Command, console: Console): void {
  const command = group
    .command("fetch")
    .alias("get")
    .summary("Fetch a manifest or index from a registry, OCI layout or layout tar")
    .description(
      "Print, or write to a file, the manifest or index a reference points to, as stored (so its digest is the one you asked for; --pretty indents it). --platform resolves an index to that platform's manifest, --descriptor prints the descriptor instead, and a layout reference needs no tag when the layout holds one manifest.",
    )
    .argument("<reference>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
    .option("-o, --output <file>", "write the manifest to this file (- for stdout)")
    .option("--pretty", "indent the JSON")
    .option("--descriptor", "print the manifest's descriptor instead of its content");
  addPlatformOption(command, "fetch this platform's manifest of an index: os/arch[/variant][:os.version]");
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  # The manifest of a tag, indented
  skiff manifest fetch --pretty localhost:5000/app:v1
  # The linux/arm64/v8 el8 manifest of an index, into a file
  skiff manifest fetch --platform linux/arm64/v8:el8 -o manifest.json localhost:5000/app:1.2
  # The descriptor (media type, digest, size) of the only manifest of a layout tar
  skiff manifest fetch --descriptor --oci-layout ./app.tar
  # The annotations of a manifest in a layout directory
  skiff manifest fetch --format go-template='{{json .content.annotations}}' oci-layout://./out:v1`,
  );
  command.action(async (text: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { fetchManifest } = await import("../../../content/manifests.ts");
    const { resolveReference } = await import("../../../ops/resolve.ts");
    const format = parseFormat(flags as { format?: string; template?: string });
    const ref = referenceArgument(text, flags);
    const target = await openTarget(ref, openOptions(flags, "", console));
    const platform = platformFlag(flags);
    const resolved = await resolveReference(target, ref, platform ? { platform } : {});
    const { desc } = resolved;
    const shown = shownDescriptor(ref, desc, resolved.root);
    const pretty = Boolean(flags.pretty);
    const output = flags.output as string | undefined;
    if (flags.descriptor && output === undefined) {
      if (writeResult(console, format, descriptorJson(`${referenceName(ref)}@${desc.digest}`, shown))) return;
      console.out(descriptorText(plainDescriptor(shown), pretty));
      return;
    }
    const { bytes } = await fetchManifest(target, desc, `${ref.kind} ${referenceName(ref)}`);
    if (output !== undefined && output !== "-") {
      await writeOutputFile(output, bytes);
      if (flags.descriptor) console.out(descriptorText(plainDescriptor(shown), pretty));
      return;
    }
    // ORAS reads the manifest into a map: its keys come out sorted.
    const content = sortedDeep(JSON.parse(new TextDecoder().decode(bytes)));
    if (
      writeResult(console, format, descriptorJson(`${referenceName(ref)}@${desc.digest}`, shown, { content }))
    ) {
      return;
    }
    console.outBytes(prettyBytes(bytes, pretty));
  });
}
