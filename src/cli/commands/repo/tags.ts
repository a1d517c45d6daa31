import { type ParsedReference, parseRegistryReference } from "../../../oci/reference.ts";
import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { formatFlags, openOptions, referenceArgument, TARGET_FLAGS, verboseFlags } from "../../flags.ts";
import { parseFormat, writeResult } from "../../output/format.ts";

/**
 * The argument of repo tags: a repository or layout, or a reference whose tag or digest picks the
 * tags pointing at one manifest. With --oci-layout-path, a repository name (`host/repo`) lists that
 * repository's ref names in the layout, and a full reference is a ref name.
 */
function tagsArgument(
  text: string,
  flags: Parameters<typeof referenceArgument>[1],
): { ref: ParsedReference; repository?: string } {
  if (flags.ociLayoutPath !== undefined && !flags.ociLayout && text !== "") {
    let full: ParsedReference | undefined;
    try {
      full = parseRegistryReference(text);
    } catch {
      // A tag or digest: read below as usual.
    }
    const path = flags.ociLayoutPath;
    if (full && !full.tag && !full.digest)
      return { ref: { kind: "layout", path, tags: [] }, repository: text };
    if (full?.tag && !full.digest) return { ref: { kind: "layout", path, tag: text, tags: [text] } };
  }
  return { ref: referenceArgument(text, flags) };
}

export const registerRepoTags: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("tags")
      .alias("show-tags")
      .summary("List the tags of a repository or OCI layout")
      .description(
        "List the tags of a registry repository, or of an OCI layout directory or tar, one per line or as JSON. --exclude-digest-tags hides the sha256-<hex> tags that registries without the referrers API use to index referrers.",
      )
      .argument(
        "<repository>",
        "host/repo, or a layout PATH (oci-layout://PATH or --oci-layout); with :tag or @digest, only the tags of that manifest",
      )
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
  skiff repo tags --oci-layout ./app.tar
  # The tags that point at the same manifest as v1 (each tag is resolved)
  skiff repo tags localhost:5000/app:v1
  # The ref names of one repository in a layout holding several
  skiff repo tags --oci-layout-path ./out registry.example/app`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../../content/open.ts");
      const { listTags } = await import("../../../ops/list-tags.ts");
      const format = parseFormat(flags);
      const { ref, repository } = tagsArgument(text, flags);
      const target = await openTarget(ref, openOptions(flags, console));
      const tags = await listTags(target, ref, {
        ...(flags.last !== undefined ? { last: flags.last } : {}),
        ...(flags.excludeDigestTags ? { excludeDigestTags: true } : {}),
        ...(repository !== undefined ? { repository } : {}),
        onFilter: (digest) =>
          console.err(
            `[Experimental] listing the tags that point at ${digest}: each tag is resolved, which may take a while\n`,
          ),
      });
      if (writeResult(console, format, { tags })) return;
      if (tags.length > 0) console.out(`${tags.join("\n")}\n`);
    });
};
