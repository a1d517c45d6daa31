/**
 * discover: the referrers of a manifest, and theirs, as a tree. Registries answer through the
 * referrers API or the tag-schema fallback (the registry store decides); layouts from their
 * `index.json` roots.
 */
import type { ReferrerLister } from "../content/target.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { MAX_REFERRER_DEPTH } from "../oci/manifest.ts";

/** One referrer and the referrers of it, as deep as asked. */
export interface ReferrerNode {
  desc: Descriptor;
  referrers: ReferrerNode[];
}

interface DiscoverOptions {
  /** Only referrers of this artifact type, at every level (ORAS). */
  artifactType?: string;
  /** Levels to follow: 1 lists direct referrers only; undefined or 0 follows all. */
  depth?: number;
  /** Called once per referrer as it is found (for progress or streaming output). */
  onReferrer?: (referrer: Descriptor, subject: Descriptor) => void;
}

/**
 * The referrers of `subject` in `target`, recursively. Each manifest is listed once along a path
 * (a referrer that refers back to an ancestor is not followed again). Order is the target's: a
 * registry's (referrers API or fallback index, oldest first there), as ORAS keeps it; a layout's
 * by digest.
 */
export async function discoverReferrers(
  target: ReferrerLister,
  subject: Descriptor,
  options: DiscoverOptions = {},
): Promise<ReferrerNode[]> {
  const limit =
    options.depth && options.depth > 0 ? Math.min(options.depth, MAX_REFERRER_DEPTH) : MAX_REFERRER_DEPTH;
  const walk = async (desc: Descriptor, level: number, path: Set<string>): Promise<ReferrerNode[]> => {
    const found = await target.referrers(desc, options.artifactType);
    const nodes: ReferrerNode[] = [];
    for (const referrer of found) {
      if (path.has(referrer.digest)) continue;
      options.onReferrer?.(referrer, desc);
      const node: ReferrerNode = { desc: referrer, referrers: [] };
      if (level < limit) {
        node.referrers = await walk(referrer, level + 1, new Set([...path, referrer.digest]));
      }
      nodes.push(node);
    }
    return nodes;
  };
  return walk(subject, 1, new Set([subject.digest]));
}

/** Number of referrers in a tree, at every level. */
export function countReferrers(nodes: ReferrerNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countReferrers(node.referrers), 0);
}
