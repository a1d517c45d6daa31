/**
 * index create: composes an image index from manifests and indexes that live anywhere (the
 * target's own repository or layout, other layouts and layout tars, other registries), copies
 * everything they need into the target, and publishes the index there: in a layout, as one
 * `index.json` entry pointing at the new index (the nested shape every tool reads).
 *
 * Everything is resolved and checked before anything is written; blobs are written before the
 * index, and the index before any tag or `index.json` entry. `index update` shares this code.
 */
import { resolve as resolvePath } from "node:path";
import { fetchManifest, platformOf } from "../content/manifests.ts";
import { fetchFromAny, MemoryStore } from "../content/memory/index.ts";
import { type Fetcher, isMounter, type Target } from "../content/target.ts";
import { bytesStream, digestOf } from "../content/verify.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { isDigest } from "../oci/digest.ts";
import { isIndex, MAX_MANIFEST_BYTES, type Manifest } from "../oci/manifest.ts";
import {
  Annotation,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isValidMediaType,
  MediaType,
} from "../oci/media-types.ts";
import { formatPlatform, type Platform, parsePlatform, samePlatform } from "../oci/platform.ts";
import {
  formatReference,
  LAYOUT_SCHEME,
  parseLayoutReference,
  parseRegistryReference,
  type Reference,
  withDigest,
} from "../oci/reference.ts";
import { formatCreated, isRfc3339 } from "./annotations.ts";
import { copyGraph } from "./copy-graph.ts";
import { ignoreEvents, type Listener } from "./events.ts";
import { orderedDescriptor } from "./push.ts";
import { MAX_INDEX_DEPTH, resolveReference } from "./resolve.ts";

// ---------------------------------------------------------------------------------------------
// Sources

/** One SOURCE argument: where it points, and what its index entry gets on top of what it has. */
export interface IndexSource {
  /** The argument as written; names the source in messages and keys `--platform-for`. */
  text: string;
  ref: Reference;
  /** `--platform-for SOURCE=...`: sets or overrides the entry's platform. */
  platform?: Platform;
  /** `--annotation-for SOURCE=KEY=VALUE` and annotation-file keys: the entry's annotations. */
  annotations?: Record<string, string>;
}

/**
 * Where a SOURCE argument points, relative to the index's own place `target` (ORAS's rule, widened):
 * `oci-layout://PATH[:tag|@digest]` is a layout (directory or tar; no tag means tagless), text with
 * a `/` is a full registry reference, and a bare tag or digest names content in the target's own
 * repository or layout.
 */
export function parseSourceReference(text: string, target: Reference): Reference {
  if (text.startsWith(LAYOUT_SCHEME)) {
    const { tags: _tags, ...ref } = parseLayoutReference(text.slice(LAYOUT_SCHEME.length));
    return ref;
  }
  if (text.includes("/")) {
    try {
      const { tags: _tags, ...ref } = parseRegistryReference(text);
      return ref;
    } catch (error) {
      const problem = error instanceof SkiffError ? error.message : String(error);
      throw new SkiffError(
        "INVALID_REFERENCE",
        `source "${text}" is neither a tag, a digest, nor a registry reference: ${problem}`,
        `write a layout as oci-layout://${text}`,
      );
    }
  }
  const place: Reference =
    target.kind === "registry"
      ? { kind: "registry", registry: target.registry, repository: target.repository }
      : { kind: "layout", path: target.path };
  if (/^[a-z0-9]+:/.test(text)) {
    if (!isDigest(text)) {
      throw new SkiffError("INVALID_REFERENCE", `source "${text}" is not a valid digest`);
    }
    return { ...place, digest: text };
  }
  if (!/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(text)) {
    throw new SkiffError(
      "INVALID_REFERENCE",
      `source "${text}" is not a tag, a digest, or a reference`,
      "a source is TAG or DIGEST in the index's own place, oci-layout://PATH[:tag|@digest], or HOST/REPO:TAG|@DIGEST",
    );
  }
  return { ...place, tag: text };
}

/** Per-source settings from the command line. */
export interface SourceSettings {
  /** `--platform-for SOURCE=os/arch[/variant][:os.version]`, repeatable. */
  platformFor?: readonly string[];
  /** `--annotation-for SOURCE=KEY=VALUE`, repeatable. */
  annotationFor?: readonly string[];
  /** Annotation-file entries keyed by SOURCE text (everything but `$manifest`). */
  fileAnnotations?: Readonly<Record<string, Record<string, string>>>;
  /** Fills in a missing architecture in `--platform-for` (ORAS's rule: the host's). */
  hostArchitecture?: string;
}

/** The one source whose text `value` starts with, followed by `=`; the rest after it. */
function splitBySource(
  value: string,
  texts: readonly string[],
  flag: string,
): { text: string; rest: string } {
  const matches = [...new Set(texts)].filter((text) => value.startsWith(`${text}=`));
  if (matches.length === 1) return { text: matches[0]!, rest: value.slice(matches[0]!.length + 1) };
  if (matches.length === 0) {
    throw new SkiffError(
      "USAGE",
      `${flag} "${value}" names no source`,
      `write ${flag} SOURCE=..., with SOURCE exactly as given on the command line (${texts.map((t) => `"${t}"`).join(", ")})`,
    );
  }
  throw new SkiffError(
    "USAGE",
    `${flag} "${value}" could name several sources: ${matches.map((t) => `"${t}"`).join(", ")}`,
  );
}

/**
 * The sources of an index with their per-source platforms and annotations. Settings that name no
 * source, a platform given twice for one source, or an annotation key set twice are errors.
 */
export function indexSources(
  texts: readonly string[],
  target: Reference,
  settings: SourceSettings = {},
): IndexSource[] {
  const sources = texts.map((text): IndexSource => ({ text, ref: parseSourceReference(text, target) }));
  const byText = (text: string): IndexSource[] => sources.filter((s) => s.text === text);
  for (const value of settings.platformFor ?? []) {
    const { text, rest } = splitBySource(value, texts, "--platform-for");
    const platform = parsePlatform(rest, settings.hostArchitecture);
    for (const source of byText(text)) {
      if (source.platform) throw new SkiffError("USAGE", `--platform-for gives "${text}" two platforms`);
      source.platform = platform;
    }
  }
  const addAnnotation = (text: string, key: string, value: string, where: string): void => {
    for (const source of byText(text)) {
      source.annotations ??= {};
      if (Object.hasOwn(source.annotations, key)) {
        throw new SkiffError("USAGE", `annotation "${key}" of source "${text}" is set twice (${where})`);
      }
      source.annotations[key] = value;
    }
  };
  for (const [text, map] of Object.entries(settings.fileAnnotations ?? {})) {
    if (byText(text).length === 0) {
      throw new SkiffError(
        "USAGE",
        `the annotation file has annotations for "${text}", which is not a source`,
        'keys must be "$manifest" (the index) or a SOURCE exactly as given on the command line',
      );
    }
    for (const [key, value] of Object.entries(map)) addAnnotation(text, key, value, "annotation file");
  }
  for (const value of settings.annotationFor ?? []) {
    const { text, rest } = splitBySource(value, texts, "--annotation-for");
    const eq = rest.indexOf("=");
    if (eq <= 0) {
      throw new SkiffError(
        "USAGE",
        `invalid --annotation-for "${value}": expected SOURCE=KEY=VALUE`,
        `e.g. --annotation-for '${text}=org.opencontainers.image.title=el8'`,
      );
    }
    addAnnotation(text, rest.slice(0, eq), rest.slice(eq + 1), "--annotation-for and annotation file");
  }
  return sources;
}

// ---------------------------------------------------------------------------------------------
// Places

/** Opens the place a reference names; `forWriting` creates a missing layout directory. */
export type OpenPlace = (ref: Reference, forWriting: boolean) => Promise<Target>;

/** Identifies a place (registry repository or layout path) regardless of tag or digest. */
export function placeKey(ref: Reference): string {
  return ref.kind === "registry"
    ? `registry:${ref.registry}/${ref.repository}`
    : `layout:${resolvePath(ref.path)}`;
}

/** An opener that opens each place once (one registry session, one layout object). */
export function cachedOpener(open: OpenPlace): OpenPlace {
  const places = new Map<string, { target: Target; forWriting: boolean }>();
  return async (ref, forWriting) => {
    const key = placeKey(ref);
    const had = places.get(key);
    if (had && (had.forWriting || !forWriting || had.target.writable)) return had.target;
    const target = await open(ref, forWriting);
    places.set(key, { target, forWriting });
    return target;
  };
}

// ---------------------------------------------------------------------------------------------
// Resolving sources into entries

/** A source found and read: its entry in the index and where its content lives. */
export interface ResolvedSource {
  source: IndexSource;
  /** The place the content is copied from. */
  store: Target;
  /** The index entry: mediaType, digest, size, annotations, platform, artifactType. */
  entry: Descriptor;
  manifest: Manifest;
}

function sourceName(source: IndexSource): string {
  return source.text;
}

/** The artifact type an index entry shows: the manifest's, else a non-image config's media type. */
export function entryArtifactType(manifest: Manifest): string | undefined {
  if (manifest.artifactType) return manifest.artifactType;
  if (isIndex(manifest)) return undefined;
  const type = manifest.config.mediaType;
  const plain: string[] = [MediaType.ociConfig, MediaType.dockerConfig, MediaType.ociEmpty];
  return plain.includes(type) ? undefined : type;
}

/**
 * Resolves a source through the one resolver (tags, digests, tagless layouts with candidates listed
 * when ambiguous), checks it is a manifest or index, and builds its entry. The platform is the one
 * given for the source, else the resolved descriptor's, else the one in the manifest's config.
 */
export async function resolveSource(
  source: IndexSource,
  open: OpenPlace,
  listener: Listener = ignoreEvents,
): Promise<ResolvedSource> {
  const name = sourceName(source);
  const store = await open(source.ref, false);
  let desc: Descriptor;
  try {
    desc = (await resolveReference(store, source.ref)).desc;
  } catch (error) {
    if (await isBlob(store, source.ref.digest, error)) {
      throw new SkiffError(
        "INVALID_INPUT",
        `source "${name}" is not a manifest or index: ${source.ref.digest} is a blob in ${store.name}`,
        "an index lists manifests and indexes, not blobs",
      );
    }
    throw sourceError(error, source);
  }
  if (!isManifestMediaType(desc.mediaType)) {
    throw new SkiffError(
      "INVALID_INPUT",
      `source "${name}" is not a manifest or index: ${desc.digest} has media type ${desc.mediaType}`,
      "an index lists manifests and indexes, not blobs",
    );
  }
  listener({ type: "status", prompt: "Fetching", desc, text: name });
  const fetched = await fetchManifest(store, desc, name);
  listener({ type: "status", prompt: "Fetched", desc, text: name });
  const memory = new MemoryStore();
  memory.add(fetched.desc, fetched.bytes);
  let platform = source.platform ?? desc.platform;
  if (!platform && !isIndex(fetched.manifest)) {
    try {
      platform = await platformOf(fetchFromAny(memory, store), plain(desc), name);
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      throw new SkiffError(
        "INVALID_INPUT",
        `cannot read the platform of source "${name}" from its config: ${problem}`,
      );
    }
  }
  const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (source.annotations && Object.keys(source.annotations).length > 0)
    entry.annotations = source.annotations;
  if (platform) entry.platform = platform;
  const artifactType = entryArtifactType(fetched.manifest);
  if (artifactType) entry.artifactType = artifactType;
  return { source, store, entry: orderedDescriptor(entry), manifest: fetched.manifest };
}

/** A store that can look a blob up by digest alone (registries: `HEAD blobs/DIGEST`). */
interface BlobDescriber {
  describeBlob(digest: string): Promise<Descriptor>;
}

/** True when a digest that failed to resolve as a manifest names a blob the store has (to say so). */
async function isBlob(store: Target, digest: string | undefined, error: unknown): Promise<boolean> {
  // Registries answer a blob digest on the manifests endpoint with 404, or (distribution) with 500.
  if (digest === undefined || !(error instanceof SkiffError) || error.code === "UNAUTHORIZED") return false;
  const describer = store as Partial<BlobDescriber>;
  if (typeof describer.describeBlob !== "function") return false;
  try {
    await describer.describeBlob.call(store, digest);
    return true;
  } catch {
    return false;
  }
}

function sourceError(error: unknown, source: IndexSource): unknown {
  if (!(error instanceof SkiffError)) return error;
  const name = sourceName(source);
  if (source.ref.digest && (error.code === "INVALID_MANIFEST" || error.code === "TOO_LARGE")) {
    return new SkiffError(
      "INVALID_INPUT",
      `source "${name}" is not a manifest or index: ${source.ref.digest} looks like a blob (${error.message})`,
      "an index lists manifests and indexes, not blobs",
    );
  }
  if (error.code === "NOT_FOUND" || error.code === "AMBIGUOUS" || error.code === "NO_MATCH") {
    // A source has no --platform of its own: the way out is the digest the listing shows.
    const hint = error.hint?.replace(", or add --platform os/arch[/variant][:os.version]:", ":");
    return new SkiffError(error.code, `source "${name}": ${error.message}`, hint, { cause: error });
  }
  return error;
}

function plain(desc: Descriptor): Descriptor {
  return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** An entry the checks look at, with a label for messages and where its content lives. */
export interface CheckedEntry {
  label: string;
  entry: Descriptor;
  store: Fetcher;
  /** A manifest entry without a platform is an error (new sources; existing entries are kept as they are). */
  requirePlatform: boolean;
  /** The SOURCE text, for hints. */
  sourceText?: string;
}

export interface EntryCheckOptions {
  allowDuplicatePlatforms?: boolean;
  allowMissingPlatform?: boolean;
}

/**
 * The platforms an entry brings into the index: its own, or for a nested index without one, those
 * of the manifests inside it (descriptor, else config), so two entries cannot hide the same platform.
 */
export async function platformsOf(
  store: Fetcher,
  entry: Descriptor,
  where: string,
  path: string[] = [],
): Promise<Platform[]> {
  if (entry.platform) return [entry.platform];
  if (!isIndexMediaType(entry.mediaType)) {
    if (!isImageManifestMediaType(entry.mediaType)) return [];
    const found = await platformOf(store, entry, where).catch(() => undefined);
    return found ? [found] : [];
  }
  if (path.includes(entry.digest) || path.length >= MAX_INDEX_DEPTH) {
    throw new SkiffError(
      "INVALID_MANIFEST",
      `index ${entry.digest} in ${where} nests too deep or contains itself`,
    );
  }
  const { manifest } = await fetchManifest(store, entry, where);
  if (!isIndex(manifest)) return [];
  const out: Platform[] = [];
  for (const child of manifest.manifests) {
    if (isManifestMediaType(child.mediaType)) {
      out.push(...(await platformsOf(store, child, where, [...path, entry.digest])));
    }
  }
  return out;
}

/**
 * Refuses what would make a broken or ambiguous index: the same manifest twice, a manifest
 * without a platform (unless allowed), and two entries with the same platform (unless allowed).
 */
export async function checkEntries(
  entries: readonly CheckedEntry[],
  options: EntryCheckOptions = {},
): Promise<void> {
  const byDigest = new Map<string, CheckedEntry>();
  for (const item of entries) {
    const had = byDigest.get(item.entry.digest);
    if (had) {
      throw new SkiffError(
        "INVALID_INPUT",
        `${had.label} and ${item.label} are the same manifest (${item.entry.digest})`,
        "list each manifest once",
      );
    }
    byDigest.set(item.entry.digest, item);
  }
  if (!options.allowMissingPlatform) {
    for (const item of entries) {
      if (item.requirePlatform && !item.entry.platform && !isIndexMediaType(item.entry.mediaType)) {
        throw new SkiffError(
          "INVALID_INPUT",
          `${item.label} (${item.entry.digest}) has no platform: its descriptor has none and its config carries no os and architecture`,
          `set one with --platform-for '${item.sourceText ?? "SOURCE"}=os/arch[/variant][:os.version]', or pass --allow-missing-platform`,
        );
      }
    }
  }
  if (options.allowDuplicatePlatforms) return;
  const seen: { platform: Platform; item: CheckedEntry }[] = [];
  for (const item of entries) {
    const platforms = await platformsOf(item.store, item.entry, item.label);
    for (const platform of platforms) {
      const other = seen.find((s) => s.item !== item && samePlatform(s.platform, platform));
      if (other) {
        const nested = (i: CheckedEntry): string =>
          i.entry.platform || !isIndexMediaType(i.entry.mediaType) ? "" : " (inside it)";
        const first = formatPlatform(other.platform);
        const second = formatPlatform(platform);
        const names = `${other.item.label}${nested(other.item)} and ${item.label}${nested(item)}`;
        throw new SkiffError(
          "INVALID_INPUT",
          first === second
            ? `${names} both have platform ${first}`
            : `${names} have the same platform: ${first} and ${second}`,
          "a platform-selecting pull could not choose between them; give each its own platform with --platform-for SOURCE=os/arch[/variant][:os.version], or pass --allow-duplicate-platforms",
        );
      }
    }
    for (const platform of platforms) seen.push({ platform, item });
  }
}

/** The check item of a resolved source. */
export function sourceCheck(resolved: ResolvedSource): CheckedEntry {
  return {
    label: `source "${resolved.source.text}"`,
    entry: resolved.entry,
    store: resolved.store,
    requirePlatform: true,
    sourceText: resolved.source.text,
  };
}

/** Checks `--artifact-type` and annotation keys before any work is done. */
export function checkIndexFields(
  artifactType: string | undefined,
  annotations: Record<string, string>,
): void {
  if (artifactType !== undefined && !isValidMediaType(artifactType)) {
    throw new SkiffError(
      "USAGE",
      `invalid artifact type "${artifactType}"`,
      'expected a media type such as "application/vnd.example.thing.v1+json"',
    );
  }
  for (const key of Object.keys(annotations)) {
    if (key === "") throw new SkiffError("USAGE", "an annotation key is empty");
  }
}

/**
 * Index annotations with `org.opencontainers.image.created`: the user's value (RFC 3339 checked),
 * else `created` (a date; `null` omits it; undefined is now).
 */
export function withCreated(
  annotations: Record<string, string>,
  created: string | null | undefined,
  now: () => Date = () => new Date(),
): Record<string, string> {
  const out = { ...annotations };
  const given = out[Annotation.created];
  if (given !== undefined) {
    if (!isRfc3339(given)) {
      throw new SkiffError(
        "USAGE",
        `annotation ${Annotation.created}="${given}" is not an RFC 3339 date-time`,
        "e.g. 2024-05-01T12:00:00Z",
      );
    }
  } else if (created !== null) {
    out[Annotation.created] = created ?? formatCreated(now());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building and publishing

/** An index built in memory. */
export interface BuiltIndex {
  desc: Descriptor;
  bytes: Uint8Array;
  /** The JSON object that was encoded. */
  json: Record<string, unknown>;
}

/** Annotations with keys in sorted order (byte-stable output); undefined when empty. */
export function sortedAnnotations(
  map: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = map[key]!;
  return out;
}

/** Encodes an index object (fields in the order given), checking the 4 MiB manifest limit. */
export function encodeIndex(json: Record<string, unknown>): BuiltIndex {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `the index would be ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : MediaType.ociIndex;
  const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (typeof json.artifactType === "string") desc.artifactType = json.artifactType;
  const annotations = json.annotations as Record<string, string> | undefined;
  if (annotations && Object.keys(annotations).length > 0) desc.annotations = annotations;
  return { desc, bytes, json };
}

/** The fields of a new OCI image index, in the spec's order. */
export function composeIndex(
  entries: readonly Descriptor[],
  fields: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> } = {},
): BuiltIndex {
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociIndex };
  if (fields.artifactType) json.artifactType = fields.artifactType;
  json.manifests = entries.map(orderedDescriptor);
  if (fields.subject) json.subject = plain(fields.subject);
  const annotations = sortedAnnotations(fields.annotations);
  if (annotations) json.annotations = annotations;
  return encodeIndex(json);
}

/** Content to copy into the target before the index is stored. */
export interface GraphToCopy {
  store: Target;
  ref: Reference;
  desc: Descriptor;
  name: string;
}

/** How the published index is named in the target. */
export interface PublishPlan {
  /** Tags to point at the new index. */
  tags: readonly string[];
  /** The index being replaced (update): its untagged `index.json` entries now point at the new one. */
  replaces?: Descriptor;
  /** Move every tag of `replaces` in `index.json` to the new index too (a tagless update of a layout). */
  moveAllTags?: boolean;
  /**
   * Digests whose untagged `index.json` entries the index takes over: sources in the target layout
   * itself, now reachable through the index (so the layout keeps one untagged root).
   */
  absorbs?: readonly string[];
}

/** A layout directory's `index.json` writer (one locked, atomic change). */
interface IndexJsonWriter {
  updateIndex(mutate: (raw: Record<string, unknown>[]) => Record<string, unknown>[] | false): Promise<void>;
}

function isIndexJsonWriter(target: unknown): target is IndexJsonWriter {
  return typeof (target as Partial<IndexJsonWriter>).updateIndex === "function";
}

/** Something that keeps a registry's referrers fallback index current (see ops/attach.ts). */
interface ReferrersIndexUpdater {
  addReferrer(subject: Descriptor, referrer: Descriptor): Promise<void>;
}

function isReferrersIndexUpdater(target: unknown): target is ReferrersIndexUpdater {
  return typeof (target as Partial<ReferrersIndexUpdater>).addReferrer === "function";
}

export interface PublishOptions {
  concurrency?: number;
  listener?: Listener;
}

/**
 * Copies every graph into `target` (leaves first, what it has skipped, blobs of one registry
 * mounted), stores the index, then names it: tags, or in a layout one `index.json` change made
 * under the layout's lock. Nothing names the index before all its content is in place.
 */
export async function publishIndex(
  target: Target,
  targetRef: Reference,
  built: BuiltIndex,
  graphs: readonly GraphToCopy[],
  plan: PublishPlan,
  options: PublishOptions = {},
): Promise<void> {
  if (!target.writable) {
    throw new SkiffError("UNSUPPORTED", `cannot write to ${target.name}: it is read-only`);
  }
  const listener = options.listener ?? ignoreEvents;
  for (const graph of graphs) {
    if (placeKey(graph.ref) === placeKey(targetRef)) continue;
    const copyOptions: Parameters<typeof copyGraph>[3] = {
      concurrency: options.concurrency ?? 3,
      listener,
      sourceName: graph.name,
    };
    const from = graph.ref;
    if (
      isMounter(target) &&
      from.kind === "registry" &&
      targetRef.kind === "registry" &&
      from.registry === targetRef.registry &&
      from.repository !== targetRef.repository
    ) {
      copyOptions.mount = (desc) => target.mount(desc, from.repository);
    }
    await copyGraph(graph.store, target, plain(graph.desc), copyOptions);
  }
  const desc = plain(built.desc);
  listener({ type: "status", prompt: "Packed", desc, text: desc.mediaType });
  if (!(await target.exists(desc))) {
    listener({ type: "start", desc });
    await target.push(desc, bytesStream(built.bytes));
    listener({ type: "done", desc });
  } else {
    listener({ type: "skip", desc, reason: "exists" });
  }
  const subject = built.json.subject as Descriptor | undefined;
  if (subject && target.kind === "registry" && isReferrersIndexUpdater(target)) {
    await target.addReferrer(subject, built.desc);
  }
  if (target.kind === "layout" && isIndexJsonWriter(target)) {
    await target.updateIndex((raw) => layoutEntries(raw, built.desc, plan));
  } else {
    for (const tag of plan.tags) await target.tag(desc, tag);
  }
  for (const tag of plan.tags) listener({ type: "status", prompt: "Tagged", desc, text: tag });
}

function rawRefName(raw: Record<string, unknown>): string | undefined {
  const annotations = raw.annotations as Record<string, unknown> | undefined;
  const name = annotations?.[Annotation.refName];
  return typeof name === "string" ? name : undefined;
}

function entryJson(desc: Descriptor, tag?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (tag !== undefined) out.annotations = { [Annotation.refName]: tag };
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}

/**
 * The new `index.json` entries: the given tags move to the new index; untagged entries of the
 * replaced index (and with `moveAllTags`, its tags) point at the new one; without any tag the new
 * index gets one untagged entry, so a fresh layout resolves without a tag.
 */
export function layoutEntries(
  raw: readonly Record<string, unknown>[],
  desc: Descriptor,
  plan: PublishPlan,
): Record<string, unknown>[] {
  const tags = new Set(plan.tags);
  const old = plan.replaces?.digest;
  const absorbed = new Set(plan.absorbs ?? []);
  const moved = new Set<string>();
  const kept: Record<string, unknown>[] = [];
  for (const item of raw) {
    const name = rawRefName(item);
    if (name !== undefined && tags.has(name)) continue;
    if (name === undefined && (item.digest === desc.digest || absorbed.has(String(item.digest)))) continue;
    if (old !== undefined && item.digest === old) {
      if (name === undefined) continue;
      if (plan.moveAllTags) {
        moved.add(name);
        continue;
      }
    }
    kept.push(item);
  }
  for (const tag of [...tags, ...moved]) kept.push(entryJson(desc, tag));
  const named = kept.some((item) => item.digest === desc.digest);
  if (!named) kept.push(entryJson(desc));
  return kept;
}

// ---------------------------------------------------------------------------------------------
// index create

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
  return { store, desc: plain(desc) };
}

/** Checks the tags an index will get. */
export function checkTags(tags: readonly string[]): void {
  for (const tag of tags) {
    if (!/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(tag)) {
      throw new SkiffError("USAGE", `invalid tag "${tag}": it must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
    }
  }
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
  if (options.sources.length === 0) {
    throw new SkiffError("USAGE", "an index needs at least one source", "e.g. index create TARGET SOURCE...");
  }
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
    const desc = plain(built.desc);
    options.listener?.({ type: "status", prompt: "Packed", desc, text: desc.mediaType });
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

/** `host/repo@digest` or `PATH@digest`, for messages. */
export function pinnedText(ref: Reference, digest: string): string {
  return formatReference(withDigest(ref, digest));
}
