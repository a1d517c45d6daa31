import type { Command } from "commander";
import { SkiffError } from "../../../errors.ts";
import type { Console } from "../../io.ts";
import { addCommonOptions, addRemoteOptions, openOptions, referenceArgument } from "../../options.ts";
import { printDeletion } from "../../output/deletion.ts";
import { confirm } from "../prompt.ts";

type Flags = Record<string, unknown>;

export function registerManifestDelete(group: Command, console: Console): void {
  const command = group
    .command("delete")
    .aliases(["remove", "rm"])
    .summary("Delete a manifest (and every tag pointing at it) from a registry")
    .description(
      "Delete a manifest or index, named by tag or digest, from a registry repository. The registry removes the manifest itself, so every tag pointing at it goes too. Without --force skiff asks first, which needs a terminal.",
    )
    .argument("<reference>", "host/repo:tag or host/repo@digest")
    .option("-f, --force", "delete without asking; a missing manifest is not an error")
    .option("--descriptor", "print the deleted manifest's descriptor (needs --force)")
    .option("--pretty", "indent the --descriptor JSON");
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  # Delete by tag, asking first
  skiff manifest delete localhost:5000/app:v1
  # In scripts: no question, and a missing manifest is fine
  skiff manifest delete --force localhost:5000/app@sha256:...
  # Print the descriptor of what was deleted
  skiff manifest delete --force --descriptor localhost:5000/app:v1`,
  );
  command.action(async (text: string, flags: Flags) => {
    const { openTarget } = await import("../../../content/open.ts");
    const { deleteManifest } = await import("../../../ops/delete.ts");
    if (flags.descriptor && !flags.force) {
      throw new SkiffError("USAGE", "--descriptor needs --force to confirm the deletion");
    }
    const ref = referenceArgument(text, flags);
    if (ref.kind !== "registry") throw new SkiffError("USAGE", "manifest delete works on registries only");
    if (!ref.tag && !ref.digest) {
      throw new SkiffError(
        "USAGE",
        `"${text}" has no tag or digest`,
        "use HOST/REPO:TAG or HOST/REPO@DIGEST",
      );
    }
    const target = await openTarget(ref, openOptions(flags, "", console, true));
    const result = await deleteManifest(target, ref, {
      ...(flags.force
        ? {}
        : {
            confirm: (desc) =>
              confirm(
                console,
                `Are you sure you want to delete the manifest "${desc.digest}" and all tags associated with it?`,
              ),
          }),
    });
    printDeletion(console, text, "manifest", result, flags);
  });
}
