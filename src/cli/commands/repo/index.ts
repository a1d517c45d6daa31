import type { Command } from "commander";
import type { Console } from "../../io.ts";
import { registerRepoLs } from "./ls.ts";
import { registerRepoTags } from "./tags.ts";

/** The `repo` group: ls, tags. */
export function registerRepo(group: Command, console: Console): void {
  group.description("List repositories and tags").helpCommand(false);
  registerRepoLs(group, console);
  registerRepoTags(group, console);
}
