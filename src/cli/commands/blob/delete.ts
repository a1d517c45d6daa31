import type { Command } from "commander";
import { SkiffError } from "../../../errors.ts";
import type { Console } from "../../io.ts";
import { addCommonOptions, addRemoteOptions, openOptions, referenceArgument } from "../../options.ts";
import { printDeletion } from "../../output/deletion.ts";
import { confirm } from "../prompt.ts";

type Flags = Record<string, unknown>;

export function registerBlobDelete(group: Command, console: Console): void {
  const command = group
    .command("delete")
    .aliases(["remove", "rm"])
    .summary("Delete a blob from a registry")
    .description(
      "Delete one blob, by digest, from a registry repository. Without --force skiff asks first, which needs a terminal; manifests that still use the blob can no longer be pulled.",
    )
    .argument("<reference>", "host/repo@digest")
    .option("-f, --force", "delete without asking; a missing blob is not an error")
    .option("--descriptor", "print the deleted blob's descriptor (needs --force)")
    .option("--pretty", "indent the --descriptor JSON");
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  # Delete a blob, asking first
  skiff blob delete localhost:5000/app@sha256:...
  # In scripts: no question, and a missing blob is fine
  skiff blob delete --force localhost:5000/app@sha256:...
  # Print the descriptor of what was deleted
  skiff blob delete --force --descriptor localhost:5000/app@sha256:...`,
  );
  command.action(async (text: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { deleteBlob } = await import("../../../ops/delete.ts");
    if (flags.descriptor && !flags.force) {
      throw new SkiffError("USAGE", "--descriptor needs --force to confirm the deletion");
    }
    const ref = referenceArgument(text, flags);
    if (ref.kind !== "registry") throw new SkiffError("USAGE", "blob delete works on registries only");
    if (!ref.digest) {
      throw new SkiffError("USAGE", `${text}: blob reference must be of the form <name@digest>`);
    }
    const target = await openTarget(ref, openOptions(flags, "", console, true));
    const result = await deleteBlob(target, ref, {
      ...(flags.force
        ? {}
        : {
            confirm: (desc) => confirm(console, `Are you sure you want to delete the blob "${desc.digest}"?`),
          }),
    });
    printDeletion(console, text, "blob", result, flags);
  });
}
