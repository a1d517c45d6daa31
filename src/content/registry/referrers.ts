/**
 * Referrers on registries: the referrers API (`GET /v2/NAME/referrers/DIGEST`), and for registries
 * without it the tag schema fallback: an image index tagged `<alg>-<hex>` listing the referrers of
 * that digest, kept up to date by the client that pushes a referrer.
 */
import type { Descriptor } from "../../oci/descriptor.ts";
import { parseDigest } from "../../oci/digest.ts";
import { parseManifest } from "../../oci/manifest.ts";
import { MediaType } from "../../oci/media-types.ts";

/** The fallback tag for a subject digest: `sha256:abc...` -> `sha256-abc...`. */
export function referrersTag(subjectDigest: string): string {
  const { algorithm, encoded } = parseDigest(subjectDigest);
  // Tags are at most 128 characters: a sha512 tag is cut (as the distribution spec says).
  return `${algorithm}-${encoded}`.slice(0, 128);
}

/** The manifests of a referrers index (from the API or the fallback tag), optionally of one type. */
export function referrersFromIndex(bytes: Uint8Array, where: string, artifactType?: string): Descriptor[] {
  const index = parseManifest(bytes, MediaType.ociIndex, where);
  if (!("manifests" in index)) return [];
  return index.manifests.filter((m) => artifactType === undefined || m.artifactType === artifactType);
}

/**
 * The fallback index with `referrer` added (or undefined when it is already listed). `existing`
 * is the current index's bytes, when there is one.
 */
export function addToReferrersIndex(
  existing: Uint8Array | undefined,
  referrer: Descriptor,
  where: string,
): Uint8Array | undefined {
  let manifests: Descriptor[] = [];
  let annotations: Record<string, string> | undefined;
  if (existing) {
    const index = parseManifest(existing, MediaType.ociIndex, where);
    if ("manifests" in index) manifests = index.manifests;
    annotations = index.annotations;
  }
  if (manifests.some((m) => m.digest === referrer.digest)) return undefined;
  const json: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...manifests, referrer],
  };
  if (annotations) json.annotations = annotations;
  return new TextEncoder().encode(JSON.stringify(json));
}

/**
 * The fallback index without `digest`: new bytes, `"empty"` when nothing is left, or undefined when
 * it was not listed.
 */
export function removeFromReferrersIndex(
  existing: Uint8Array,
  digest: string,
  where: string,
): Uint8Array | "empty" | undefined {
  const index = parseManifest(existing, MediaType.ociIndex, where);
  if (!("manifests" in index) || !index.manifests.some((m) => m.digest === digest)) return undefined;
  const manifests = index.manifests.filter((m) => m.digest !== digest);
  if (manifests.length === 0) return "empty";
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  if (index.annotations) json.annotations = index.annotations;
  return new TextEncoder().encode(JSON.stringify(json));
}
