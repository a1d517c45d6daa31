/**
 * What a place that holds content can do, in oras-go's shape: a small Target (fetch, push, exists,
 * resolve, tag) that every store is, and optional abilities that some stores add, each declared
 * once here with one type guard. Verbs ask for the abilities they need, never for a kind of store.
 */
import type { Descriptor } from "../oci/descriptor.ts";

/**
 * Reads content by descriptor. Stores and registries verify what they serve: the stream errors at
 * its end if bytes do not match the digest or size, and carries a mark saying so (content/verify.ts).
 * The file source of push serves files it has just hashed unmarked; whoever receives an unmarked
 * stream checks it (see Pusher).
 */
export interface Fetcher {
  fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>>;
}

/**
 * Stores content; the store verifies digest and size before the content becomes visible: by
 * hashing, unless the stream is marked verified for that descriptor (a registry: by `?digest=`).
 */
interface Pusher {
  push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void>;
}

export interface Storage extends Fetcher, Pusher {
  exists(desc: Descriptor): Promise<boolean>;
}

/** Resolves a tag or digest (never tagless: see ops/resolve.ts) to the manifest descriptor. */
interface Resolver {
  resolve(reference: string): Promise<Descriptor>;
}

/** Points a tag at a manifest that the target already holds. */
interface Tagger {
  tag(desc: Descriptor, tag: string): Promise<void>;
}

/** Every place content lives: a registry repository, a layout directory or a layout tar. */
export interface Target extends Storage, Resolver, Tagger {
  /** How messages name this place: `host/repo` or the layout path. */
  readonly name: string;
  /** The same with what it is, for "in ..." in messages: `registry host/repo`, `layout PATH`. */
  readonly where: string;
  /** False for layout tar archives, which skiff reads but never writes. */
  readonly writable: boolean;
}

// ---------------------------------------------------------------------------------------------
// Optional abilities

/**
 * A blob's content from `offset` on, and where it really starts: 0 when the source cannot skip
 * (then it is the whole, verified stream). From an offset > 0 the bytes are unverified: the
 * receiver hashes them after the prefix it has.
 */
export interface Opened {
  stream: ReadableStream<Uint8Array>;
  offset: number;
}

/** A source that can serve a blob from a byte offset (registry `Range`, a layout file offset). */
export interface RangeFetcher {
  fetchFrom(desc: Descriptor, offset: number): Promise<Opened>;
}

/**
 * A store that keeps an interrupted blob under a name per digest and, on the next push of that
 * blob, asks `open` only for the bytes it lacks (resume across runs).
 */
interface ResumingPusher {
  pushFrom(desc: Descriptor, open: (offset: number) => Promise<Opened>): Promise<void>;
}

/** A store that can take a blob from another repository on the same registry without upload. */
export interface Mounter {
  mount(desc: Descriptor, fromRepository: string): Promise<boolean>;
}

/** Tags in lexical order, starting after `last` when given. */
export interface TagLister {
  tags(last?: string): AsyncIterable<string>;
}

/** Referrers of `subject` (manifests whose `subject` is it), optionally of one artifact type. */
export interface ReferrerLister {
  referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]>;
}

/**
 * Removes a manifest or blob, and keeps the store's books: a registry takes a deleted referrer out
 * of its subject's fallback index, a layout drops the `index.json` entries of it.
 */
export interface Deleter {
  delete(desc: Descriptor): Promise<void>;
}

/** A layout's `index.json` entries: the candidates of a tagless resolve. */
export interface EntryLister {
  entries(): Promise<Descriptor[]>;
}

/** A store that can look a blob up by digest alone (a layout: its file; a registry: `HEAD blobs/DIGEST`). */
export interface BlobDescriber {
  describeBlob(digest: string): Promise<Descriptor>;
}

/** A store that can take a manifest of a media type it does not know as a manifest (registries). */
export interface ManifestPusher {
  pushManifest(desc: Descriptor, bytes: Uint8Array): Promise<void>;
}

/**
 * A store that can be asked for manifests of some media types only (registries: the `Accept` of
 * manifest requests by tag or digest), so it answers "not found" for others.
 */
export interface ManifestTypeNarrower {
  acceptManifestTypes(mediaTypes: readonly string[]): void;
}

/** How a stored root gets its names (see {@link Publisher}). */
export interface PublishPlan {
  /** Tags to point at the root. */
  tags: readonly string[];
  /** Layouts: the root replaces this manifest; its untagged `index.json` entries go. */
  replaces?: Descriptor;
  /** Layouts: the tags of `replaces` move to the root too (a tagless update). */
  moveAllTags?: boolean;
  /** Layouts: digests whose untagged `index.json` entries the root takes over (now reachable from it). */
  absorbs?: readonly string[];
}

/**
 * A store that keeps its own books when a root it holds is named, as oras-go's stores do: a layout
 * records the root in `index.json` (untagged when no tag is given), a registry keeps the referrers
 * fallback index of the root's subject current. Stores without it are only tagged.
 */
export interface Publisher {
  publish(root: Descriptor, plan: PublishPlan): Promise<void>;
}

/** Every store `openTarget` gives: a Target that also lists tags and referrers and deletes. */
export type Store = Target & TagLister & ReferrerLister & Deleter;

function has<T>(value: unknown, method: keyof T): value is T {
  return typeof (value as Record<PropertyKey, unknown>)[method as PropertyKey] === "function";
}

export const isRangeFetcher = (source: unknown): source is RangeFetcher =>
  has<RangeFetcher>(source, "fetchFrom");
export const isResumingPusher = (target: unknown): target is ResumingPusher =>
  has<ResumingPusher>(target, "pushFrom");
export const isMounter = (target: unknown): target is Mounter => has<Mounter>(target, "mount");
export const isEntryLister = (target: unknown): target is EntryLister => has<EntryLister>(target, "entries");
export const isBlobDescriber = (target: unknown): target is BlobDescriber =>
  has<BlobDescriber>(target, "describeBlob");
export const isManifestPusher = (target: unknown): target is ManifestPusher =>
  has<ManifestPusher>(target, "pushManifest");
export const isManifestTypeNarrower = (target: unknown): target is ManifestTypeNarrower =>
  has<ManifestTypeNarrower>(target, "acceptManifestTypes");
const isPublisher = (target: unknown): target is Publisher => has<Publisher>(target, "publish");

/**
 * Names `root`, which `target` holds: the store's own bookkeeping when it is a {@link Publisher},
 * else each tag. Every verb that stores a root (push, attach, cp, index, manifest push) ends here.
 */
export async function publish(target: Target, root: Descriptor, plan: PublishPlan): Promise<void> {
  if (isPublisher(target)) await target.publish(root, plan);
  else for (const tag of plan.tags) await target.tag(root, tag);
}
