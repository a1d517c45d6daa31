import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerRepoTags } from "./tags.ts";

/** The `repo` group: tags (ls lives in the registry files). */
export function registerRepo(program: Command, console: Console): Command {
  const group = program.command("repo").description("List repositories and tags").helpCommand(false);
  registerRepoTags(group, console);
  return group;
}
