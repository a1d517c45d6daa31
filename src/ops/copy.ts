/**
 * cp: copy a manifest or index and its whole graph (nested indexes, every platform) from one
 * target to another, optionally with its referrers. The graph copy itself is copy-graph.ts;
 * this file decides what the root is, which tags the destination gets, how referrers follow,
 * and when a blob can be mounted instead of uploaded.
 */

import { ignoreEvents, type Listener } from "../content/events.ts";
import { descendIndex, fetchManifest, walkManifests } from "../content/manifests.ts";
import {
  type Fetcher,
  isMounter,
  isRangeFetcher,
  publish,
  type RangeFetcher,
  type ReferrerLister,
  type Target,
} from "../content/target.ts";
import { type BlobLocator, isBlobLocator, mapOriginErrors } from "../content/transfer/offload.ts";
import { SkiffError } from "../errors.ts";
import { type Descriptor, entryDescriptor, withoutRefName } from "../oci/descriptor.ts";
import { MAX_REFERRER_DEPTH } from "../oci/manifest.ts";
import type { Platform } from "../oci/platform.ts";
import { checkTag, formatReference, isRegistryReference, type Reference } from "../oci/reference.ts";
import { type CopySession, copyGraph, copySession } from "./copy-graph.ts";
import { type ResolvedReference, resolveReference } from "./resolve.ts";

/** How one graph (and, with `recursive`, its referrers) is copied. */
export interface GraphCopyOptions {
  /** `-r`: copy the referrers of the root and of every manifest under it, and theirs. */
  recursive?: boolean;
  /** Transfers at once (ORAS cp: 3). */
  concurrency?: number;
  listener?: Listener;
  /** Takes a blob without transfer (cross-repository mount); see {@link mountFrom}. */
  mount?: (desc: Descriptor) => Promise<boolean>;
}

interface CopyOptions extends GraphCopyOptions {
  /** `--platform`: copy (and tag) only the matching manifest of an index. */
  platform?: Platform;
  /**
   * Destination tags (`DST:t1,t2`; default: the destination reference's tag). None: the copy is
   * by digest (a layout gets an untagged `index.json` entry), as in ORAS, however the source was
   * named.
   */
  tags?: string[];
}

interface CopyResult {
  /** How the source reference was resolved (tag, digest or tagless; after `--platform`). */
  source: ResolvedReference;
  /** The copied root, with `artifactType` and the manifest's annotations (for `--format`). */
  desc: Descriptor;
  /** Tags the destination got (empty: by digest only). */
  tags: string[];
  /** Referrers copied with `-r`, in the order they were copied. */
  referrers: Descriptor[];
}

/**
 * The mount function for a copy between two repositories of the same registry host: the
 * destination takes blobs from the source repository without upload. Undefined otherwise
 * (different hosts, same repository, layouts, or a destination that cannot mount).
 */
export function mountFrom(
  sourceRef: Reference,
  destinationRef: Reference,
  destination: Target,
): ((desc: Descriptor) => Promise<boolean>) | undefined {
  if (!isRegistryReference(sourceRef) || !isRegistryReference(destinationRef)) return undefined;
  if (sourceRef.registry !== destinationRef.registry) return undefined;
  if (sourceRef.repository === destinationRef.repository) return undefined;
  if (!isMounter(destination)) return undefined;
  const from = sourceRef.repository;
  // A refused mount is not an error: the blob is then copied the ordinary way.
  return (desc) => destination.mount(desc, from).catch(() => false);
}

/**
 * A fetcher that names the manifest that listed a descriptor when the source does not have it,
 * so "blob X is missing" also says where it was expected to be used.
 */
function explainingFetcher(source: Fetcher, parents: Map<string, string>, where: string): Fetcher {
  const explain = (error: unknown, desc: Descriptor): unknown => {
    const parent = parents.get(desc.digest);
    if (error instanceof SkiffError && error.code === "NOT_FOUND" && parent) {
      return new SkiffError(
        "NOT_FOUND",
        `${error.message} (listed by manifest ${parent})`,
        error.hint ??
          `the source graph in ${where} is incomplete: ${desc.digest} (${desc.mediaType}) is expected there`,
        { cause: error },
      );
    }
    return error;
  };
  const explaining: Fetcher & Partial<BlobLocator> = {
    async fetch(desc) {
      try {
        return await source.fetch(desc);
      } catch (error) {
        throw explain(error, desc);
      }
    },
  };
  // Transfer workers read blobs where the source says they are; their errors are explained too.
  if (isBlobLocator(source)) {
    explaining.locateBlob = async (desc) => {
      const origin = await source.locateBlob(desc);
      return origin && mapOriginErrors(origin, (error) => explain(error, desc) as Error);
    };
  }
  // Resuming needs the source's own ranges; without them copyGraph falls back to fetch.
  if (!isRangeFetcher(source)) return explaining;
  const ranged: Fetcher & RangeFetcher = {
    ...explaining,
    fetchFrom: (desc, offset) => source.fetchFrom(desc, offset),
  };
  return ranged;
}

/**
 * Copies the graph under `root` (leaves first, a referrer's subject included, as ORAS does),
 * remembering which manifest listed each child. `session` is shared by the graphs of one copy.
 */
async function copyOneGraph(
  source: Target,
  destination: Target,
  root: Descriptor,
  options: GraphCopyOptions,
  session: CopySession,
): Promise<void> {
  const parents = new Map<string, string>();
  const fetcher = explainingFetcher(source, parents, source.where);
  const subjectsWithSubjects: Descriptor[] = [];
  await copyGraph(fetcher, destination, root, {
    concurrency: options.concurrency ?? 3,
    listener: options.listener ?? ignoreEvents,
    sourceName: source.where,
    includeSubject: true,
    session,
    ...(options.mount ? { mount: options.mount } : {}),
    selectChildren: (parent, children) => {
      for (const child of children) if (!parents.has(child.digest)) parents.set(child.digest, parent.digest);
      return children;
    },
    referrerCopied: (desc) => {
      if (desc.digest !== root.digest) subjectsWithSubjects.push(desc);
    },
  });
  // A subject copied along that is a referrer itself (a signature of an SBOM of an image) is
  // recorded too, as its own push would be: in a registry's fallback index, a layout's entries.
  // The root is the caller's to publish.
  for (const referrer of subjectsWithSubjects) {
    await publish(destination, entryDescriptor(referrer), { tags: [] });
  }
}

/** The manifests and indexes under `root` (itself included), following nested indexes. */
async function manifestsUnder(source: Fetcher, root: Descriptor, where: string): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  await walkManifests(source, root, where, (node, descend) => {
    out.push(node.desc);
    return descendIndex(node, descend);
  });
  return out;
}

/**
 * The referrers of `subjects` in `source`, and the referrers of those, breadth first, each once.
 * `visit` is called for every referrer (with its subject) in an order where a subject always comes
 * before its referrers.
 */
async function walkReferrers(
  source: Target & ReferrerLister,
  subjects: Descriptor[],
  visit: (referrer: Descriptor, subject: Descriptor) => Promise<void>,
): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  const seen = new Set(subjects.map((s) => s.digest));
  let level = subjects;
  for (let depth = 0; level.length > 0; depth++) {
    if (depth >= MAX_REFERRER_DEPTH) {
      throw new SkiffError(
        "INVALID_MANIFEST",
        `referrers in ${source.where} chain deeper than ${MAX_REFERRER_DEPTH} levels`,
      );
    }
    const next: Descriptor[] = [];
    for (const subject of level) {
      const referrers = await source.referrers(subject);
      referrers.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
      for (const referrer of referrers) {
        if (seen.has(referrer.digest)) continue;
        seen.add(referrer.digest);
        await visit(referrer, subject);
        found.push(referrer);
        next.push(referrer);
      }
    }
    level = next;
  }
  return found;
}

/**
 * The referrers that `-r` would copy for `root`: those of the root, of every manifest under it
 * (index children, nested), and the referrers of those, recursively.
 */
export async function findReferrers(
  source: Target & ReferrerLister,
  root: Descriptor,
): Promise<Descriptor[]> {
  const subjects = await manifestsUnder(source, root, source.where);
  return walkReferrers(source, subjects, async () => {});
}

/**
 * Copies the graph under `root` from `source` to `destination`; with `recursive`, then the
 * referrers of every manifest in it (each after its subject), recording each at the destination
 * so it can be found there. Tags nothing. Returns the referrers copied.
 */
export async function copyArtifact(
  source: Target & ReferrerLister,
  destination: Target,
  root: Descriptor,
  options: GraphCopyOptions = {},
): Promise<Descriptor[]> {
  if (!destination.writable) {
    throw new SkiffError(
      "UNSUPPORTED",
      `cannot copy into ${destination.name}: layout tar archives are read-only`,
      "copy into a layout directory, or write a tar with: skiff backup --output FILE.tar",
    );
  }
  // One session: a blob shared by the root and its referrers is copied and reported once.
  const session = copySession();
  await copyOneGraph(source, destination, root, options, session);
  if (!options.recursive) return [];
  const subjects = await manifestsUnder(source, root, source.where);
  return walkReferrers(source, subjects, async (referrer) => {
    await copyOneGraph(source, destination, referrer, options, session);
    // The destination records it: a registry's fallback index, a layout's untagged entry.
    await publish(destination, entryDescriptor(referrer), { tags: [] });
  });
}

/**
 * Copies what `sourceRef` names in `source` to `destination`: resolve (tags, digests, tagless
 * layouts, `--platform`), copy the graph and (with `recursive`) the referrers, then tag.
 * `destinationRef` decides mounts and must not pin another digest.
 */
export async function copyReference(
  source: Target & ReferrerLister,
  sourceRef: Reference,
  destination: Target,
  destinationRef: Reference,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const requested = options.tags ?? (destinationRef.tag ? [destinationRef.tag] : []);
  for (const tag of requested) checkTag(tag, formatReference(destinationRef));
  const resolved = await resolveReference(
    source,
    sourceRef,
    options.platform ? { platform: options.platform } : {},
  );
  if (destinationRef.digest && destinationRef.digest !== resolved.desc.digest) {
    throw new SkiffError(
      "USAGE",
      `the destination pins ${destinationRef.digest}, but the source is ${resolved.desc.digest}`,
      "give the destination a tag, or no tag at all",
    );
  }
  // As ORAS: no destination tag means a copy by digest; the source's tag is not carried over.
  const tags = requested;
  const { manifest } = await fetchManifest(source, resolved.desc, source.where);
  const mount = options.mount ?? mountFrom(sourceRef, destinationRef, destination);
  const referrers = await copyArtifact(source, destination, resolved.desc, {
    ...options,
    ...(mount ? { mount } : {}),
  });
  const entry = entryDescriptor(resolved.desc, resolved.desc.artifactType ?? manifest.artifactType);
  // As ORAS: a layout source's own entry annotations (a pushed artifact's created) come along.
  const own = withoutRefName(resolved.desc).annotations;
  await publish(destination, own ? { ...entry, annotations: own } : entry, { tags });
  const desc = { ...entry };
  delete desc.platform;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    desc.annotations = { ...manifest.annotations };
  }
  return { source: resolved, desc, tags, referrers };
}
