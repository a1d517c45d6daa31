/**
 * The one resolver every command uses: a reference (tag, digest, or nothing at all on a layout)
 * plus an optional platform becomes exactly one manifest descriptor, or a clear error.
 */
import { fetchManifest, isWalkable, platformOf, walkManifests } from "../content/manifests.ts";
import { type EntryLister, type Fetcher, isEntryLister, type Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import { type Descriptor, withoutRefName } from "../oci/descriptor.ts";
import { isIndex } from "../oci/manifest.ts";
import { Annotation, isIndexMediaType, isManifestMediaType } from "../oci/media-types.ts";
import { formatPlatform, type Platform, platformMatches } from "../oci/platform.ts";
import {
  displayReference,
  formatReference,
  isRegistryReference,
  noTagOrDigest,
  type Reference,
  withDigest,
} from "../oci/reference.ts";

interface ResolveOptions {
  /** `--platform`: pick the matching child of an index, or check that a manifest matches. */
  platform?: Platform;
}

export interface ResolvedReference {
  /** The manifest or index to use: after `--platform` picked a child, that child. */
  desc: Descriptor;
  /** What the reference itself named (the tagged or only entry, or the digest), before `--platform`. */
  root: Descriptor;
  /** The reference pinned to `desc`'s digest (`PATH@sha256:...` or `host/repo@sha256:...`). */
  pinned: Reference;
  /** How the reference was resolved. */
  how: "tag" | "digest" | "tagless";
}

/** A manifest that could be meant, with what people need to tell candidates apart. */
interface Candidate {
  desc: Descriptor;
  platform?: Platform;
  /** The tag of the `index.json` entry it came from. */
  refName?: string;
  /** The index.json entry (an index) it was found in, when it is a child. */
  parent?: Descriptor;
}

/** The reference text that selects exactly `digest` in the place `ref` names. */
function selectingReference(ref: Reference, digest: string): string {
  return displayReference(withDigest(ref, digest));
}

/**
 * Resolves `ref` in `target` to one manifest descriptor. Tags and digests go to the target;
 * a layout reference with neither is resolved tagless from `index.json` (see ARCHITECTURE.md).
 * With `platform`, an index is narrowed to its one matching child.
 */
export async function resolveReference(
  target: Target,
  ref: Reference,
  options: ResolveOptions = {},
): Promise<ResolvedReference> {
  const where = displayReference(ref);
  let root: Descriptor;
  let how: ResolvedReference["how"];
  if (ref.digest) {
    root = await target.resolve(ref.digest);
    how = "digest";
  } else if (ref.tag) {
    root = await target.resolve(ref.tag);
    how = "tag";
  } else {
    if (isRegistryReference(ref) || !isEntryLister(target)) {
      // The command line names nothing to resolve: a usage error, its usage line follows (as in ORAS).
      throw noTagOrDigest(where, `add :TAG or @DIGEST, e.g. ${formatReference(ref)}:latest`, "USAGE");
    }
    const resolved = await resolveTagless(target, ref, options.platform);
    return { ...resolved, pinned: withDigest(ref, resolved.desc.digest), how: "tagless" };
  }
  const desc = options.platform ? await selectPlatform(target, root, options.platform, where, ref) : root;
  return { desc, root, pinned: withDigest(ref, desc.digest), how };
}

async function resolveTagless(
  target: Target & EntryLister,
  ref: Reference,
  platform: Platform | undefined,
): Promise<{ desc: Descriptor; root: Descriptor }> {
  const where = displayReference(ref);
  const entries = await target.entries();
  const known = uniqueByDigest(entries.filter((e) => isManifestMediaType(e.mediaType)));
  if (known.length === 0) {
    throw new SkiffError(
      "NOT_FOUND",
      // ORAS's phrase for a layout reference without tag or digest comes first: scripts grep it.
      entries.length === 0
        ? `${where}: no tag or digest specified, and the layout is empty: its index.json lists no manifests`
        : `${where}: no tag or digest specified, and the layout lists no manifest or index skiff can read (${entries.length} entries of other media types)`,
    );
  }
  const digests = new Set(known.map((e) => e.digest));
  if (!platform) {
    if (known.length === 1) return { desc: withoutRefName(known[0]!), root: withoutRefName(known[0]!) };
    const subject = await onlySubject(target, known, digests, where);
    if (subject) return { desc: withoutRefName(subject), root: withoutRefName(subject) };
    const candidates = known.map((entry) => candidateOf(entry));
    throw await ambiguous(
      `${where}: no tag or digest specified, and index.json lists ${known.length} manifests`,
      target,
      ref,
      candidates,
    );
  }
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const entry of known) {
    const found = isIndexMediaType(entry.mediaType)
      ? (await matchingChildren(target, entry, platform, where)).map((child) => ({
          ...child,
          parent: entry,
          ...(refNameOf(entry) ? { refName: refNameOf(entry) } : {}),
        }))
      : await matchManifest(target, entry, platform, where);
    for (const candidate of found) {
      if (seen.has(candidate.desc.digest)) continue;
      seen.add(candidate.desc.digest);
      candidates.push(candidate);
    }
  }
  if (candidates.length > 1) {
    const kept: Candidate[] = [];
    for (const c of candidates) {
      if (c.parent || !(await isReferrer(target, c.desc, digests, where))) kept.push(c);
    }
    if (kept.length > 0) candidates.splice(0, candidates.length, ...kept);
  }
  if (candidates.length === 1) {
    const only = candidates[0]!;
    return { desc: withoutRefName(only.desc), root: withoutRefName(only.parent ?? only.desc) };
  }
  const wanted = formatPlatform(platform);
  if (candidates.length === 0) {
    const available = await describeAll(target, known, where);
    throw new SkiffError(
      "NO_MATCH",
      `nothing in ${where} matches platform ${wanted}`,
      `what there is (select one by digest, or with a --platform it has):\n${available.join("\n")}`,
    );
  }
  throw await ambiguous(
    `${candidates.length} manifests in ${where} match platform ${wanted}`,
    target,
    ref,
    candidates,
  );
}

/**
 * The one entry that is not a referrer, if there is exactly one. `attach` adds referrers (untagged
 * manifests whose `subject` is another entry) to index.json; a signature attached to the only
 * artifact must not make a tagless reference ambiguous. Stops reading at the second non-referrer.
 */
async function onlySubject(
  fetcher: Fetcher,
  entries: Descriptor[],
  digests: Set<string>,
  where: string,
): Promise<Descriptor | undefined> {
  let found: Descriptor | undefined;
  for (const entry of entries) {
    if (await isReferrer(fetcher, entry, digests, where)) continue;
    if (found) return undefined;
    found = entry;
  }
  return found;
}

/** True for an untagged manifest whose `subject` is one of `digests`; tagged entries never are. */
async function isReferrer(
  fetcher: Fetcher,
  entry: Descriptor,
  digests: Set<string>,
  where: string,
): Promise<boolean> {
  if (refNameOf(entry)) return false;
  const { manifest } = await fetchManifest(fetcher, entry, where);
  return manifest.subject !== undefined && digests.has(manifest.subject.digest);
}

async function matchManifest(
  fetcher: Fetcher,
  entry: Descriptor,
  platform: Platform,
  where: string,
): Promise<Candidate[]> {
  const found = await platformOf(fetcher, entry, where);
  return found && platformMatches(platform, found) ? [{ ...candidateOf(entry), platform: found }] : [];
}

/** The manifests under an index (nested indexes followed) whose platform matches. */
async function matchingChildren(
  fetcher: Fetcher,
  index: Descriptor,
  platform: Platform,
  where: string,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  await walkManifests(fetcher, index, where, async ({ desc, manifest }, descend) => {
    if (!isIndex(manifest)) {
      out.push(...(await matchManifest(fetcher, desc, platform, where)));
      return;
    }
    for (const child of manifest.manifests) {
      if (!isManifestMediaType(child.mediaType)) continue;
      if (isIndexMediaType(child.mediaType)) await descend(child);
      else if (child.platform) {
        if (platformMatches(platform, child.platform)) out.push(candidateOf(child));
      } else out.push(...(await matchManifest(fetcher, child, platform, where)));
    }
  });
  return out;
}

/**
 * Narrows `desc` to `platform`: the one matching child of an index, or `desc` itself when it is a
 * manifest whose platform (descriptor, else image config) matches. Errors list what there is.
 */
export async function selectPlatform(
  fetcher: Fetcher,
  desc: Descriptor,
  platform: Platform,
  where: string,
  ref?: Reference,
): Promise<Descriptor> {
  const wanted = formatPlatform(platform);
  if (isIndexMediaType(desc.mediaType)) {
    const matches = uniqueCandidates(await matchingChildren(fetcher, desc, platform, where));
    if (matches.length === 1) return matches[0]!.desc;
    if (matches.length === 0) {
      const { manifest } = await fetchManifest(fetcher, desc, where);
      const children = isIndex(manifest) ? manifest.manifests : [];
      const platforms = await Promise.all(
        children.map(async (child) => {
          const found = isWalkable(child)
            ? await platformOf(fetcher, child, where).catch(() => undefined)
            : undefined;
          return `  ${child.digest} ${found ? formatPlatform(found) : "(no platform)"}`;
        }),
      );
      throw new SkiffError(
        "NO_MATCH",
        `manifest for platform ${wanted} not found in ${where} (index ${desc.digest})`,
        platforms.length > 0
          ? `platforms in this index (pass one to --platform):\n${platforms.join("\n")}`
          : "the index is empty",
      );
    }
    throw await ambiguous(
      `${matches.length} manifests in ${where} match platform ${wanted}`,
      fetcher,
      ref,
      matches,
    );
  }
  if (!isManifestMediaType(desc.mediaType)) {
    throw new SkiffError(
      "UNSUPPORTED",
      `cannot select platform ${wanted}: ${desc.digest} in ${where} is ${desc.mediaType}, not a manifest or index`,
    );
  }
  const found = await platformOf(fetcher, desc, where);
  if (!found) {
    throw new SkiffError(
      "NO_MATCH",
      `cannot check platform ${wanted}: manifest ${desc.digest} in ${where} has no platform (none in its descriptor, and its config is not an image config with os and architecture)`,
      "drop --platform to use this manifest as it is",
    );
  }
  if (!platformMatches(platform, found)) {
    throw new SkiffError(
      "NO_MATCH",
      `platform ${wanted} not found: manifest ${desc.digest} in ${where} is for platform ${formatPlatform(found)}`,
    );
  }
  return desc;
}

function refNameOf(desc: Descriptor): string | undefined {
  return desc.annotations?.[Annotation.refName];
}

function candidateOf(desc: Descriptor): Candidate {
  const candidate: Candidate = { desc };
  if (desc.platform) candidate.platform = desc.platform;
  const refName = refNameOf(desc);
  if (refName) candidate.refName = refName;
  return candidate;
}

function uniqueByDigest(descs: Descriptor[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const desc of descs) {
    const had = seen.get(desc.digest);
    // Prefer the tagged entry, so listings show the tag.
    if (!had || (!refNameOf(had) && refNameOf(desc))) seen.set(desc.digest, desc);
  }
  return [...seen.values()];
}

function uniqueCandidates(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => !seen.has(c.desc.digest) && seen.add(c.desc.digest));
}

/** One line per candidate: digest, media type, platform, tag, created; then how to select it. */
async function describeCandidate(
  fetcher: Fetcher,
  candidate: Candidate,
  ref: Reference | undefined,
): Promise<string> {
  const { desc } = candidate;
  let platform = candidate.platform;
  let created = desc.annotations?.[Annotation.created];
  let artifactType = desc.artifactType;
  if (isManifestMediaType(desc.mediaType)) {
    try {
      const { manifest } = await fetchManifest(fetcher, desc, "the layout");
      created ??= manifest.annotations?.[Annotation.created];
      artifactType ??= manifest.artifactType;
      if (isIndex(manifest)) {
        const platforms = manifest.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "?"));
        const text = `index of ${platforms.length}${platforms.length > 0 ? ` (${platforms.join(", ")})` : ""}`;
        return formatCandidateLine(desc, text, candidate, created, artifactType, ref);
      }
      platform ??= await platformOf(fetcher, desc, "the layout");
    } catch {
      // A candidate that cannot be read is still listed, with what index.json says.
    }
  }
  return formatCandidateLine(
    desc,
    platform ? formatPlatform(platform) : "no platform",
    candidate,
    created,
    artifactType,
    ref,
  );
}

function formatCandidateLine(
  desc: Descriptor,
  platformText: string,
  candidate: Candidate,
  created: string | undefined,
  artifactType: string | undefined,
  ref: Reference | undefined,
): string {
  const parts = [`  ${desc.digest}`, desc.mediaType, `platform: ${platformText}`];
  if (artifactType) parts.push(`artifactType: ${artifactType}`);
  parts.push(`tag: ${candidate.refName ?? "(none)"}`);
  if (created) parts.push(`created: ${created}`);
  if (candidate.parent) parts.push(`in index ${candidate.parent.digest}`);
  let line = parts.join("  ");
  if (ref) line += `\n    select it with: ${selectingReference(ref, desc.digest)}`;
  return line;
}

async function describeAll(fetcher: Fetcher, entries: Descriptor[], _where: string): Promise<string[]> {
  const shown = entries.slice(0, 50);
  const lines = await Promise.all(
    shown.map((entry) => describeCandidate(fetcher, candidateOf(entry), undefined)),
  );
  if (entries.length > shown.length) lines.push(`  ... and ${entries.length - shown.length} more`);
  return lines;
}

async function ambiguous(
  message: string,
  fetcher: Fetcher,
  ref: Reference | undefined,
  candidates: Candidate[],
): Promise<SkiffError> {
  const shown = candidates.slice(0, 50);
  const lines = await Promise.all(shown.map((c) => describeCandidate(fetcher, c, ref)));
  if (candidates.length > shown.length) lines.push(`  ... and ${candidates.length - shown.length} more`);
  return new SkiffError(
    "AMBIGUOUS",
    message,
    `pass one of them by digest, or add --platform os/arch[/variant][:os.version]:\n${lines.join("\n")}`,
  );
}

/**
 * What a layout reference names, as ORAS shows it: for a tag, the `index.json` entry itself, its
 * ref name annotation included (resolving gives the descriptor without it); for a digest, the
 * media type, digest and size only. `desc` for anything else.
 */
export async function layoutEntry(
  target: Target,
  ref: { tag?: string; digest?: string },
  desc: Descriptor,
): Promise<Descriptor> {
  if (!isEntryLister(target)) return desc;
  if (ref.digest) return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (ref.tag === undefined) return desc;
  const { tag } = ref;
  const entries = await target.entries();
  const entry = entries.find((e) => e.digest === desc.digest && e.annotations?.[Annotation.refName] === tag);
  return entry ?? desc;
}
