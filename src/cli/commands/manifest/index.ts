import { commandGroup } from "../../command.ts";
import { registerIndex } from "../index-cmd.ts";
import { registerManifestDelete } from "./delete.ts";
import { registerManifestFetch } from "./fetch.ts";
import { registerManifestFetchConfig } from "./fetch-config.ts";
import { registerManifestPush } from "./push.ts";

/** The `manifest` group: fetch, fetch-config, push, delete, and `index` again. */
export const registerManifest = commandGroup(
  "Work with manifests and indexes as JSON: fetch one (or the config it points to) from a registry, an OCI layout or a layout tar, push one from a file or stdin, delete one from a registry, and create or update indexes (manifest index is the same as skiff index).",
  `  # The manifest of a tag, indented
  skiff manifest fetch --pretty localhost:5000/app:v1
  # The config of the linux/arm64/v8 el8 manifest of an index
  skiff manifest fetch-config --platform linux/arm64/v8:el8 localhost:5000/app:1.2
  # Push a manifest from a file
  skiff manifest push localhost:5000/app:v1 manifest.json
  # Delete a manifest and its tags without asking
  skiff manifest delete --force localhost:5000/app:v1`,
  [
    registerManifestFetch,
    registerManifestFetchConfig,
    registerManifestPush,
    registerManifestDelete,
    // The same one-line summary as the top-level `index` in the command table.
    (group, console) =>
      registerIndex(
        group.command("index").summary("Create and update image indexes across layouts and registries"),
        console,
      ),
  ],
);
