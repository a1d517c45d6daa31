import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { readAll } from "../../../content/verify.ts";
import { SkiffError } from "../../../errors.ts";
import { MAX_MANIFEST_BYTES } from "../../../oci/manifest.ts";
import { referenceName } from "../../../oci/reference.ts";
import type { Console } from "../../io.ts";
import {
  addCommonOptions,
  addFormatOption,
  addLayoutOptions,
  addRemoteOptions,
  openOptions,
  referenceArgument,
} from "../../options.ts";
import { descriptorJson, parseFormat, writeResult } from "../../output/format.ts";
import { chooseListener } from "../../output/progress.ts";
import { pushedLines, pushedTarget, transfersOnly } from "../../output/status.ts";
import { jsonText, plainDescriptor } from "./fetch.ts";

type Flags = Record<string, unknown>;

/** Reads a manifest file, or stdin for `-`, capped at the manifest limit. */
export async function readManifestInput(path: string): Promise<Uint8Array> {
  if (path === "-") {
    const { Readable } = await import("node:stream");
    const process = (await import("node:process")).default;
    const stream = Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
    return readAll(stream, MAX_MANIFEST_BYTES, "the manifest on stdin");
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new SkiffError("IO", `cannot read ${path}: ${(error as Error).message}`);
  }
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `${path} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  return bytes;
}

export function registerManifestPush(group: Command, console: Console): void {
  const command = group
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
    .option("--concurrency <n>", "tags written at once", "5");
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
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
  );
  command.action(async (text: string, file: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { pushManifestBytes } = await import("../../../ops/manifest-push.ts");
    const format = parseFormat(flags as { format?: string; template?: string });
    if (file === "-" && (flags.passwordStdin || flags.identityTokenStdin)) {
      throw new SkiffError("USAGE", "the manifest and the password cannot both come from stdin");
    }
    const ref = referenceArgument(text, flags, "", true);
    const bytes = await readManifestInput(file);
    const target = await openTarget(ref, openOptions(flags, "", console, true));
    // ORAS's lines: Uploading/Uploaded (or Exists) here, the tags after `Pushed:`.
    const chosen = chooseListener({
      console,
      verb: "push",
      format,
      noTty: flags.tty === false,
      debug: Boolean(flags.debug),
      outputToStdout: Boolean(flags.descriptor),
    });
    const options: Parameters<typeof pushManifestBytes>[3] = {
      tags: ref.tags,
      listener: transfersOnly(chosen.listener),
    };
    if (flags.mediaType !== undefined) options.mediaType = flags.mediaType as string;
    if (ref.digest) options.expectedDigest = ref.digest;
    let result: Awaited<ReturnType<typeof pushManifestBytes>>;
    try {
      result = await pushManifestBytes(target, bytes, file === "-" ? "the manifest on stdin" : file, options);
    } finally {
      chosen.finish();
    }
    if (flags.descriptor) {
      console.out(jsonText(plainDescriptor(result.desc), Boolean(flags.pretty)));
      return;
    }
    const name = referenceName(ref);
    if (writeResult(console, format, descriptorJson(`${name}@${result.desc.digest}`, result.desc))) return;
    console.out(
      pushedLines(pushedTarget(ref, ref.tags), result.desc.digest, undefined, {
        colon: true,
        tags: ref.tags.slice(1),
      }),
    );
  });
}
