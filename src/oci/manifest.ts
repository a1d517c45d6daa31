import { SkiffError } from "../errors.ts";
import { type Descriptor, isObject, parseDescriptor, parseStringMap, plainDescriptor } from "./descriptor.ts";
import {
  isImageManifestMediaType,
  isIndexMediaType,
  isLenientMediaType,
  isManifestMediaType,
  MediaType,
} from "./media-types.ts";
import { type Platform, parsePlatformObject } from "./platform.ts";

/** Manifests are the only content held whole in memory; this caps them (ORAS's limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** How deep manifests may nest (indexes in indexes, a followed subject); deeper graphs are hostile. */
export const MAX_MANIFEST_DEPTH = 32;

/** How long a chain of referrers of referrers may be; longer is a loop or an attack. */
export const MAX_REFERRER_DEPTH = 64;

/** An OCI image manifest or Docker v2 schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/**
 * The OCI artifact manifest of image-spec 1.1.0-rc2: `blobs` instead of a config and layers, and
 * no schemaVersion. The final spec dropped it; ORAS 1.0 wrote it, so registries still hold some.
 */
interface ArtifactManifest {
  mediaType: typeof MediaType.ociArtifactManifest;
  artifactType?: string;
  blobs: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex | ArtifactManifest;

export function isIndex(manifest: Manifest): manifest is ImageIndex {
  return "manifests" in manifest;
}

/** The artifact type of a manifest as referrers lists show it: its own, else its config's media type. */
export function artifactTypeOf(manifest: Manifest): string | undefined {
  return (
    manifest.artifactType ??
    (isIndex(manifest) || "blobs" in manifest ? undefined : manifest.config.mediaType)
  );
}

/** The descriptor a referrers list shows for a manifest: plain, its artifact type and annotations. */
export function referrerDescriptor(desc: Descriptor, manifest: Manifest): Descriptor {
  const out = plainDescriptor(desc);
  const type = artifactTypeOf(manifest);
  if (type) out.artifactType = type;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0)
    out.annotations = manifest.annotations;
  return out;
}

/** The blobs a (non-index) manifest holds: config and layers, or an artifact manifest's blobs. */
export function contentOf(manifest: ImageManifest | ArtifactManifest): Descriptor[] {
  return "blobs" in manifest ? manifest.blobs : [manifest.config, ...manifest.layers];
}

function invalid(source: string, problem: string): never {
  throw new SkiffError("INVALID_MANIFEST", `invalid manifest ${source}: ${problem}`);
}

/** Decodes UTF-8 JSON strictly: bytes that are not UTF-8 are an error, not replacement characters. */
export function decodeJson(bytes: Uint8Array, source: string): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return invalid(source, "not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return invalid(source, `not valid JSON (${(error as Error).message})`);
  }
}

function parseDescriptors(value: unknown, field: string, source: string): Descriptor[] {
  if (!Array.isArray(value)) invalid(source, `${field} must be an array`);
  return (value as unknown[]).map((item, i) => parseDescriptor(item, `${source} ${field}[${i}]`));
}

/**
 * Parses manifest bytes of the given media type (from the descriptor or Content-Type).
 * `source` names the manifest in errors (a reference or digest).
 */
export function parseManifest(bytes: Uint8Array, mediaType: string, source: string): Manifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `manifest ${source} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
    );
  }
  const json = decodeJson(bytes, source);
  if (!isObject(json)) invalid(source, "must be a JSON object");
  if (json.mediaType === MediaType.ociArtifactManifest || mediaType === MediaType.ociArtifactManifest) {
    return parseArtifactManifest(json, mediaType, source);
  }
  if (json.schemaVersion !== 2)
    invalid(source, `schemaVersion must be 2, got ${JSON.stringify(json.schemaVersion)}`);
  const declared = json.mediaType;
  if (declared !== undefined) {
    if (typeof declared !== "string") invalid(source, "mediaType must be a string");
    if (declared !== mediaType && isManifestMediaType(mediaType)) {
      invalid(source, `mediaType "${declared}" contradicts the expected "${mediaType}"`);
    }
  }
  const type = (declared as string | undefined) ?? mediaType;
  const common: { mediaType?: string; artifactType?: string; annotations?: Record<string, string> } = {};
  if (declared !== undefined) common.mediaType = declared as string;
  if (json.artifactType !== undefined) {
    if (typeof json.artifactType !== "string" || !isLenientMediaType(json.artifactType)) {
      invalid(source, `artifactType ${JSON.stringify(json.artifactType)} is not a media type`);
    }
    common.artifactType = json.artifactType;
  }
  const annotations = parseStringMap(json.annotations, `${source} annotations`);
  if (annotations) common.annotations = annotations;
  const subject = json.subject === undefined ? undefined : parseDescriptor(json.subject, `${source} subject`);

  if (isIndexMediaType(type) || (!isImageManifestMediaType(type) && "manifests" in json)) {
    const index: ImageIndex = {
      schemaVersion: 2,
      ...common,
      manifests: parseDescriptors(json.manifests, "manifests", source),
    };
    if (subject) index.subject = subject;
    return index;
  }
  if (isImageManifestMediaType(type) || "config" in json) {
    const manifest: ImageManifest = {
      schemaVersion: 2,
      ...common,
      config: parseDescriptor(json.config, `${source} config`),
      layers: parseDescriptors(json.layers ?? [], "layers", source),
    };
    if (subject) manifest.subject = subject;
    return manifest;
  }
  return invalid(source, `unsupported media type "${type}"`);
}

function parseArtifactManifest(
  json: Record<string, unknown>,
  mediaType: string,
  source: string,
): ArtifactManifest {
  if (json.mediaType !== MediaType.ociArtifactManifest) {
    invalid(source, `mediaType ${JSON.stringify(json.mediaType)} contradicts the expected "${mediaType}"`);
  }
  const manifest: ArtifactManifest = {
    mediaType: MediaType.ociArtifactManifest,
    blobs: parseDescriptors(json.blobs ?? [], "blobs", source),
  };
  if (json.artifactType !== undefined) {
    if (typeof json.artifactType !== "string" || !isLenientMediaType(json.artifactType)) {
      invalid(source, `artifactType ${JSON.stringify(json.artifactType)} is not a media type`);
    }
    manifest.artifactType = json.artifactType;
  }
  if (json.subject !== undefined) manifest.subject = parseDescriptor(json.subject, `${source} subject`);
  const annotations = parseStringMap(json.annotations, `${source} annotations`);
  if (annotations) manifest.annotations = annotations;
  return manifest;
}

/** The media type of manifest bytes: the declared `mediaType`, else inferred from the shape. */
export function detectManifestMediaType(bytes: Uint8Array, source: string): string {
  const json = decodeJson(bytes, source);
  if (!isObject(json)) return invalid(source, "must be a JSON object");
  if (typeof json.mediaType === "string") return json.mediaType;
  if ("manifests" in json) return MediaType.ociIndex;
  if ("config" in json) return MediaType.ociManifest;
  return invalid(source, "has no mediaType and is neither a manifest nor an index");
}

/** The descriptors a manifest points to, in the order a copy must finish them (leaves first). */
export function successors(manifest: Manifest): Descriptor[] {
  const out = isIndex(manifest) ? [...manifest.manifests] : [...contentOf(manifest)];
  if (manifest.subject) out.push(manifest.subject);
  return out;
}

/** Reads the platform of an image config; undefined when the config carries none. */
export function platformFromConfig(bytes: Uint8Array, source: string): Platform | undefined {
  const json = decodeJson(bytes, source);
  if (!isObject(json) || typeof json.os !== "string" || typeof json.architecture !== "string")
    return undefined;
  return parsePlatformObject(
    {
      os: json.os,
      architecture: json.architecture,
      variant: json.variant,
      "os.version": json["os.version"],
      "os.features": json["os.features"],
    },
    `config ${source}`,
  );
}

/** Canonical bytes for a manifest skiff writes: compact JSON, fields in spec order. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}
