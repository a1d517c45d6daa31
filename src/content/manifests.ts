import type { Descriptor } from "../oci/descriptor.ts";
import { type Manifest, parseManifest, platformFromConfig } from "../oci/manifest.ts";
import { isManifestMediaType } from "../oci/media-types.ts";
import type { Platform } from "../oci/platform.ts";
import type { Fetcher } from "./target.ts";
import { fetchBytes } from "./verify.ts";

export interface FetchedManifest {
  desc: Descriptor;
  bytes: Uint8Array;
  manifest: Manifest;
}

/** Fetches, verifies and parses a manifest or index; `where` names the place in errors. */
export async function fetchManifest(
  fetcher: Fetcher,
  desc: Descriptor,
  where: string,
): Promise<FetchedManifest> {
  const bytes = await fetchBytes(fetcher, desc, where);
  return { desc, bytes, manifest: parseManifest(bytes, desc.mediaType, `${desc.digest} in ${where}`) };
}

/** True when the descriptor names a manifest or index skiff can walk. */
export function isWalkable(desc: Descriptor): boolean {
  return isManifestMediaType(desc.mediaType);
}

/**
 * The platform of a manifest: the descriptor's `platform`, else the one in its image config.
 * Undefined when neither has one (artifacts with the empty config).
 */
export async function platformOf(
  fetcher: Fetcher,
  desc: Descriptor,
  where: string,
): Promise<Platform | undefined> {
  if (desc.platform) return desc.platform;
  if (!isWalkable(desc)) return undefined;
  const { manifest } = await fetchManifest(fetcher, desc, where);
  if (!("config" in manifest)) return undefined;
  const config = manifest.config;
  if (config.size > 1024 * 1024 || config.mediaType === "application/vnd.oci.empty.v1+json") return undefined;
  const bytes = await fetchBytes(fetcher, config, where);
  return platformFromConfig(bytes, `${config.digest} in ${where}`);
}
