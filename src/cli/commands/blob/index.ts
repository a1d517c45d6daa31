import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerBlobDelete } from "./delete.ts";
import { registerBlobFetch } from "./fetch.ts";
import { registerBlobPush } from "./push.ts";

/** The `blob` group: fetch, push, delete. */
export function registerBlob(group: Command, console: Console): void {
  group.description("Fetch, push and delete blobs").helpCommand(false);
  registerBlobFetch(group, console);
  registerBlobPush(group, console);
  registerBlobDelete(group, console);
}
