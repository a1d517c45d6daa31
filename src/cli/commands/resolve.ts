import type { Command } from "commander";
import { referenceName } from "../../oci/reference.ts";
import type { Console } from "../io.ts";
import {
  addCommonOptions,
  addLayoutOptions,
  addPlatformOption,
  addRemoteOptions,
  openOptions,
  platformFlag,
  referenceArgument,
} from "../options.ts";

type Flags = Record<string, unknown>;

export function registerResolve(command: Command, console: Console): void {
  command
    .description("Print the digest a reference resolves to (tagless on layouts when unambiguous)")
    .argument("<reference>", "host/repo:tag, or a layout PATH[:tag] (oci-layout://PATH or --oci-layout)")
    .option("-l, --full-reference", "print the full reference (name@digest)");
  addPlatformOption(command, "resolve to this platform's manifest: os/arch[/variant][:os.version]");
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.action(async (text: string, flags: Flags) => {
    const { openTarget } = await import("../../content/open.ts");
    const { resolveReference } = await import("../../ops/resolve.ts");
    const ref = referenceArgument(text, flags);
    const target = await openTarget(ref, openOptions(flags, "", console));
    const platform = platformFlag(flags);
    const { desc } = await resolveReference(target, ref, platform ? { platform } : {});
    console.out(flags.fullReference ? `${referenceName(ref)}@${desc.digest}\n` : `${desc.digest}\n`);
  });
}
