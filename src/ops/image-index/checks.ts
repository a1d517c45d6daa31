/** The checks an index passes before anything is written: one manifest once, platforms present and distinct, fields and tags valid. */
import { platformOf, walkManifests } from "../../content/manifests.ts";
import type { Fetcher } from "../../content/target.ts";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { isIndex, type Manifest } from "../../oci/manifest.ts";
import {
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isValidMediaType,
  MediaType,
} from "../../oci/media-types.ts";
import { formatPlatform, type Platform, samePlatform } from "../../oci/platform.ts";
import type { ResolvedSource } from "./entries.ts";

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

interface EntryCheckOptions {
  allowDuplicatePlatforms?: boolean;
  allowMissingPlatform?: boolean;
}

/**
 * The platforms an entry brings into the index: its own, or for a nested index without one, those
 * of the manifests inside it (descriptor, else config), so two entries cannot hide the same platform.
 */
async function platformsOf(store: Fetcher, entry: Descriptor, where: string): Promise<Platform[]> {
  const out: Platform[] = [];
  const add = async (desc: Descriptor): Promise<void> => {
    if (desc.platform) out.push(desc.platform);
    else if (isImageManifestMediaType(desc.mediaType)) {
      const found = await platformOf(store, desc, where).catch(() => undefined);
      if (found) out.push(found);
    }
  };
  if (entry.platform || !isIndexMediaType(entry.mediaType)) {
    await add(entry);
    return out;
  }
  await walkManifests(store, entry, where, async ({ manifest }, descend) => {
    if (!isIndex(manifest)) return;
    for (const child of manifest.manifests) {
      if (!isManifestMediaType(child.mediaType)) continue;
      if (!child.platform && isIndexMediaType(child.mediaType)) await descend(child);
      else await add(child);
    }
  });
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

/**
 * True for a container image: a manifest with an image config (which must name os and
 * architecture). Artifacts, whose config is empty or their own, have no platform to require.
 */
function isContainerImage(manifest: Manifest): boolean {
  if (isIndex(manifest) || "blobs" in manifest || manifest.artifactType) return false;
  const type = manifest.config.mediaType;
  return type === MediaType.ociConfig || type === MediaType.dockerConfig;
}

/** The check item of a resolved source. */
export function sourceCheck(resolved: ResolvedSource): CheckedEntry {
  return {
    label: `source "${resolved.source.text}"`,
    entry: resolved.entry,
    store: resolved.store,
    requirePlatform: isContainerImage(resolved.manifest),
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
      `--artifact-type "${artifactType}": invalid media type`,
      'expected a media type such as "application/vnd.example.thing.v1+json"',
    );
  }
  for (const key of Object.keys(annotations)) {
    if (key === "") throw new SkiffError("USAGE", "an annotation key is empty");
  }
}

/** Checks the tags an index will get. */
export function checkTags(tags: readonly string[]): void {
  for (const tag of tags) {
    if (!/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(tag)) {
      throw new SkiffError("USAGE", `invalid tag "${tag}": it must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
    }
  }
}
