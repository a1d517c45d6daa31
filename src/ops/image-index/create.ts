/**
 * index create: composes an image index from manifests and indexes that live anywhere (the
 * target's own repository or layout, other layouts and layout tars, other registries), copies
 * everything they need into the target, and publishes the index there: in a layout, as one
 * `index.json` entry pointing at the new index (the nested shape every tool reads).
 *
 * Everything is resolved and checked before anything is written; blobs are written before the
 * index, and the index before any tag or `index.json` entry. `index update` (update.ts) shares
 * the sources, entries, checks and compose steps of this folder.
 */
import { ignoreEvents, type Listener } from "../../content/events.ts";
import type { Target } from "../../content/target.ts";
import { SkiffError } from "../../errors.ts";
import { type Descriptor, plainDescriptor } from "../../oci/descriptor.ts";
import { isManifestMediaType } from "../../oci/media-types.ts";
import { type Reference, withDigest } from "../../oci/reference.ts";
import { withCreated } from "../annotations.ts";
import { resolveReference } from "../resolve.ts";
import { checkEntries, checkIndexFields, checkTags, sourceCheck } from "./checks.ts";
import { composeIndex, type GraphToCopy, publishIndex } from "./compose.ts";
import { type ResolvedSource, resolveSource, sourceError } from "./entries.ts";
import { type IndexSource, type OpenPlace, placeKey } from "./sources.ts";

export interface CreateIndexOptions {
  /** Where the index goes (its tag and digest are ignored: see `tags`). */
  target: Reference;
  /** Tags for the index (`TARGET:t1,t2`); none pushes by digest, or in a layout, one untagged entry. */
  tags?: readonly string[];
  sources: readonly IndexSource[];
  open: OpenPlace;
  /** The index's `artifactType`. */
  artifactType?: string;
  /** Index annotations (`-a`, the annotation file's `$manifest`). */
  annotations?: Record<string, string>;
  /** `org.opencontainers.image.created`: a date, `null` to omit, undefined for now. */
  created?: string | null;
  /** `--subject`: makes the index a referrer of this manifest (copied into the target too). */
  subject?: IndexSource;
  allowDuplicatePlatforms?: boolean;
  allowMissingPlatform?: boolean;
  /** False: build and check only (`-o`): nothing is copied, pushed or tagged. */
  publish?: boolean;
  concurrency?: number;
  listener?: Listener;
}

/** What `index create` and `index update` made. */
export interface IndexResult {
  /** The index descriptor, with its `artifactType` and annotations. */
  desc: Descriptor;
  bytes: Uint8Array;
  json: Record<string, unknown>;
  /** The target pinned to the index's digest. */
  pinned: Reference;
  tags: string[];
  published: boolean;
}

async function resolveAll(
  sources: readonly IndexSource[],
  open: OpenPlace,
  listener: Listener,
): Promise<ResolvedSource[]> {
  const out: ResolvedSource[] = [];
  for (const source of sources) out.push(await resolveSource(source, open, listener));
  return out;
}

/** The subject of an index: resolved like a source, referenced by mediaType, digest and size. */
async function resolveSubject(
  subject: IndexSource,
  open: OpenPlace,
): Promise<{ store: Target; desc: Descriptor }> {
  const store = await open(subject.ref, false);
  let desc: Descriptor;
  try {
    desc = (await resolveReference(store, subject.ref)).desc;
  } catch (error) {
    throw sourceError(error, { ...subject, text: `--subject ${subject.text}` });
  }
  if (!isManifestMediaType(desc.mediaType)) {
    throw new SkiffError(
      "INVALID_INPUT",
      `subject "${subject.text}" is ${desc.mediaType}, not a manifest or index`,
    );
  }
  return { store, desc: plainDescriptor(desc) };
}

/** Opens the place the index is written to (created when it is a missing layout directory). */
export async function openForWriting(open: OpenPlace, ref: Reference): Promise<Target> {
  const target = await open(ref, true);
  if (!target.writable) {
    throw new SkiffError(
      "UNSUPPORTED",
      `cannot write the index to ${target.name}: layout tar archives are read-only`,
      "write to a layout directory, then tar it; or pass -o FILE to write the index JSON",
    );
  }
  return target;
}

/**
 * Creates an image index from `sources` and publishes it to `target` (unless `publish` is false).
 * Each source is resolved and read, the entries are checked (same manifest twice, missing or
 * duplicate platforms), then each source's graph is copied into the target, the index is stored,
 * and finally it is tagged (in a layout: one `index.json` entry).
 */
export async function createIndex(options: CreateIndexOptions): Promise<IndexResult> {
  const listener = options.listener ?? ignoreEvents;
  const tags = [...(options.tags ?? [])];
  checkTags(tags);
  const annotations = withCreated(options.annotations ?? {}, options.created);
  checkIndexFields(options.artifactType, annotations);
  const publish = options.publish ?? true;
  const resolved = await resolveAll(options.sources, options.open, listener);
  const subject = options.subject ? await resolveSubject(options.subject, options.open) : undefined;
  await checkEntries(
    resolved.map((r) => sourceCheck(r)),
    options,
  );
  const fields: Parameters<typeof composeIndex>[1] = { annotations };
  if (options.artifactType) fields.artifactType = options.artifactType;
  if (subject) fields.subject = subject.desc;
  const built = composeIndex(
    resolved.map((r) => r.entry),
    fields,
  );
  if (publish) {
    const target = await openForWriting(options.open, options.target);
    const graphs: GraphToCopy[] = resolved.map((r) => ({
      store: r.store,
      ref: r.source.ref,
      desc: r.entry,
      name: r.source.text,
    }));
    if (subject && options.subject) {
      graphs.push({
        store: subject.store,
        ref: options.subject.ref,
        desc: subject.desc,
        name: options.subject.text,
      });
    }
    const here = placeKey(options.target);
    const absorbs = resolved.filter((r) => placeKey(r.source.ref) === here).map((r) => r.entry.digest);
    await publishIndex(target, options.target, built, graphs, { tags, absorbs }, options);
  } else {
    // Written elsewhere (-o): the index is still made.
    const desc = plainDescriptor(built.desc);
    listener({ type: "status", prompt: "Packed", desc, text: desc.mediaType });
  }
  return {
    desc: built.desc,
    bytes: built.bytes,
    json: built.json,
    pinned: withDigest(options.target, built.desc.digest),
    tags,
    published: publish,
  };
}
