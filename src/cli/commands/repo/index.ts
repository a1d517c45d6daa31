import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerRepoLs } from "./ls.ts";
import { registerRepoTags } from "./tags.ts";

/** The `repo` group: tags (ls lives in the registry files). */
export function registerRepo(program: Command, console: Console): Command {
  const group = program.command("repo").description("List repositories and tags").helpCommand(false);
  registerRepoLs(group, console);
  registerRepoTags(group, console);
  return group;
}
