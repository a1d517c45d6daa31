import { SkiffError } from "../errors.ts";
import { type Digest, parseDigest } from "./digest.ts";
import { Annotation, isLenientMediaType } from "./media-types.ts";
import { type Platform, parsePlatformObject } from "./platform.ts";

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(where: string, problem: string): never {
  throw new SkiffError("INVALID_MANIFEST", `${where}: ${problem}`);
}

/** Reads a string-to-string map such as `annotations`; `where` names the field in errors. */
export function parseStringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(where, "must be an object of strings");
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") fail(`${where}.${key}`, "must be a string");
  }
  return value as Record<string, string>;
}

/** Validates one descriptor, naming the offending field (e.g. `manifests[2].digest`). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) fail(where, "must be an object");
  const { mediaType, digest, size, urls, data, artifactType } = value;
  if (typeof mediaType !== "string" || !isLenientMediaType(mediaType)) {
    fail(`${where}.mediaType`, `invalid media type ${JSON.stringify(mediaType)}`);
  }
  if (typeof digest !== "string") fail(`${where}.digest`, "missing");
  try {
    parseDigest(digest);
  } catch (error) {
    fail(`${where}.digest`, (error as Error).message);
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    fail(`${where}.size`, `must be a non-negative integer, got ${JSON.stringify(size)}`);
  }
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== "string"))) {
    fail(`${where}.urls`, "must be an array of strings");
  }
  if (data !== undefined && typeof data !== "string") fail(`${where}.data`, "must be base64 text");
  if (artifactType !== undefined && (typeof artifactType !== "string" || !isLenientMediaType(artifactType))) {
    fail(`${where}.artifactType`, `invalid media type ${JSON.stringify(artifactType)}`);
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  if (urls !== undefined) descriptor.urls = urls as string[];
  const annotations = parseStringMap(value.annotations, `${where}.annotations`);
  if (annotations !== undefined) descriptor.annotations = annotations;
  if (data !== undefined) descriptor.data = data;
  if (value.platform !== undefined)
    descriptor.platform = parsePlatformObject(value.platform, `${where}.platform`);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  return descriptor;
}

/** Only what identifies content: media type, digest and size (a subject, a pushed manifest). */
export function plainDescriptor(desc: Descriptor): Descriptor {
  return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
}

/**
 * What names a manifest in an `index.json` entry, a tag or a referrers list: the plain descriptor
 * with its platform and artifact type, no annotations.
 */
export function entryDescriptor(desc: Descriptor, artifactType = desc.artifactType): Descriptor {
  const out = plainDescriptor(desc);
  if (desc.platform) out.platform = desc.platform;
  if (artifactType) out.artifactType = artifactType;
  return out;
}

/** The descriptor without its tag annotation (`org.opencontainers.image.ref.name`). */
export function withoutRefName(desc: Descriptor): Descriptor {
  if (!desc.annotations || !(Annotation.refName in desc.annotations)) return desc;
  const { [Annotation.refName]: _tag, ...annotations } = desc.annotations;
  const out: Descriptor = { ...desc };
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  else delete out.annotations;
  return out;
}

/** A string map with its keys in sorted order (byte-stable JSON); undefined when empty. */
export function sortedMap(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = map[key]!;
  return out;
}

/** A descriptor's fields in the spec's order, annotations sorted (so manifests are byte-stable). */
export function orderedDescriptor(desc: Descriptor): Descriptor {
  const out = plainDescriptor(desc);
  if (desc.urls) out.urls = desc.urls;
  const annotations = sortedMap(desc.annotations);
  if (annotations) out.annotations = annotations;
  if (desc.data !== undefined) out.data = desc.data;
  if (desc.platform) out.platform = desc.platform;
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}
