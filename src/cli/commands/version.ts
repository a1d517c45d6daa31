import { hostPlatform, runtimeVersion } from "../../runtime/index.ts";
import { buildCommit, VERSION } from "../../version.ts";
import type { Register } from "../command.ts";

/** What `skiff version` prints; program.ts also answers with it directly, without commander. */
export function versionText(): string {
  const platform = hostPlatform();
  return [
    `Version:    ${VERSION}`,
    `Git commit: ${buildCommit()}`,
    `Runtime:    ${runtimeVersion()}`,
    `OS/Arch:    ${platform.os}/${platform.architecture}`,
    "",
  ].join("\n");
}

export const registerVersion: Register = (command, console) => {
  command
    .description(
      "Print skiff's version, the git commit it was built from, the runtime it runs on (Bun, or Deno under deno run) and the platform: what a bug report needs.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  # All of it\n  skiff version\n  # The version number only\n  skiff --version",
    )
    // Extra words are ignored with a warning, as ORAS does, so a script passing some keeps working.
    .allowExcessArguments(true)
    .action((_flags, self) => {
      if (self.args.length > 0) {
        console.err(
          `warning: \`skiff version\` takes no argument, "${self.args.join(",")}" will be ignored\n`,
        );
      }
      console.out(versionText());
    });
};
