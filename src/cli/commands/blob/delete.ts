import { SkiffError } from "../../../errors.ts";
import { deleteCommand } from "../../delete-command.ts";

export const registerBlobDelete = deleteCommand({
  what: "blob",
  summary: "Delete a blob from a registry or an OCI layout",
  description:
    "Delete one blob, by digest, from a registry repository or an OCI layout directory. Without --force skiff asks first and reads the answer from stdin (no answer cancels); manifests that still use the blob can no longer be pulled.",
  reference: "host/repo@digest, or a layout PATH@digest with --oci-layout",
  examples: `  # Delete a blob, asking first
  skiff blob delete localhost:5000/app@sha256:...
  # In scripts: no question, and a missing blob is fine
  skiff blob delete --force localhost:5000/app@sha256:...
  # Print the descriptor of what was deleted
  skiff blob delete --force --descriptor localhost:5000/app@sha256:...
  # From a layout directory
  skiff blob delete --force --oci-layout ./out@sha256:...`,
  check(ref, text) {
    if (!ref.digest) {
      throw new SkiffError(
        "USAGE",
        `"${text}": no digest specified`,
        "a blob is named by digest: NAME@sha256:...",
      );
    }
  },
  question: (desc) => `Are you sure you want to delete the blob "${desc.digest}"?`,
  load: async () => (await import("../../../ops/delete.ts")).deleteBlob,
});
