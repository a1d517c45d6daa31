import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Reference } from "../../oci/reference.ts";
import type { ReferrerNode } from "../../ops/discover.ts";
import { type Register, withFlags } from "../command.ts";
import {
  distributionSpecFlags,
  formatFlags,
  openOptions,
  platformFlag,
  platformFlags,
  referenceArgument,
  TARGET_FLAGS,
} from "../flags.ts";
import { pinnedName } from "../output/descriptors.ts";
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

interface TreeNode {
  label: string;
  children: TreeNode[];
}

/** Referrers grouped under their artifact type, as ORAS draws them; types in lexical order. */
function toTree(nodes: ReferrerNode[], annotations: boolean): TreeNode[] {
  const groups = new Map<string, TreeNode>();
  for (const node of nodes) {
    const type = node.desc.artifactType || "<unknown>";
    let group = groups.get(type);
    if (!group) {
      group = { label: type, children: [] };
      groups.set(type, group);
    }
    const children = toTree(node.referrers, annotations);
    if (annotations && node.desc.annotations && Object.keys(node.desc.annotations).length > 0) {
      const lines = Object.entries(node.desc.annotations).map(([k, v]) => ({
        label: `${k}: ${JSON.stringify(v)}`,
        children: [],
      }));
      children.unshift({ label: "[annotations]", children: lines });
    }
    group.children.push({ label: node.desc.digest, children });
  }
  return [...groups.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** Draws a tree with box-drawing characters (`├── `, `└── `, `│   `). */
export function renderTree(root: string, nodes: ReferrerNode[], annotations = false): string {
  const lines = [root];
  const draw = (children: TreeNode[], prefix: string): void => {
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? "└── " : "├── "}${child.label}`);
      draw(child.children, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  draw(toTree(nodes, annotations), "");
  return `${lines.join("\n")}\n`;
}

export const registerDiscover: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Show the artifacts that refer to a manifest (signatures, SBOMs, attestations) and, unless --depth says otherwise, the ones that refer to those, as a tree, JSON or a Go template. Works on registries (through the referrers API or the sha256-<hex> fallback tag) and on OCI layouts, where the subject needs no tag when the layout holds one manifest.",
      )
      .argument("<subject>", "host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
      .option("--artifact-type <type>", "only referrers of this artifact type (at every level)")
      .option("--depth <n>", "levels of referrers to follow (1: direct referrers only; default: all)")
      .option("-v, --verbose", "show annotations in the tree"),
    platformFlags("discover the referrers of this platform's manifest of an index"),
    distributionSpecFlags,
    formatFlags(["tree", "json", "go-template"]),
    ...TARGET_FLAGS,
  )
    .addHelpText(
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
    )
    .action(async (subjectText, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { resolveReference } = await import("../../ops/resolve.ts");
      const { discoverReferrers } = await import("../../ops/discover.ts");

      const format = parseFormat(flags, ["tree", "json", "go-template"], "tree");
      if (flags.depth !== undefined && !/^\d+$/.test(flags.depth)) {
        throw new SkiffError("USAGE", `--depth must be a whole number, got "${flags.depth}"`);
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
      if (writeResult(console, format, discoverJson(ref, subject, nodes))) return;
      console.out(renderTree(pinnedName(ref, subject.digest), nodes, Boolean(flags.verbose)));
    });
};
