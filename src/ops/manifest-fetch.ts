/**
 * manifest fetch and manifest fetch-config: which document a reference names, as ORAS shows it,
 * and how to read it (the command decides whether to: `--descriptor` alone reads nothing).
 */
import { fetchManifest } from "../content/manifests.ts";
import { isManifestTypeNarrower, type Target } from "../content/target.ts";
import { fetchBytes } from "../content/verify.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { isIndex } from "../oci/manifest.ts";
import type { Platform } from "../oci/platform.ts";
import { type Reference, referenceName } from "../oci/reference.ts";
import { layoutEntry, resolveReference } from "./resolve.ts";

/** A document to show: its descriptor, and its bytes on demand. */
export interface Fetchable {
  desc: Descriptor;
  fetch: () => Promise<Uint8Array>;
}

interface ManifestFetchOptions {
  /** `--platform`: an index's manifest for this platform. */
  platform?: Platform;
  /**
   * `--media-type`: the registry is asked for these types only (so it answers "not found" for
   * others, as with ORAS), and what it sends is checked too, for registries that ignore `Accept`.
   */
  mediaTypes?: readonly string[];
  /** The reference as given, for the error of a media type not asked for. */
  text: string;
}

/** How errors and fetches name where `ref` points: `registry host/repo`, `layout PATH`. */
function placeOf(ref: Reference): string {
  return `${ref.kind} ${referenceName(ref)}`;
}

/**
 * The manifest `ref` names: a layout tag's `index.json` entry (ref name included) and a layout
 * digest bare, as ORAS shows them; with a platform, that platform's manifest.
 */
export async function manifestToFetch(
  target: Target,
  ref: Reference,
  options: ManifestFetchOptions,
): Promise<Fetchable> {
  const { platform, mediaTypes = [] } = options;
  if (mediaTypes.length > 0 && isManifestTypeNarrower(target)) target.acceptManifestTypes(mediaTypes);
  const resolved = await resolveReference(target, ref, platform ? { platform } : {});
  if (mediaTypes.length > 0 && !mediaTypes.includes(resolved.root.mediaType)) {
    throw new SkiffError(
      "NOT_FOUND",
      `${options.text}: not found as ${mediaTypes.join(" or ")}: the manifest is ${resolved.root.mediaType}`,
      "leave out --media-type, or name the media type the manifest has",
    );
  }
  const desc = platform ? resolved.desc : await layoutEntry(target, ref, resolved.desc);
  return { desc, fetch: async () => (await fetchManifest(target, desc, placeOf(ref))).bytes };
}

/** The config of the image manifest `ref` names (with a platform: of that platform's manifest). */
export async function configToFetch(
  target: Target,
  ref: Reference,
  options: { platform?: Platform } = {},
): Promise<Fetchable> {
  const where = placeOf(ref);
  const { platform } = options;
  const { desc } = await resolveReference(target, ref, platform ? { platform } : {});
  const { manifest } = await fetchManifest(target, desc, where);
  if (isIndex(manifest)) {
    throw new SkiffError(
      "USAGE",
      `${desc.digest} in ${where} is not an image manifest and does not have a config: it is an index`,
      "select one platform's manifest with --platform os/arch[/variant][:os.version]",
    );
  }
  if ("blobs" in manifest) {
    throw new SkiffError(
      "USAGE",
      `${desc.digest} in ${where} is an OCI artifact manifest, which has no config`,
    );
  }
  const config = manifest.config;
  return { desc: config, fetch: () => fetchBytes(target, config, where) };
}
