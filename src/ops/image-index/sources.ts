/** Index sources: what a SOURCE argument points at, its per-source settings, and the places they are opened from. */
import { resolve as resolvePath } from "node:path";
import type { Target } from "../../content/target.ts";
import { SkiffError } from "../../errors.ts";
import { isDigest } from "../../oci/digest.ts";
import { type Platform, parsePlatform } from "../../oci/platform.ts";
import {
  isRegistryReference,
  LAYOUT_SCHEME,
  parseLayoutReference,
  parseRegistryReference,
  type Reference,
} from "../../oci/reference.ts";

/** One SOURCE argument: where it points, and what its index entry gets on top of what it has. */
export interface IndexSource {
  /** The argument as written; names the source in messages and keys `--platform-for`. */
  text: string;
  ref: Reference;
  /** `--platform-for SOURCE=...`: sets or overrides the entry's platform. */
  platform?: Platform;
  /** `--annotation-for SOURCE=KEY=VALUE` and annotation-file keys: the entry's annotations. */
  annotations?: Record<string, string>;
}

/**
 * Where a SOURCE argument points, relative to the index's own place `target` (ORAS's rule, widened):
 * `oci-layout://PATH[:tag|@digest]` is a layout (directory or tar; no tag means tagless), text with
 * a `/` is a full registry reference, and a bare tag or digest names content in the target's own
 * repository or layout.
 */
export function parseSourceReference(text: string, target: Reference): Reference {
  if (text.startsWith(LAYOUT_SCHEME)) {
    const { tags: _tags, ...ref } = parseLayoutReference(text.slice(LAYOUT_SCHEME.length));
    return ref;
  }
  if (text.includes("/")) {
    try {
      const { tags: _tags, ...ref } = parseRegistryReference(text);
      return ref;
    } catch (error) {
      const problem = error instanceof SkiffError ? error.message : String(error);
      throw new SkiffError(
        "INVALID_REFERENCE",
        `source "${text}" is neither a tag, a digest, nor a registry reference: ${problem}`,
        `write a layout as oci-layout://${text}`,
      );
    }
  }
  const place: Reference = isRegistryReference(target)
    ? { kind: "registry", registry: target.registry, repository: target.repository }
    : { kind: "layout", path: target.path };
  // TAG@DIGEST, as ORAS takes it: the digest decides, the tag is what it was called.
  const pinned = /^([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})@([a-z0-9]+:.+)$/.exec(text);
  if (pinned && isDigest(pinned[2]!)) return { ...place, tag: pinned[1]!, digest: pinned[2]! };
  if (/^[a-z0-9]+:/.test(text)) {
    if (!isDigest(text)) {
      throw new SkiffError("INVALID_REFERENCE", `source "${text}" is not a valid digest`);
    }
    return { ...place, digest: text };
  }
  if (!/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(text)) {
    throw new SkiffError(
      "INVALID_REFERENCE",
      `source "${text}" is not a tag, a digest, or a reference`,
      "a source is TAG or DIGEST in the index's own place, oci-layout://PATH[:tag|@digest], or HOST/REPO:TAG|@DIGEST",
    );
  }
  return { ...place, tag: text };
}

/** Per-source settings from the command line. */
interface SourceSettings {
  /** `--platform-for SOURCE=os/arch[/variant][:os.version]`, repeatable. */
  platformFor?: readonly string[];
  /** `--annotation-for SOURCE=KEY=VALUE`, repeatable. */
  annotationFor?: readonly string[];
  /** Annotation-file entries keyed by SOURCE text (everything but `$manifest`). */
  fileAnnotations?: Readonly<Record<string, Record<string, string>>>;
  /** Fills in a missing architecture in `--platform-for` (ORAS's rule: the host's). */
  hostArchitecture?: string;
}

/** The one source whose text `value` starts with, followed by `=`; the rest after it. */
function splitBySource(
  value: string,
  texts: readonly string[],
  flag: string,
): { text: string; rest: string } {
  const matches = [...new Set(texts)].filter((text) => value.startsWith(`${text}=`));
  if (matches.length === 1) return { text: matches[0]!, rest: value.slice(matches[0]!.length + 1) };
  if (matches.length === 0) {
    throw new SkiffError(
      "USAGE",
      `${flag} "${value}" names no source`,
      `write ${flag} SOURCE=..., with SOURCE exactly as given on the command line (${texts.map((t) => `"${t}"`).join(", ")})`,
    );
  }
  throw new SkiffError(
    "USAGE",
    `${flag} "${value}" could name several sources: ${matches.map((t) => `"${t}"`).join(", ")}`,
  );
}

/**
 * The sources of an index with their per-source platforms and annotations. Settings that name no
 * source, a platform given twice for one source, or an annotation key set twice are errors.
 */
export function indexSources(
  texts: readonly string[],
  target: Reference,
  settings: SourceSettings = {},
): IndexSource[] {
  const sources = texts.map((text): IndexSource => ({ text, ref: parseSourceReference(text, target) }));
  const byText = (text: string): IndexSource[] => sources.filter((s) => s.text === text);
  for (const value of settings.platformFor ?? []) {
    const { text, rest } = splitBySource(value, texts, "--platform-for");
    const platform = parsePlatform(rest, settings.hostArchitecture);
    for (const source of byText(text)) {
      if (source.platform) throw new SkiffError("USAGE", `--platform-for gives "${text}" two platforms`);
      source.platform = platform;
    }
  }
  const addAnnotation = (text: string, key: string, value: string, where: string): void => {
    for (const source of byText(text)) {
      source.annotations ??= {};
      if (Object.hasOwn(source.annotations, key)) {
        throw new SkiffError("USAGE", `annotation "${key}" of source "${text}" is set twice (${where})`);
      }
      source.annotations[key] = value;
    }
  };
  for (const [text, map] of Object.entries(settings.fileAnnotations ?? {})) {
    if (byText(text).length === 0) {
      throw new SkiffError(
        "USAGE",
        `the annotation file has annotations for "${text}", which is not a source`,
        'keys must be "$manifest" (the index) or a SOURCE exactly as given on the command line',
      );
    }
    for (const [key, value] of Object.entries(map)) addAnnotation(text, key, value, "annotation file");
  }
  for (const value of settings.annotationFor ?? []) {
    const { text, rest } = splitBySource(value, texts, "--annotation-for");
    const eq = rest.indexOf("=");
    if (eq <= 0) {
      throw new SkiffError(
        "USAGE",
        `invalid --annotation-for "${value}": expected SOURCE=KEY=VALUE`,
        `e.g. --annotation-for '${text}=org.opencontainers.image.title=el8'`,
      );
    }
    addAnnotation(text, rest.slice(0, eq), rest.slice(eq + 1), "--annotation-for and annotation file");
  }
  return sources;
}

/** Opens the place a reference names; `forWriting` creates a missing layout directory. */
export type OpenPlace = (ref: Reference, forWriting: boolean) => Promise<Target>;

/** Identifies a place (registry repository or layout path) regardless of tag or digest. */
export function placeKey(ref: Reference): string {
  return isRegistryReference(ref)
    ? `registry:${ref.registry}/${ref.repository}`
    : `layout:${resolvePath(ref.path)}`;
}

/** An opener that opens each place once (one registry session, one layout object). */
export function cachedOpener(open: OpenPlace): OpenPlace {
  const places = new Map<string, { target: Target; forWriting: boolean }>();
  return async (ref, forWriting) => {
    const key = placeKey(ref);
    const had = places.get(key);
    if (had && (had.forWriting || !forWriting || had.target.writable)) return had.target;
    const target = await open(ref, forWriting);
    places.set(key, { target, forWriting });
    return target;
  };
}
