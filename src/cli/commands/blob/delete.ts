import { SkiffError } from "../../../errors.ts";
import { deleteCommand } from "../../delete-command.ts";

export const registerBlobDelete = deleteCommand({
  what: "blob",
  summary: "Delete a blob from a registry",
  description:
    "Delete one blob, by digest, from a registry repository. Without --force skiff asks first, which needs a terminal; manifests that still use the blob can no longer be pulled.",
  reference: "host/repo@digest",
  examples: `  # Delete a blob, asking first
  skiff blob delete localhost:5000/app@sha256:...
  # In scripts: no question, and a missing blob is fine
  skiff blob delete --force localhost:5000/app@sha256:...
  # Print the descriptor of what was deleted
  skiff blob delete --force --descriptor localhost:5000/app@sha256:...`,
  check(ref, text) {
    if (!ref.digest) {
      throw new SkiffError("USAGE", `${text}: blob reference must be of the form <name@digest>`);
    }
  },
  question: (desc) => `Are you sure you want to delete the blob "${desc.digest}"?`,
  load: async () => (await import("../../../ops/delete.ts")).deleteBlob,
});
