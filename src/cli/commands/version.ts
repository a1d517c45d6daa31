import type { Command } from "commander";
import { hostPlatform, runtimeVersion } from "../../runtime/index.ts";
import { buildCommit, VERSION } from "../../version.ts";
import type { Console } from "../io.ts";

/** Prints what `skiff version` shows; program.ts also calls it directly, without commander. */
export function printVersion(console: Console): void {
  const platform = hostPlatform();
  console.out(
    [
      `Version:    ${VERSION}`,
      `Git commit: ${buildCommit()}`,
      `Runtime:    ${runtimeVersion()}`,
      `OS/Arch:    ${platform.os}/${platform.architecture}`,
      "",
    ].join("\n"),
  );
}

export function registerVersion(command: Command, console: Console): void {
  command
    .description("Show the version, git commit, runtime and platform of this skiff")
    .action(() => printVersion(console));
}
