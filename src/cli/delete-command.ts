/**
 * `blob delete` and `manifest delete`: one command, two kinds of content. Each says what it
 * deletes, which references it takes and which op deletes; the flags, the question before
 * deleting and the output are the same.
 */
import type { Store } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { type ParsedReference, parseReference } from "../oci/reference.ts";
import type { DeleteOptions, DeleteResult } from "../ops/delete.ts";
import { type RegisterSubcommand, withFlags } from "./command.ts";
import { commonFlags, distributionSpecFlags, openOptions, remoteFlags } from "./flags.ts";
import { printDeletion } from "./output/deletion.ts";
import { confirm } from "./prompt.ts";

interface DeleteCommand {
  what: "blob" | "manifest";
  summary: string;
  description: string;
  /** The description of the `<reference>` argument. */
  reference: string;
  examples: string;
  /** Refuses a reference without what the op needs (a digest, a tag). */
  check(ref: ParsedReference, text: string): void;
  /** The question before deleting. */
  question(desc: Descriptor): string;
  /** The op, loaded when the command runs. */
  load(): Promise<(target: Store, ref: ParsedReference, options: DeleteOptions) => Promise<DeleteResult>>;
}

export function deleteCommand(spec: DeleteCommand): RegisterSubcommand {
  const { what } = spec;
  return (group, console) => {
    const command = withFlags(
      group
        .command("delete")
        .aliases(["remove", "rm"])
        .summary(spec.summary)
        .description(spec.description)
        .argument("<reference>", spec.reference)
        .option("-f, --force", `delete without asking; a missing ${what} is not an error`)
        .option("--descriptor", `print the deleted ${what}'s descriptor (needs --force)`)
        .option("--pretty", "indent the --descriptor JSON"),
      remoteFlags,
      commonFlags,
    );
    // Deleting a referrer updates its subject's fallback index: the choice of ORAS's flag, which
    // reaches openOptions with the other flags.
    if (what === "manifest") distributionSpecFlags.addTo(command);
    command.addHelpText("after", `\nExamples:\n${spec.examples}`).action(async (text, flags) => {
      const { openTarget } = await import("../content/open.ts");
      const deleteOp = await spec.load();
      if (flags.descriptor && !flags.force) {
        throw new SkiffError("USAGE", "--descriptor needs --force to confirm the deletion");
      }
      const ref = parseReference(text);
      if (ref.kind !== "registry") throw new SkiffError("USAGE", `${what} delete works on registries only`);
      spec.check(ref, text);
      const target = await openTarget(ref, openOptions(flags, console, true));
      const result = await deleteOp(
        target,
        ref,
        flags.force ? {} : { confirm: (desc) => confirm(console, spec.question(desc)) },
      );
      printDeletion(console, text, what, result, flags);
    });
  };
}
