/**
 * What `discover` draws, as ORAS draws it: the referrer tree (artifact types, then digests, with
 * an `[annotations]` node in YAML), and the deprecated `--format table` (direct referrers only,
 * each followed by its descriptor when verbose).
 */
import type { ReferrerNode } from "../../ops/discover.ts";
import { plainDescriptor } from "./descriptors.ts";
import { goJson } from "./go-json.ts";
import { printable } from "./printable.ts";
import { yamlScalar } from "./yaml-scalar.ts";

/** ORAS's warning on stderr for `--format table`. */
export const TABLE_DEPRECATION = 'Format "table" is deprecated and will be removed in a future release.';

interface TreeNode {
  label: string;
  children: TreeNode[];
}

/** Referrers grouped under their artifact type (`<unknown>` when empty), types in the order first met (ORAS). */
function toTree(nodes: ReferrerNode[], annotations: boolean): TreeNode[] {
  const groups = new Map<string, TreeNode>();
  for (const node of nodes) {
    const type = node.desc.artifactType || "<unknown>";
    let group = groups.get(type);
    if (!group) {
      group = { label: printable(type), children: [] };
      groups.set(type, group);
    }
    const children = toTree(node.referrers, annotations);
    const entries = Object.entries(node.desc.annotations ?? {}).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    if (annotations && entries.length > 0) {
      const lines = entries.map(([k, v]) => ({
        label: printable(`${yamlScalar(k)}: ${yamlScalar(v)}`),
        children: [],
      }));
      children.unshift({ label: "[annotations]", children: lines });
    }
    group.children.push({ label: node.desc.digest, children });
  }
  return [...groups.values()];
}

/** The tree with box-drawing characters (`├── `, `└── `, `│   `); annotations unless `annotations` is false. */
export function renderTree(root: string, nodes: ReferrerNode[], annotations = true): string {
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

/**
 * `--format table`: how many direct referrers `subject` (as the user typed it) has, its digest,
 * then a row per referrer (artifact type, digest), each followed by its descriptor when `verbose`.
 */
export function renderTable(subject: string, digest: string, nodes: ReferrerNode[], verbose = true): string {
  let out = `Discovered ${nodes.length} artifact${nodes.length === 1 ? "" : "s"} referencing ${printable(subject)}\n`;
  out += `Digest: ${digest}\n`;
  if (nodes.length === 0) return out;
  const types = nodes.map((node) => printable(node.desc.artifactType ?? ""));
  const width = Math.max("Artifact Type".length, ...types.map((type) => type.length)) + 3;
  out += `\n${"Artifact Type".padEnd(width)}Digest\n`;
  nodes.forEach((node, i) => {
    out += `${types[i]!.padEnd(width)}${node.desc.digest}\n`;
    if (verbose) out += `${goJson(plainDescriptor(node.desc), true)}\n`;
  });
  return out;
}
