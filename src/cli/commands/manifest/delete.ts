import { SkiffError } from "../../../errors.ts";
import { deleteCommand } from "../../delete-command.ts";

export const registerManifestDelete = deleteCommand({
  what: "manifest",
  summary: "Delete a manifest (and every tag pointing at it) from a registry or an OCI layout",
  description:
    "Delete a manifest or index, named by tag or digest, from a registry repository or an OCI layout directory. The manifest itself is removed, so every tag pointing at it goes too. Without --force skiff asks first and reads the answer from stdin (no answer cancels).",
  reference: "host/repo:tag|@digest, or a layout PATH:tag|@digest with --oci-layout",
  examples: `  # Delete by tag, asking first
  skiff manifest delete localhost:5000/app:v1
  # In scripts: no question, and a missing manifest is fine
  skiff manifest delete --force localhost:5000/app@sha256:...
  # Print the descriptor of what was deleted
  skiff manifest delete --force --descriptor localhost:5000/app:v1
  # From a layout directory
  skiff manifest delete --force --oci-layout ./out:v1`,
  check(ref, text) {
    if (!ref.tag && !ref.digest) {
      throw new SkiffError("USAGE", `"${text}": no tag or digest specified`, "use NAME:TAG or NAME@DIGEST");
    }
  },
  question: (desc) =>
    `Are you sure you want to delete the manifest "${desc.digest}" and all tags associated with it?`,
  load: async () => (await import("../../../ops/delete.ts")).deleteManifest,
});
