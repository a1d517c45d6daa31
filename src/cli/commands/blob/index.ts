import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerBlobDelete } from "./delete.ts";
import { registerBlobFetch } from "./fetch.ts";
import { registerBlobPush } from "./push.ts";

/** The `blob` group: fetch (push and delete live in the registry files). */
export function registerBlob(program: Command, console: Console): Command {
  const group = program.command("blob").description("Fetch, push and delete blobs").helpCommand(false);
  registerBlobFetch(group, console);
  registerBlobPush(group, console);
  registerBlobDelete(group, console);
  return group;
}
