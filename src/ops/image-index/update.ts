/**
 * index update: a new version of an existing index with entries removed (`--remove`), the entries
 * of other indexes merged in (`--merge`), sources added (`--add`), and its artifact type and
 * annotations changed. Same source rules and checks as index create (shared code in
 * this folder). Fields skiff does not know are kept as they are.
 */

import { ignoreEvents } from "../../content/events.ts";
import { fetchManifest, platformOf } from "../../content/manifests.ts";
import type { Target } from "../../content/target.ts";
import { SkiffError } from "../../errors.ts";
import { type Descriptor, isObject, orderedDescriptor, sortedMap } from "../../oci/descriptor.ts";
import { isDigest } from "../../oci/digest.ts";
import { decodeJson, type ImageIndex, isIndex } from "../../oci/manifest.ts";
import { isIndexMediaType, MediaType } from "../../oci/media-types.ts";
import { formatPlatform } from "../../oci/platform.ts";
import { formatReference, type Reference, withDigest } from "../../oci/reference.ts";
import { resolveReference } from "../resolve.ts";
import { type CheckedEntry, checkEntries, checkIndexFields, checkTags, sourceCheck } from "./checks.ts";
import { encodeIndex, type GraphToCopy, publishIndex } from "./compose.ts";
import { type CreateIndexOptions, type IndexResult, openForWriting } from "./create.ts";
import { type ResolvedSource, resolveSource } from "./entries.ts";
import { type IndexSource, parseSourceReference } from "./sources.ts";

interface UpdateIndexOptions
  extends Pick<
    CreateIndexOptions,
    "open" | "allowDuplicatePlatforms" | "allowMissingPlatform" | "publish" | "concurrency" | "listener"
  > {
  /** The index to update: a tag, a digest, or (in a layout) nothing when unambiguous. */
  index: Reference;
  /** Every tag of `INDEX:t1,t2`: they move to the updated index (other tags stay on the old one). */
  indexTags?: readonly string[];
  /** `--tag`: more tags for the updated index. */
  tags?: readonly string[];
  /** `--add SOURCE`: sources resolved like index create's. */
  add?: readonly IndexSource[];
  /** `--merge INDEX`: indexes whose entries are added (entries already present are kept once). */
  merge?: readonly IndexSource[];
  /** `--remove`: digests (or sources resolving to them) of entries to drop; each must be in the index. */
  remove?: readonly string[];
  /** `--artifact-type`: replaces the index's artifact type; `""` removes it. */
  artifactType?: string;
  /** `-a`: index annotations added or replaced (the others are kept). */
  annotations?: Record<string, string>;
}

/** What `index update` made, plus the index it replaced. */
interface UpdateResult extends IndexResult {
  previous: Descriptor;
}

function refuseDockerList(options: UpdateIndexOptions, where: string): void {
  const problems: string[] = [];
  if (Object.keys(options.annotations ?? {}).length > 0) problems.push("index annotations");
  if (options.artifactType !== undefined) problems.push("an artifact type");
  for (const source of options.add ?? []) {
    if (Object.keys(source.annotations ?? {}).length > 0) problems.push(`annotations for "${source.text}"`);
  }
  if (problems.length > 0) {
    throw new SkiffError(
      "UNSUPPORTED",
      `${where} is a Docker manifest list, which cannot carry ${problems.join(", ")}`,
      "skiff refuses rather than drop them; compose an OCI index with index create instead",
    );
  }
}

/** Resolves `--remove` values to digests: a digest as is, anything else as a source. */
async function removedDigests(options: UpdateIndexOptions, listener = ignoreEvents): Promise<Set<string>> {
  const out = new Set<string>();
  for (const value of options.remove ?? []) {
    if (isDigest(value)) {
      out.add(value);
      continue;
    }
    try {
      const source: IndexSource = { text: value, ref: parseSourceReference(value, options.index) };
      out.add((await resolveSource(source, options.open, listener)).entry.digest);
    } catch (error) {
      if (!(error instanceof SkiffError)) throw error;
      // ORAS takes digests only; skiff also takes a tag, and says both when neither works.
      throw new SkiffError(
        error.code,
        `--remove "${value}" is not a digest, and not a tag or reference skiff can resolve: ${error.message}`,
        "give the digest of the entry to remove (skiff manifest fetch shows the index)",
        { cause: error },
      );
    }
  }
  return out;
}

/** True when the options ask for any change (else there is nothing to update). */
export function requestsChange(options: Omit<UpdateIndexOptions, "index" | "open">): boolean {
  return (
    (options.add?.length ?? 0) +
      (options.merge?.length ?? 0) +
      (options.remove?.length ?? 0) +
      Object.keys(options.annotations ?? {}).length +
      (options.artifactType === undefined ? 0 : 1) +
      (options.tags?.length ?? 0) >
    0
  );
}

/** The fields of an index in the spec's order, then any others it had (kept as they were). */
function specOrder(json: Record<string, unknown>): Record<string, unknown> {
  const order = ["schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations"];
  const out: Record<string, unknown> = {};
  for (const key of order) if (json[key] !== undefined) out[key] = json[key];
  for (const [key, value] of Object.entries(json)) if (!(key in out)) out[key] = value;
  return out;
}

/**
 * Updates the index `options.index` names and publishes the result to the same place (unless
 * `publish` is false). In a layout, untagged `index.json` entries of the old index point at the new
 * one; a tagless update moves the old index's tags too; `INDEX:tag` moves that tag.
 */
export async function updateIndex(options: UpdateIndexOptions): Promise<UpdateResult> {
  const listener = options.listener ?? ignoreEvents;
  const where = formatReference(options.index);
  const moreTags = [...(options.tags ?? [])];
  checkTags(moreTags);
  const removeArtifactType = options.artifactType === "";
  checkIndexFields(removeArtifactType ? undefined : options.artifactType, options.annotations ?? {});
  if (!requestsChange(options)) {
    throw new SkiffError(
      "USAGE",
      "nothing to update",
      "give --add, --merge, --remove, --artifact-type, -a or --tag",
    );
  }

  const store = await options.open(options.index, false);
  let resolved: Awaited<ReturnType<typeof resolveReference>>;
  try {
    resolved = await resolveReference(store, options.index);
  } catch (error) {
    if (error instanceof SkiffError && error.code === "NOT_FOUND") {
      // "could not find" is the phrase ORAS prints and scripts look for.
      throw new SkiffError(error.code, `could not find the index ${where}: ${error.message}`, error.hint, {
        cause: error,
      });
    }
    throw error;
  }
  const previous = resolved.desc;
  if (!isIndexMediaType(previous.mediaType)) {
    throw new SkiffError(
      "INVALID_INPUT",
      `${where} is not an index: it is ${previous.mediaType}`,
      "index update changes an image index; to make one, use index create",
    );
  }
  listener({ type: "status", prompt: "Fetching", desc: previous, text: where });
  const fetched = await fetchManifest(store, previous, where);
  listener({ type: "status", prompt: "Fetched", desc: previous, text: where });
  const index = fetched.manifest as ImageIndex;
  const raw = decodeJson(fetched.bytes, where) as Record<string, unknown>;
  const rawEntries = Array.isArray(raw.manifests) ? (raw.manifests as unknown[]) : [];
  const isDockerList = (raw.mediaType ?? previous.mediaType) === MediaType.dockerManifestList;
  if (isDockerList) refuseDockerList(options, where);

  // Remove.
  const removed = await removedDigests(options, listener);
  for (const digest of removed) {
    if (!index.manifests.some((entry) => entry.digest === digest)) {
      const listed = index.manifests
        .map((e) => `  ${e.digest} ${e.mediaType}${e.platform ? ` ${formatPlatform(e.platform)}` : ""}`)
        .join("\n");
      throw new SkiffError(
        "NOT_FOUND",
        `cannot remove ${digest}: it does not exist in the index ${where}`,
        listed ? `the index lists:\n${listed}` : "the index is empty",
      );
    }
  }
  const kept: { entry: Descriptor; raw: unknown }[] = [];
  index.manifests.forEach((entry, i) => {
    if (!removed.has(entry.digest)) kept.push({ entry, raw: rawEntries[i] });
  });
  // One Removed line per --remove, in the order given (ORAS), however often the index lists it.
  for (const digest of removed) {
    const entry = index.manifests.find((candidate) => candidate.digest === digest)!;
    listener({ type: "status", prompt: "Removed", desc: entry });
  }
  const checks: CheckedEntry[] = kept.map(({ entry }) => ({
    label: `entry ${entry.digest} of ${where}`,
    entry,
    store,
    requirePlatform: false,
  }));
  const graphs: GraphToCopy[] = [];

  // Add.
  const added: ResolvedSource[] = [];
  for (const source of options.add ?? []) added.push(await resolveSource(source, options.open, listener));
  for (const item of added) {
    listener({ type: "status", prompt: "Added", desc: item.entry, text: item.source.text });
    checks.push(sourceCheck(item));
    graphs.push({ store: item.store, ref: item.source.ref, desc: item.entry, name: item.source.text });
  }

  // Merge.
  const present = new Set([...kept, ...added].map((k) => k.entry.digest));
  const merged: Descriptor[] = [];
  for (const source of options.merge ?? []) {
    const other = await resolveSource(source, options.open, listener);
    if (!isIndex(other.manifest)) {
      throw new SkiffError(
        "INVALID_INPUT",
        `--merge "${source.text}" is not an index: it is ${other.entry.mediaType}`,
      );
    }
    listener({ type: "status", prompt: "Merged", desc: other.entry, text: source.text });
    for (const child of other.manifest.manifests) {
      if (present.has(child.digest)) continue;
      present.add(child.digest);
      let entry = child;
      if (!entry.platform && !isIndexMediaType(entry.mediaType)) {
        const platform = await platformOf(other.store, child, source.text).catch(() => undefined);
        if (platform) entry = { ...entry, platform };
      }
      entry = orderedDescriptor(entry);
      merged.push(entry);
      checks.push({
        label: `entry ${child.digest} of "${source.text}"`,
        entry,
        store: other.store,
        requirePlatform: false,
      });
      graphs.push({ store: other.store, ref: source.ref, desc: entry, name: source.text });
    }
  }

  await checkEntries(checks, options);

  const stripForDocker = (entry: Descriptor): Descriptor => {
    if (!isDockerList) return entry;
    if (entry.annotations && Object.keys(entry.annotations).length > 0) {
      throw new SkiffError(
        "UNSUPPORTED",
        `${where} is a Docker manifest list: entry ${entry.digest} has annotations it cannot carry`,
        "skiff refuses rather than drop them",
      );
    }
    const { artifactType: _type, ...rest } = entry;
    return rest;
  };
  const json: Record<string, unknown> = { ...raw };
  if (removeArtifactType) delete json.artifactType;
  else if (options.artifactType !== undefined) json.artifactType = options.artifactType;
  json.manifests = [
    ...kept.map((k) => (isObject(k.raw) ? k.raw : orderedDescriptor(k.entry))),
    ...added.map((a) => stripForDocker(a.entry)),
    ...merged.map(stripForDocker),
  ];
  if (Object.keys(options.annotations ?? {}).length > 0) {
    const existing = isObject(raw.annotations) ? (raw.annotations as Record<string, string>) : {};
    json.annotations = sortedMap({ ...existing, ...options.annotations });
  }
  const built = encodeIndex(specOrder(json));
  listener({ type: "status", prompt: "Updated", desc: built.desc });

  const refTags = options.index.tag ? [...new Set([options.index.tag, ...(options.indexTags ?? [])])] : [];
  const tags = [...new Set([...refTags, ...moreTags])];
  const publish = options.publish ?? true;
  if (publish) {
    const target: Target = await openForWriting(options.open, options.index);
    await publishIndex(
      target,
      options.index,
      built,
      graphs,
      { tags, replaces: previous, moveAllTags: resolved.how === "tagless" },
      options,
    );
  }
  return {
    desc: built.desc,
    bytes: built.bytes,
    json: built.json,
    pinned: withDigest(options.index, built.desc.digest),
    tags,
    published: publish,
    previous,
  };
}
