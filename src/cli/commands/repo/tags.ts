import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { formatFlags, openOptions, referenceArgument, TARGET_FLAGS, verboseFlags } from "../../flags.ts";
import { parseFormat, writeResult } from "../../output/format.ts";

/** Tags of the referrers tag schema (`sha256-<hex>`), hidden by --exclude-digest-tags. */
const DIGEST_TAG = /^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})(\..*)?$/;

export const registerRepoTags: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("tags")
      .alias("show-tags")
      .summary("List the tags of a repository or OCI layout")
      .description(
        "List the tags of a registry repository, or of an OCI layout directory or tar, one per line or as JSON. --exclude-digest-tags hides the sha256-<hex> tags that registries without the referrers API use to index referrers.",
      )
      .argument("<repository>", "host/repo, or a layout PATH (oci-layout://PATH or --oci-layout)")
      .option("--last <tag>", "start after this tag")
      .option("--exclude-digest-tags", "hide sha256-<digest> tags (referrers fallback tags)"),
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # The tags of a repository
  skiff repo tags localhost:5000/app
  # Without referrers fallback tags, as JSON
  skiff repo tags --exclude-digest-tags --format json localhost:5000/app
  # The tags of a layout directory
  skiff repo tags oci-layout://./out
  # The tags of a layout tar
  skiff repo tags --oci-layout ./app.tar`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../../content/open.ts");
      const format = parseFormat(flags);
      const ref = referenceArgument(text, flags);
      const target = await openTarget(ref, openOptions(flags, console));
      const tags: string[] = [];
      for await (const tag of target.tags(flags.last)) {
        if (flags.excludeDigestTags && DIGEST_TAG.test(tag)) continue;
        tags.push(tag);
      }
      if (writeResult(console, format, { tags })) return;
      if (tags.length > 0) console.out(`${tags.join("\n")}\n`);
    });
};
