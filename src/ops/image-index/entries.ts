/** Resolving a source into the index entry it becomes (descriptor, platform, artifact type), with errors that name the source. */
import { ignoreEvents, type Listener } from "../../content/events.ts";
import { fetchManifest, platformOf } from "../../content/manifests.ts";
import { fetchFromAny, MemoryStore } from "../../content/memory/index.ts";
import { isBlobDescriber, type Target } from "../../content/target.ts";
import { SkiffError } from "../../errors.ts";
import { type Descriptor, orderedDescriptor, plainDescriptor } from "../../oci/descriptor.ts";
import { isIndex, type Manifest } from "../../oci/manifest.ts";
import { isManifestMediaType } from "../../oci/media-types.ts";
import { resolveReference } from "../resolve.ts";
import type { IndexSource, OpenPlace } from "./sources.ts";

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

/**
 * The artifact type an index entry shows: the manifest's own `artifactType` (as ORAS; a config
 * media type is not copied up, so the index's digest is the one ORAS makes).
 */
function entryArtifactType(manifest: Manifest): string | undefined {
  return manifest.artifactType || undefined;
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
      platform = await platformOf(fetchFromAny(memory, store), plainDescriptor(desc), name);
    } catch (error) {
      // A config that is not JSON (an artifact's own config format) has no platform: not an error.
      if (!(error instanceof SkiffError && error.code === "INVALID_MANIFEST")) {
        const problem = error instanceof Error ? error.message : String(error);
        throw new SkiffError(
          "INVALID_INPUT",
          `cannot read the platform of source "${name}" from its config: ${problem}`,
        );
      }
    }
  }
  const entry = plainDescriptor(desc);
  if (source.annotations && Object.keys(source.annotations).length > 0)
    entry.annotations = source.annotations;
  if (platform) entry.platform = platform;
  const artifactType = entryArtifactType(fetched.manifest);
  if (artifactType) entry.artifactType = artifactType;
  return { source, store, entry: orderedDescriptor(entry), manifest: fetched.manifest };
}

/** True when a digest that failed to resolve as a manifest names a blob the store has (to say so). */
async function isBlob(store: Target, digest: string | undefined, error: unknown): Promise<boolean> {
  // Registries answer a blob digest on the manifests endpoint with 404, or (distribution) with 500.
  if (digest === undefined || !(error instanceof SkiffError) || error.code === "UNAUTHORIZED") return false;
  if (!isBlobDescriber(store)) return false;
  try {
    await store.describeBlob(digest);
    return true;
  } catch {
    return false;
  }
}

export function sourceError(error: unknown, source: IndexSource): unknown {
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
    // "could not find" is the phrase ORAS prints and scripts look for.
    const message =
      error.code === "NOT_FOUND"
        ? `could not find "${name}": ${error.message}`
        : `source "${name}": ${error.message}`;
    return new SkiffError(error.code, message, hint, { cause: error });
  }
  return error;
}
