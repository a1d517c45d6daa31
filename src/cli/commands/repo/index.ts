import { commandGroup } from "../../command.ts";
import { registerRepoLs } from "./ls.ts";
import { registerRepoTags } from "./tags.ts";

/** The `repo` group: ls, tags. */
export const registerRepo = commandGroup(
  "List the repositories of a registry and the tags of a repository or an OCI layout, one per line or as JSON.",
  `  # The repositories of a registry
  skiff repo ls localhost:5000
  # The tags of a repository
  skiff repo tags localhost:5000/app
  # The tags of a layout
  skiff repo tags oci-layout://./out`,
  [registerRepoLs, registerRepoTags],
);
