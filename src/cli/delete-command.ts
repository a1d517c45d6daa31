/**
 * `blob delete` and `manifest delete`: one command, two kinds of content, in a registry or a
 * layout directory. Each says what it deletes, which references it takes and which op deletes;
 * the flags, the question before deleting and the output are the same.
 */
import type { Store } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import type { ParsedReference } from "../oci/reference.ts";
import type { DeleteOptions, DeleteResult } from "../ops/delete.ts";
import { type RegisterSubcommand, withFlags } from "./command.ts";
import {
  distributionSpecFlags,
  openOptions,
  referenceArgument,
  TARGET_FLAGS,
  verboseFlags,
} from "./flags.ts";
import type { Console } from "./io.ts";
import { printDeletion } from "./output/deletion.ts";
import { confirm } from "./prompt.ts";

interface DeleteCommand {
  what: "blob" | "manifest";
  summary: string;
  description: string;
  /** The description of the `<reference>` argument. */
  reference: string;
  examples: string;
  /** Refuses a reference without what the op needs (a digest, a tag), before anything is opened. */
  check(ref: ParsedReference, text: string): void;
  /** The question before deleting. */
  question(desc: Descriptor): string;
  /** The op, loaded when the command runs. */
  load(): Promise<(target: Store, ref: ParsedReference, options: DeleteOptions) => Promise<DeleteResult>>;
}

/**
 * Opens the registry repository (with push rights) or the layout; a layout that does not exist
 * holds nothing, which with --force is no error (undefined). A missing layout is never created.
 */
async function openPlace(
  ref: ParsedReference,
  flags: Parameters<typeof openOptions>[0],
  force: boolean,
  console: Console,
): Promise<Store | undefined> {
  const { openTarget } = await import("../content/open.ts");
  try {
    return await openTarget(ref, openOptions(flags, console, ref.kind === "registry"));
  } catch (error) {
    if (force && ref.kind === "layout" && error instanceof SkiffError && error.code === "NOT_FOUND") {
      return undefined;
    }
    throw error;
  }
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
      ...TARGET_FLAGS,
      verboseFlags,
    );
    // Deleting a referrer updates its subject's fallback index: the choice of ORAS's flag, which
    // reaches openOptions with the other flags.
    if (what === "manifest") distributionSpecFlags.addTo(command);
    command.addHelpText("after", `\nExamples:\n${spec.examples}`).action(async (text, flags) => {
      const deleteOp = await spec.load();
      if (flags.descriptor && !flags.force) {
        throw new SkiffError(
          "USAGE",
          "must apply --force to confirm the deletion if the descriptor is outputted",
          "add --force (the descriptor is all that is printed, so there is no question)",
        );
      }
      const ref = referenceArgument(text, flags);
      spec.check(ref, text);
      const target = await openPlace(ref, flags, Boolean(flags.force), console);
      const result =
        target === undefined
          ? ({ outcome: "missing" } as const)
          : await deleteOp(
              target,
              ref,
              flags.force ? {} : { confirm: (desc) => confirm(console, spec.question(desc)) },
            );
      printDeletion(console, { ref, text }, what, result, flags);
    });
  };
}
