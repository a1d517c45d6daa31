import { commandGroup } from "../../command.ts";
import { registerBlobDelete } from "./delete.ts";
import { registerBlobFetch } from "./fetch.ts";
import { registerBlobPush } from "./push.ts";

/** The `blob` group: fetch, push, delete. */
export const registerBlob = commandGroup(
  "Work with single blobs (layers, configs, any content named by its digest): fetch one from a registry, an OCI layout or a layout tar, push one to a registry or a layout, delete one from a registry.",
  `  # Save a blob to a file
  skiff blob fetch -o layer.tar.gz localhost:5000/app@sha256:...
  # Push a file as a blob and print its digest
  skiff blob push localhost:5000/app hi.txt
  # Delete a blob without asking
  skiff blob delete --force localhost:5000/app@sha256:...`,
  [registerBlobFetch, registerBlobPush, registerBlobDelete],
);
