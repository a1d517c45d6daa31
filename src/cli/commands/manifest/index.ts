import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerIndex } from "../index-cmd.ts";
import { registerManifestDelete } from "./delete.ts";
import { registerManifestFetch } from "./fetch.ts";
import { registerManifestFetchConfig } from "./fetch-config.ts";
import { registerManifestPush } from "./push.ts";

/** The `manifest` group: fetch, fetch-config, push, delete, and `index` again. */
export function registerManifest(group: Command, console: Console): void {
  group.description("Fetch, push and delete manifests; create and update indexes").helpCommand(false);
  registerManifestFetch(group, console);
  registerManifestFetchConfig(group, console);
  registerManifestPush(group, console);
  registerManifestDelete(group, console);
  registerIndex(group.command("index"), console);
}
