/** The two small files of an OCI image layout: `oci-layout` and `index.json`. */
import { SkiffError } from "../../errors.ts";
import {
  type Descriptor,
  entryDescriptor,
  isObject,
  parseDescriptor,
  sortedMap,
  withoutRefName,
} from "../../oci/descriptor.ts";
import { Annotation, MediaType } from "../../oci/media-types.ts";
import type { PublishPlan } from "../target.ts";

const LAYOUT_VERSION = "1.0.0";
export const OCI_LAYOUT_FILE = "oci-layout";
export const INDEX_FILE = "index.json";

/** `index.json`: the entries skiff understands plus the raw JSON, so rewrites keep unknown fields. */
export interface LayoutIndex {
  /** Top-level fields other than `manifests` (schemaVersion, mediaType, annotations, ...). */
  fields: Record<string, unknown>;
  /** Entries as parsed descriptors, in file order; entries skiff cannot read are left out. */
  entries: Descriptor[];
  /** Every entry as raw JSON, in file order (`raw[i]` for entries that parsed is `entries[j]`'s source). */
  raw: Record<string, unknown>[];
}

function invalidLayout(file: string, problem: string, hint?: string): never {
  throw new SkiffError("INVALID_LAYOUT", `${file}: ${problem}`, hint);
}

function decodeJsonFile(bytes: Uint8Array, file: string): unknown {
  if (bytes.byteLength === 0) invalidLayout(file, "empty file");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return invalidLayout(file, "not UTF-8 text");
  }
  if (text.trim() === "") invalidLayout(file, "empty file");
  try {
    return JSON.parse(text);
  } catch (error) {
    return invalidLayout(file, `not valid JSON (${(error as Error).message})`);
  }
}

/** Validates the `oci-layout` file: `{"imageLayoutVersion":"1.0.0"}`. */
export function checkOciLayout(bytes: Uint8Array, file: string): void {
  const json = decodeJsonFile(bytes, file);
  if (!isObject(json)) invalidLayout(file, "must be a JSON object");
  const version = json.imageLayoutVersion;
  if (version !== LAYOUT_VERSION) {
    invalidLayout(
      file,
      `imageLayoutVersion is ${JSON.stringify(version)}, skiff reads version ${LAYOUT_VERSION}`,
    );
  }
}

/** Parses and validates `index.json`; errors name the file and the field. */
export function parseLayoutIndex(bytes: Uint8Array, file: string): LayoutIndex {
  const json = decodeJsonFile(bytes, file);
  if (!isObject(json)) invalidLayout(file, "must be a JSON object (an OCI image index)");
  if (json.schemaVersion !== 2) {
    invalidLayout(file, `schemaVersion must be 2, got ${JSON.stringify(json.schemaVersion)}`);
  }
  if (json.mediaType !== undefined && json.mediaType !== MediaType.ociIndex) {
    invalidLayout(file, `mediaType must be ${MediaType.ociIndex}, got ${JSON.stringify(json.mediaType)}`);
  }
  if (!Array.isArray(json.manifests)) invalidLayout(file, "manifests must be an array");
  const { manifests, ...fields } = json;
  const entries: Descriptor[] = [];
  const raw: Record<string, unknown>[] = [];
  (manifests as unknown[]).forEach((item, i) => {
    try {
      entries.push(parseDescriptor(item, `manifests[${i}]`));
    } catch (error) {
      // A digest algorithm skiff cannot compute (e.g. blake3) is not the layout's fault: skip the entry.
      const message = (error as Error).message;
      if (!(error instanceof SkiffError && /unsupported digest algorithm/.test(message))) {
        invalidLayout(file, message);
      }
    }
    raw.push(item as Record<string, unknown>);
  });
  return { fields, entries, raw };
}

/** The tag of an entry (`org.opencontainers.image.ref.name`), if any. */
export function refNameOf(desc: Descriptor): string | undefined {
  return desc.annotations?.[Annotation.refName];
}

/**
 * How a stored ref name matches a tag: `exact`, or `suffix` for a full name such as
 * `registry.example/repo:1.0` matching `1.0`; false otherwise.
 */
export function matchTag(refName: string | undefined, tag: string): "exact" | "suffix" | false {
  if (refName === undefined) return false;
  if (refName === tag) return "exact";
  if (refName.endsWith(`:${tag}`)) {
    const name = refName.slice(0, -tag.length - 1);
    // `name` must look like a repository name, not a digest algorithm or another tag.
    if (name.includes("/") || /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) return "suffix";
  }
  return false;
}

/** The tag of a raw `index.json` entry, if any. */
export function rawRefName(raw: Record<string, unknown>): string | undefined {
  const annotations = raw.annotations;
  if (isObject(annotations) && typeof annotations[Annotation.refName] === "string") {
    return annotations[Annotation.refName] as string;
  }
  return undefined;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Entries in skiff's stable order: tagged ones first, by ref name, then untagged ones, by digest.
 * ORAS writes tagged entries before untagged ones too, so `.manifests[0]` of a layout with a tag
 * and its referrers is a tagged manifest with either tool.
 */
function sortRawEntries(raw: Record<string, unknown>[]): Record<string, unknown>[] {
  return [...raw].sort((a, b) => {
    const [tagA, tagB] = [rawRefName(a), rawRefName(b)];
    if ((tagA === undefined) !== (tagB === undefined)) return tagA === undefined ? 1 : -1;
    return compare(tagA ?? "", tagB ?? "") || compare(String(a.digest), String(b.digest));
  });
}

/** Serializes `index.json` deterministically: fields kept, entries sorted, one trailing newline. */
export function serializeLayoutIndex(
  fields: Record<string, unknown>,
  raw: Record<string, unknown>[],
): Uint8Array {
  const { schemaVersion: _s, mediaType: _m, ...rest } = fields;
  const json = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: sortRawEntries(raw),
    ...rest,
  };
  return new TextEncoder().encode(`${JSON.stringify(json)}\n`);
}

/** The raw JSON of a descriptor as it is stored in `index.json`. */
function descriptorJson(desc: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (desc.urls) out.urls = desc.urls;
  if (desc.annotations && Object.keys(desc.annotations).length > 0) out.annotations = desc.annotations;
  if (desc.data !== undefined) out.data = desc.data;
  if (desc.platform) out.platform = desc.platform;
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}

/** An empty `index.json` for a new layout. */
export function emptyLayoutIndex(): Uint8Array {
  return serializeLayoutIndex({}, []);
}

export function ociLayoutBytes(): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`);
}

/**
 * The `index.json` entries after `root` is published (see Publisher): each tag moves to the root;
 * untagged entries of the replaced manifest and of absorbed digests go (with `moveAllTags`, the
 * replaced manifest's tags move too); a tagged root loses its untagged entry, and a root left
 * without any entry gets an untagged one (with the root's annotations, less a ref name).
 * False when nothing changes.
 */
export function publishedEntries(
  raw: readonly Record<string, unknown>[],
  root: Descriptor,
  plan: PublishPlan,
): Record<string, unknown>[] | false {
  const tags = new Set(plan.tags);
  const moved = new Set<string>();
  const replaced = plan.replaces?.digest === root.digest ? undefined : plan.replaces?.digest;
  const absorbed = new Set((plan.absorbs ?? []).filter((digest) => digest !== root.digest));
  let kept: Record<string, unknown>[] = [];
  for (const item of raw) {
    const name = rawRefName(item);
    if (name !== undefined && tags.has(name)) continue;
    if (name === undefined && absorbed.has(String(item.digest))) continue;
    if (replaced !== undefined && item.digest === replaced) {
      if (name === undefined) continue;
      if (plan.moveAllTags) {
        moved.add(name);
        continue;
      }
    }
    kept.push(item);
  }
  const names = new Set([...tags, ...moved]);
  if (names.size > 0) {
    kept = kept.filter((item) => !(item.digest === root.digest && rawRefName(item) === undefined));
    for (const tag of names) {
      // The root's own annotations stay on its tagged entries, as on an untagged one (and in ORAS).
      const annotations = sortedMap({ ...withoutRefName(root).annotations, [Annotation.refName]: tag });
      kept.push(descriptorJson({ ...entryDescriptor(root), annotations }));
    }
  } else if (!kept.some((item) => item.digest === root.digest)) {
    kept.push(descriptorJson(withoutRefName(root)));
  }
  const unchanged = kept.length === raw.length && kept.every((item, i) => item === raw[i]);
  return unchanged ? false : kept;
}
