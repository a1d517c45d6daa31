import type { Command } from "commander";
import { SkiffError } from "../../../errors.ts";
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
import { pushedLines } from "../../output/status.ts";
import { jsonText, plainDescriptor } from "../manifest/fetch.ts";

type Flags = Record<string, unknown>;

export function registerBlobPush(group: Command, console: Console): void {
  const command = group
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
    .option("--pretty", "indent the --descriptor JSON");
  addFormatOption(command, ["text", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
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
  );
  command.action(async (text: string, file: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { pushBlob } = await import("../../../ops/blob-push.ts");
    const format = parseFormat(flags as { format?: string; template?: string });
    if (file === "-" && (flags.passwordStdin || flags.identityTokenStdin)) {
      throw new SkiffError("USAGE", "the blob and the password cannot both come from stdin");
    }
    let size: number | undefined;
    if (flags.size !== undefined) {
      const sizeText = String(flags.size);
      if (!/^\d+$/.test(sizeText))
        throw new SkiffError("USAGE", `--size must be a whole number of bytes, got "${sizeText}"`);
      size = Number(sizeText);
    }
    if (file === "-" && size === undefined) {
      throw new SkiffError("USAGE", "--size must be given when the blob is read from stdin");
    }
    const ref = referenceArgument(text, flags);
    if (ref.tag)
      throw new SkiffError("USAGE", `a blob has no tag ("${text}")`, "use HOST/REPO or HOST/REPO@DIGEST");
    const target = await openTarget(ref, openOptions(flags, "", console, true));
    const quiet = Boolean(flags.descriptor) || format.kind !== "text";
    const chosen = chooseListener({
      console,
      verb: "push",
      format: quiet ? { kind: "json" } : format,
      noTty: flags.tty === false,
      debug: Boolean(flags.debug),
    });
    const options: Parameters<typeof pushBlob>[2] = { listener: chosen.listener };
    if (flags.mediaType !== undefined) options.mediaType = flags.mediaType as string;
    if (ref.digest) options.digest = ref.digest;
    if (size !== undefined) options.size = size;
    let result: Awaited<ReturnType<typeof pushBlob>>;
    try {
      if (file === "-") {
        const { Readable } = await import("node:stream");
        const process = (await import("node:process")).default;
        const stream = () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
        result = await pushBlob(target, { stream, name: "stdin" }, options);
      } else {
        result = await pushBlob(target, { path: file }, options);
      }
    } finally {
      chosen.finish();
    }
    if (flags.descriptor) {
      console.out(jsonText(plainDescriptor(result.desc), Boolean(flags.pretty)));
      return;
    }
    const name = referenceName(ref);
    if (writeResult(console, format, descriptorJson(`${name}@${result.desc.digest}`, result.desc))) return;
    console.out(pushedLines({ ref, text: name }, result.desc.digest, undefined, { colon: true }));
  });
}
