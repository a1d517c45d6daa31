import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import {
  isIndex,
  MAX_MANIFEST_DEPTH,
  type Manifest,
  parseManifest,
  platformFromConfig,
} from "../oci/manifest.ts";
import { isManifestMediaType } from "../oci/media-types.ts";
import type { Platform } from "../oci/platform.ts";
import type { Fetcher } from "./target.ts";
import { fetchBytes } from "./verify.ts";

interface FetchedManifest {
  desc: Descriptor;
  bytes: Uint8Array;
  manifest: Manifest;
}

/** Fetches, verifies and parses a manifest or index; `where` names the place in errors. */
export async function fetchManifest(
  fetcher: Fetcher,
  desc: Descriptor,
  where: string,
): Promise<FetchedManifest> {
  const bytes = await fetchBytes(fetcher, desc, where);
  return { desc, bytes, manifest: parseManifest(bytes, desc.mediaType, `${desc.digest} in ${where}`) };
}

/** True when the descriptor names a manifest or index skiff can walk. */
export function isWalkable(desc: Descriptor): boolean {
  return isManifestMediaType(desc.mediaType);
}

/**
 * The platform of a manifest: the descriptor's `platform`, else the one in its image config.
 * Undefined when neither has one (artifacts with the empty config).
 */
export async function platformOf(
  fetcher: Fetcher,
  desc: Descriptor,
  where: string,
): Promise<Platform | undefined> {
  if (desc.platform) return desc.platform;
  if (!isWalkable(desc)) return undefined;
  const { manifest } = await fetchManifest(fetcher, desc, where);
  if (!("config" in manifest)) return undefined;
  const config = manifest.config;
  if (config.size > 1024 * 1024 || config.mediaType === "application/vnd.oci.empty.v1+json") return undefined;
  const bytes = await fetchBytes(fetcher, config, where);
  return platformFromConfig(bytes, `${config.digest} in ${where}`);
}

/** The error for a graph under `root` that nests deeper than {@link MAX_MANIFEST_DEPTH} (at `at`). */
export function tooDeep(root: Descriptor, at: Descriptor, where: string): SkiffError {
  return new SkiffError(
    "INVALID_MANIFEST",
    `the graph under ${root.digest} in ${where} nests deeper than ${MAX_MANIFEST_DEPTH} levels (at ${at.digest})`,
  );
}

/** A manifest reached by {@link walkManifests}, at `depth` below the root (0). */
export interface ManifestNode {
  desc: Descriptor;
  manifest: Manifest;
  depth: number;
}

/** Walks into a child manifest of the node being visited (a no-op for one already walked). */
export type Descend = (child: Descriptor) => Promise<void>;

interface WalkOptions {
  /** Digests already walked, shared between walks that must visit each manifest once. */
  seen?: Set<string>;
}

/**
 * Visits the manifests under `root`, depth first: each is fetched, verified and parsed, then given
 * to `visit`, which walks into the children it chooses with `descend` (by default every manifest
 * an index lists). Each digest is visited once; a graph nested deeper than MAX_MANIFEST_DEPTH is
 * refused. Pull, cp, resolve, index and layout referrers all walk through here.
 */
export async function walkManifests(
  fetcher: Fetcher,
  root: Descriptor,
  where: string,
  visit: (node: ManifestNode, descend: Descend) => Promise<void> | void = descendIndex,
  options: WalkOptions = {},
): Promise<void> {
  const seen = options.seen ?? new Set<string>();
  const walk = async (desc: Descriptor, depth: number): Promise<void> => {
    if (seen.has(desc.digest)) return;
    if (depth > MAX_MANIFEST_DEPTH) throw tooDeep(root, desc, where);
    seen.add(desc.digest);
    const { manifest } = await fetchManifest(fetcher, desc, where);
    await visit({ desc, manifest, depth }, (child) => walk(child, depth + 1));
  };
  await walk(root, 0);
}

/** The default walk: into every manifest and index an index lists. */
export async function descendIndex(node: ManifestNode, descend: Descend): Promise<void> {
  if (!isIndex(node.manifest)) return;
  for (const child of node.manifest.manifests) if (isWalkable(child)) await descend(child);
}
