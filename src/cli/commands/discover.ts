import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Reference } from "../../oci/reference.ts";
import type { ReferrerNode } from "../../ops/discover.ts";
import { type CommandUnknownOpts, type Register, warnOnFlag, withFlags } from "../command.ts";
import {
  distributionSpecFlags,
  formatFlags,
  openOptions,
  platformFlag,
  platformFlags,
  referenceArgument,
  TARGET_FLAGS,
  verboseFlags,
} from "../flags.ts";
import { pinnedName } from "../output/descriptors.ts";
import { renderTable, renderTree, TABLE_DEPRECATION } from "../output/discover.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";

/** The nested JSON of discover: the subject's descriptor with `referrers`, each with its own. */
export function discoverJson(
  ref: Reference,
  subject: Descriptor,
  nodes: ReferrerNode[],
): Record<string, unknown> {
  const node = (desc: Descriptor, children: ReferrerNode[]): Record<string, unknown> =>
    descriptorJson(pinnedName(ref, desc.digest), desc, {
      referrers: children.map((child) => node(child.desc, child.referrers)),
    });
  return node(subject, nodes);
}

/** ORAS's warning line for the deprecated `-o/--output`. */
const OUTPUT_DEPRECATED = "[DEPRECATED] --output is deprecated, try `--format ` instead";

/** `--format`, or the deprecated `-o/--output` (tree, table or json, as in ORAS), never both. */
function discoverFormat(flags: { format?: string; output?: string; template?: string }) {
  if (flags.output !== undefined) {
    if (flags.format !== undefined) {
      throw new SkiffError("USAGE", "--format, --output cannot be used at the same time", "use --format");
    }
    if (flags.output.startsWith("go-template")) {
      throw new SkiffError(
        "USAGE",
        "--output can only be tree, table or json",
        "use --format go-template=TEMPLATE",
      );
    }
  }
  return parseFormat(
    { ...flags, format: flags.format ?? flags.output },
    ["tree", "table", "json", "go-template"],
    "tree",
  );
}

export const registerDiscover: Register = (command, console) => {
  warnOnFlag(command as unknown as CommandUnknownOpts, "output", OUTPUT_DEPRECATED);
  withFlags(
    command
      .description(
        "Show the artifacts that refer to a manifest (signatures, SBOMs, attestations) and, unless --depth says otherwise, the ones that refer to those, as a tree, JSON or a Go template. Works on registries (through the referrers API or the sha256-<hex> fallback tag) and on OCI layouts, where the subject needs no tag when the layout holds one manifest.",
      )
      .argument("<subject>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
      .option("--artifact-type <type>", "only referrers of this artifact type (at every level)")
      .option("--depth <n>", "levels of referrers to follow (1: direct referrers only; default: all)")
      .addOption(command.createOption("-o, --output <format>", "deprecated: --format").hideHelp()),
    platformFlags("discover the referrers of this platform's manifest of an index"),
    distributionSpecFlags,
    // --format table (deprecated in ORAS) is accepted but not advertised.
    formatFlags(["tree", "json", "go-template"]),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # The referrer tree of a tagged artifact
  skiff discover localhost:5000/app:v1
  # Direct referrers of one type, as JSON
  skiff discover --depth 1 --artifact-type application/spdx+json --format json localhost:5000/app:v1
  # The referrers of the only manifest of a layout (no tag needed)
  skiff discover oci-layout://./out
  # The referrers of the linux/arm64/v8 el8 manifest of an index
  skiff discover --platform linux/arm64/v8:el8 localhost:5000/app:1.2`,
    )
    .action(async (subjectText, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { layoutEntry, resolveReference } = await import("../../ops/resolve.ts");
      const { discoverReferrers } = await import("../../ops/discover.ts");

      const format = discoverFormat(flags);
      if (flags.depth !== undefined && !/^-?\d+$/.test(flags.depth)) {
        throw new SkiffError("USAGE", `--depth must be a whole number, got "${flags.depth}"`);
      }
      if (flags.depth !== undefined && Number(flags.depth) < 1) {
        throw new SkiffError("USAGE", `--depth ${flags.depth}: depth value should be at least 1`);
      }
      const ref = referenceArgument(subjectText, flags);
      const platform = platformFlag(flags);
      const target = await openTarget(ref, openOptions(flags, console));
      const resolved = await resolveReference(target, ref, platform ? { platform } : {});
      const subject: Descriptor = {
        mediaType: resolved.desc.mediaType,
        digest: resolved.desc.digest,
        size: resolved.desc.size,
      };
      if (resolved.desc.artifactType) subject.artifactType = resolved.desc.artifactType;
      const options: Parameters<typeof discoverReferrers>[2] = {};
      if (flags.artifactType !== undefined) options.artifactType = flags.artifactType;
      if (flags.depth !== undefined) options.depth = Number(flags.depth);
      const nodes = await discoverReferrers(target, subject, options);
      // The subject as ORAS shows it: a layout tag's index.json entry, a layout digest bare.
      const shown = platform ? resolved.desc : await layoutEntry(target, ref, resolved.desc);
      if (writeResult(console, format, discoverJson(ref, shown, nodes))) return;
      // Annotations (and the table's descriptors) show unless --verbose=false, as in ORAS 1.3.
      const verbose = flags.verbose !== false;
      if (format.kind === "table") {
        console.err(`${TABLE_DEPRECATION}\n`);
        console.out(renderTable(subjectText, subject.digest, nodes, verbose));
        return;
      }
      console.out(renderTree(pinnedName(ref, subject.digest), nodes, verbose));
    });
};
