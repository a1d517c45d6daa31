import type { Command } from "commander";
import { hostPlatform, runtimeVersion } from "../../runtime/index.ts";
import { buildCommit, VERSION } from "../../version.ts";
import type { Console } from "../io.ts";

export function registerVersion(program: Command, console: Console): void {
  program
    .command("version")
    .description("Show the version, git commit, runtime and platform of this skiff")
    .action(() => {
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
    });
}
