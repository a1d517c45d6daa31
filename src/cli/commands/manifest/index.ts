import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { addIndexCommands } from "../index-cmd.ts";
import { registerManifestDelete } from "./delete.ts";
import { registerManifestFetch } from "./fetch.ts";
import { registerManifestFetchConfig } from "./fetch-config.ts";
import { registerManifestPush } from "./push.ts";

/** The `manifest` group: fetch, fetch-config, index (push and delete live in the registry files). */
export function registerManifest(program: Command, console: Console): Command {
  const group = program
    .command("manifest")
    .description("Fetch, push and delete manifests; create and update indexes")
    .helpCommand(false);
  registerManifestFetch(group, console);
  registerManifestFetchConfig(group, console);
  registerManifestPush(group, console);
  registerManifestDelete(group, console);
  addIndexCommands(group, console);
  return group;
}
