import type { Command } from "commander";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Reference } from "../../oci/reference.ts";
import type { ReferrerNode } from "../../ops/discover.ts";
import type { Console } from "../io.ts";
import {
  addCommonOptions,
  addFormatOption,
  addLayoutOptions,
  addPlatformOption,
  addRemoteOptions,
  openOptions,
  platformFlag,
  referenceArgument,
} from "../options.ts";
import { shownDescriptor } from "../output/descriptor.ts";
import { renderTable, renderTree, TABLE_DEPRECATION } from "../output/discover.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { pinnedName } from "./push.ts";

type Flags = Record<string, unknown>;

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

export { renderTree } from "../output/discover.ts";

export function registerDiscover(command: Command, console: Console): void {
  command
    .description(
      "Show the artifacts that refer to a manifest (signatures, SBOMs, attestations) and, unless --depth says otherwise, the ones that refer to those, as a tree, JSON or a Go template. Works on registries (through the referrers API or the sha256-<hex> fallback tag) and on OCI layouts, where the subject needs no tag when the layout holds one manifest.",
    )
    .argument("<subject>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
    .option("--artifact-type <type>", "only referrers of this artifact type (at every level)")
    .option("--depth <n>", "levels of referrers to follow (1: direct referrers only; default: all)")
    .option("-v, --verbose", "show annotations in the tree (the default, as in ORAS 1.3)");
  addPlatformOption(command, "discover the referrers of this platform's manifest of an index");
  // --format table (deprecated in ORAS) is accepted but not advertised.
  addFormatOption(command, ["tree", "json", "go-template"]);
  addLayoutOptions(command);
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  # The referrer tree of a tagged artifact
  skiff discover localhost:5000/app:v1
  # Direct referrers of one type, as JSON
  skiff discover --depth 1 --artifact-type application/spdx+json --format json localhost:5000/app:v1
  # The referrers of the only manifest of a layout (no tag needed), with annotations
  skiff discover -v oci-layout://./out
  # The referrers of the linux/arm64/v8 el8 manifest of an index
  skiff discover --platform linux/arm64/v8:el8 localhost:5000/app:1.2`,
  );
  command.action(async (subject: string, flags: Flags) => {
    await runDiscover(subject, flags, console);
  });
}

async function runDiscover(subjectText: string, flags: Flags, console: Console): Promise<void> {
  const { openTarget } = await import("../../content/open.ts");
  const { resolveReference } = await import("../../ops/resolve.ts");
  const { discoverReferrers } = await import("../../ops/discover.ts");

  const format = parseFormat(
    flags as { format?: string; template?: string },
    ["tree", "table", "json", "go-template"],
    "tree",
  );
  let depth: number | undefined;
  if (flags.depth !== undefined) {
    const text = String(flags.depth);
    if (!/^\d+$/.test(text)) throw new SkiffError("USAGE", `--depth must be a whole number, got "${text}"`);
    depth = Number(text);
  }
  const artifactType = flags.artifactType as string | undefined;
  const ref = referenceArgument(subjectText, flags);
  const platform = platformFlag(flags);
  const target = await openTarget(ref, openOptions(flags, "", console));
  const resolved = await resolveReference(target, ref, platform ? { platform } : {});
  const subject: Descriptor = {
    mediaType: resolved.desc.mediaType,
    digest: resolved.desc.digest,
    size: resolved.desc.size,
  };
  if (resolved.desc.artifactType) subject.artifactType = resolved.desc.artifactType;
  const options: Parameters<typeof discoverReferrers>[2] = {};
  if (artifactType !== undefined) options.artifactType = artifactType;
  if (depth !== undefined) options.depth = depth;
  const nodes = await discoverReferrers(target, subject, options);
  const shown = shownDescriptor(ref, resolved.desc, resolved.root);
  if (writeResult(console, format, discoverJson(ref, shown, nodes))) return;
  // As in ORAS 1.3, annotations show unless --verbose=false.
  const verbose = flags.verbose !== false;
  if (format.kind === "table") {
    console.err(`${TABLE_DEPRECATION}\n`);
    console.out(renderTable(subjectText, subject.digest, nodes, verbose));
    return;
  }
  console.out(renderTree(pinnedName(ref, subject.digest), nodes, verbose));
}
