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
export interface Pusher {
  push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void>;
}

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
export interface ResumingPusher {
  pushFrom(desc: Descriptor, open: (offset: number) => Promise<Opened>): Promise<void>;
}

export interface Storage extends Fetcher, Pusher {
  exists(desc: Descriptor): Promise<boolean>;
}

/** Resolves a tag or digest (never tagless: see ops/resolve.ts) to the manifest descriptor. */
export interface Resolver {
  resolve(reference: string): Promise<Descriptor>;
}

/** Points a tag at a manifest that the target already holds. */
export interface Tagger {
  tag(desc: Descriptor, tag: string): Promise<void>;
}

/** Every place content lives: a registry repository, a layout directory or a layout tar. */
export interface Target extends Storage, Resolver, Tagger {
  readonly kind: "registry" | "layout";
  /** How messages name this place: `host/repo` or the layout path. */
  readonly name: string;
  /** False for layout tar archives, which skiff reads but never writes. */
  readonly writable: boolean;
  /** Tags in lexical order, starting after `last` when given. */
  tags(last?: string): AsyncIterable<string>;
  /** Referrers of `subject` (manifests whose `subject` is it), optionally of one artifact type. */
  referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]>;
  /** Removes a manifest or blob. */
  delete(desc: Descriptor): Promise<void>;
}

/** A layout's `index.json` entries: the candidates of a tagless resolve. */
export interface EntryLister {
  entries(): Promise<Descriptor[]>;
}

/** A store that can take a blob from another repository on the same registry without upload. */
export interface Mounter {
  mount(desc: Descriptor, fromRepository: string): Promise<boolean>;
}

export function isEntryLister(target: unknown): target is EntryLister {
  return typeof (target as Partial<EntryLister>).entries === "function";
}

export function isMounter(target: unknown): target is Mounter {
  return typeof (target as Partial<Mounter>).mount === "function";
}

export function isRangeFetcher(source: unknown): source is RangeFetcher {
  return typeof (source as Partial<RangeFetcher>).fetchFrom === "function";
}

export function isResumingPusher(target: unknown): target is ResumingPusher {
  return typeof (target as Partial<ResumingPusher>).pushFrom === "function";
}
