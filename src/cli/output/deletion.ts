/**
 * What `blob delete` and `manifest delete` print, ORAS's way, for each outcome of a delete:
 * `Deleted [registry] REF`, `Missing REF`, or the descriptor. `kind` says where REF is.
 */
import { SkiffError } from "../../errors.ts";
import type { Reference } from "../../oci/reference.ts";
import type { DeleteResult } from "../../ops/delete.ts";
import type { Console } from "../io.ts";
import { descriptorText, plainDescriptor } from "./descriptor.ts";

export function printDeletion(
  console: Console,
  text: string,
  what: "blob" | "manifest",
  result: DeleteResult,
  flags: { force?: unknown; descriptor?: unknown; pretty?: unknown },
  kind: Reference["kind"] = "registry",
): void {
  if (result.outcome === "missing") {
    // With --force a missing target is what the script wanted anyway.
    if (flags.force && !flags.descriptor) {
      console.out(`Missing ${text}\n`);
      return;
    }
    throw new SkiffError("NOT_FOUND", `${text}: the specified ${what} does not exist`);
  }
  if (result.outcome === "cancelled") {
    console.err("Operation cancelled.\n");
    return;
  }
  if (flags.descriptor) {
    console.out(descriptorText(plainDescriptor(result.desc), Boolean(flags.pretty)));
    return;
  }
  console.out(`Deleted [${kind === "registry" ? "registry" : "oci-layout"}] ${text}\n`);
}
