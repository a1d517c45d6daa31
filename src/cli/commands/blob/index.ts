import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerBlobFetch } from "./fetch.ts";

/** The `blob` group: fetch (push and delete live in the registry files). */
export function registerBlob(program: Command, console: Console): Command {
  const group = program.command("blob").description("Fetch, push and delete blobs").helpCommand(false);
  registerBlobFetch(group, console);
  return group;
}
