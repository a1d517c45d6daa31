/**
 * What `blob delete` and `manifest delete` print, ORAS's way, for each outcome of a delete:
 * `Deleted [registry|oci-layout] REF`, `Missing REF`, or the descriptor.
 */
import { SkiffError } from "../../errors.ts";
import type { Reference } from "../../oci/reference.ts";
import type { DeleteResult } from "../../ops/delete.ts";
import type { Console } from "../io.ts";
import { descriptorText, plainDescriptor } from "./descriptors.ts";
import { describeTarget } from "./status.ts";

export function printDeletion(
  console: Console,
  target: { ref: Reference; text: string },
  what: "blob" | "manifest",
  result: DeleteResult,
  flags: { force?: unknown; descriptor?: unknown; pretty?: unknown },
): void {
  const { text } = target;
  if (result.outcome === "missing") {
    // With --force a missing target is what the script wanted anyway.
    if (flags.force && !flags.descriptor) {
      console.out(`Missing ${text}\n`);
      return;
    }
    throw new SkiffError("NOT_FOUND", `${text}: the specified ${what} does not exist`);
  }
  if (result.outcome === "cancelled") {
    // On stdout, after the question (as ORAS).
    console.out("Operation cancelled.\n");
    return;
  }
  if (flags.descriptor) {
    console.out(descriptorText(plainDescriptor(result.desc), Boolean(flags.pretty)));
    return;
  }
  console.out(`Deleted ${describeTarget(target.ref, text)}\n`);
}
