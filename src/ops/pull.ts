/**
 * Pull: resolve a reference, then copy its graph into a file store (titled layers become files,
 * directory layers are unpacked). The graph copy is the shared engine in copy-graph.ts.
 */

import { ignoreEvents, type Listener } from "../content/events.ts";
import { FileOutput, isDirectoryLayer, titleOf, type WrittenFile } from "../content/files/output.ts";
import { isWalkable, walkManifests } from "../content/manifests.ts";
import type { Fetcher, Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { contentOf, isIndex } from "../oci/manifest.ts";
import { Annotation, emptyJson, isIndexMediaType, MediaType } from "../oci/media-types.ts";
import type { Platform } from "../oci/platform.ts";
import type { Reference } from "../oci/reference.ts";
import { copyGraph } from "./copy-graph.ts";
import { type ResolvedReference, resolveReference } from "./resolve.ts";

export interface PullOptions {
  /** Output directory (`-o`, default `.`); created when missing. */
  output: string;
  /** `--platform`: pull only the matching manifest of an index. */
  platform?: Platform;
  /** `-k`: fail instead of replacing existing files. */
  keepOldFiles?: boolean;
  /** `-T`: let titles leave the output directory. */
  allowPathTraversal?: boolean;
  /** `--include-subject`: pull the subject's files too. */
  includeSubject?: boolean;
  /** Transfers at once (default 3). */
  concurrency?: number;
  /** Directory layers may inflate to at most this many times their compressed size (default 200, 0: no limit). */
  maxUnpackRatio?: number;
  /**
   * `--config FILE[:mediaType]`: write each image manifest's config as the file `path` (under the
   * output directory, like a title), when its media type is `mediaType` or none was given.
   */
  config?: { path: string; mediaType?: string };
  listener?: Listener;
}

interface PullResult {
  resolved: ResolvedReference;
  /** Files and directories written, in the order the manifests list them. */
  files: WrittenFile[];
  /** Layers that were not written because they have no title. */
  skipped: Descriptor[];
}

/** Pulls the files of `ref` from `source` into `options.output`. */
export async function pull(source: Target, ref: Reference, options: PullOptions): Promise<PullResult> {
  const listener = options.listener ?? ignoreEvents;
  const resolved = await resolveReference(
    source,
    ref,
    options.platform ? { platform: options.platform } : {},
  );
  const output = await FileOutput.create(options.output, {
    keepOldFiles: options.keepOldFiles ?? false,
    allowPathTraversal: options.allowPathTraversal ?? false,
    ...(options.maxUnpackRatio !== undefined ? { maxUnpackRatio: options.maxUnpackRatio } : {}),
    listener: (event) => forward(event),
  });
  if (isIndexMediaType(resolved.desc.mediaType)) {
    // Every platform's files land in one directory: refuse clashing titles before downloading anything.
    await checkTitleClashes(source, resolved.desc, source.where, options.includeSubject ?? false);
  }
  const skipped: Descriptor[] = [];
  /** Titles in the order the manifests list them: the order files are reported in, as ORAS does. */
  const planned: string[] = [];
  // ORAS's lines: a manifest is Downloading and Processing when read (below), Downloaded after its
  // files; files are Downloading/Downloaded, Restored or Skipped; nothing else is reported.
  const forward: Listener = (event) => {
    if (isWalkable(event.desc)) {
      if (event.type === "done") listener(event);
    } else if (event.type === "skip" || event.type === "restored" || output.isPlanned(event.desc)) {
      listener(event);
    }
  };
  await copyGraph(source, output, resolved.desc, {
    concurrency: options.concurrency ?? 3,
    listener: forward,
    includeSubject: options.includeSubject ?? false,
    sourceName: source.where,
    selectChildren: async (parent, children) => {
      const kept: Descriptor[] = [];
      const untitled: Descriptor[] = [];
      for (const child of children) {
        if (isWalkable(child)) {
          // Index children, and the subject with --include-subject.
          kept.push(child);
          continue;
        }
        if (isIndexMediaType(parent.mediaType)) continue; // a blob listed in an index: nothing to pull
        const config = options.config;
        // A config of another media type than the one asked for is left out as an untitled blob.
        const wanted = config?.mediaType === undefined || config.mediaType === child.mediaType;
        if (config && wanted && isConfigOf(parent, child, children)) {
          // Titled with the wanted name, the config is written like any file.
          const titled = { ...child, annotations: { ...child.annotations, [Annotation.title]: config.path } };
          await output.plan(titled);
          kept.push(titled);
          continue;
        }
        if (titleOf(child) !== undefined) {
          await output.plan(child);
          planned.push(titleOf(child)!);
          kept.push(child);
        } else if (!isEmptyJson(child)) {
          untitled.push(child);
        }
      }
      // Reported once its files are accepted (a refused file stops the pull before any line).
      listener({ type: "start", desc: parent });
      listener({ type: "status", prompt: "Processing", desc: parent });
      for (const child of untitled) forward({ type: "skip", desc: child, reason: "skipped" });
      skipped.push(...untitled);
      return kept;
    },
  });
  // As ORAS lists them: the files of the artifact (not the config asked for), in manifest order,
  // once for each manifest that lists them (a file of both an artifact and its subject twice).
  const byTitle = new Map<string, WrittenFile>();
  for (const file of output.written) if (!byTitle.has(file.title)) byTitle.set(file.title, file);
  const files = planned.map((title) => byTitle.get(title)).filter((file) => file !== undefined);
  return { resolved, files, skipped };
}

// The config is the first child of an image manifest; an untitled config is dropped silently.
// An artifact manifest (image-spec 1.1.0-rc2) has blobs only.
function isConfigOf(parent: Descriptor, child: Descriptor, children: Descriptor[]): boolean {
  return (
    !isIndexMediaType(parent.mediaType) &&
    parent.mediaType !== MediaType.ociArtifactManifest &&
    children[0] === child
  );
}

// `{}` (an empty config or layer) is left out silently; any other untitled blob is a skipped layer, as in ORAS.
function isEmptyJson(desc: Descriptor): boolean {
  return desc.digest === emptyJson.digest && desc.size === emptyJson.size;
}

async function checkTitleClashes(
  source: Fetcher,
  root: Descriptor,
  where: string,
  includeSubject: boolean,
): Promise<void> {
  const byTitle = new Map<string, Descriptor>();
  for (const file of await listPullFiles(source, root, where, { includeSubject })) {
    const title = titleOf(file)!;
    const had = byTitle.get(title);
    if (had && had.digest !== file.digest) {
      throw new SkiffError(
        "FILE_EXISTS",
        `two different layers under ${root.digest} are titled ${JSON.stringify(title)} (${had.digest} and ${file.digest})`,
        "pull one platform with --platform os/arch[/variant][:os.version], or pull each into its own directory",
      );
    }
    byTitle.set(title, file);
  }
}

/** The titled layers that pulling `root` would write (all platforms of an index), in order. */
async function listPullFiles(
  source: Fetcher,
  root: Descriptor,
  where: string,
  options: { includeSubject?: boolean } = {},
): Promise<Descriptor[]> {
  const files: Descriptor[] = [];
  await walkManifests(source, root, where, async ({ manifest }, descend) => {
    const children = isIndex(manifest) ? manifest.manifests : contentOf(manifest);
    for (const child of children) {
      if (isWalkable(child)) await descend(child);
      else if (!isIndex(manifest) && titleOf(child) !== undefined) files.push(child);
    }
    if (options.includeSubject && manifest.subject) await descend(manifest.subject);
  });
  return files;
}

interface PullStream {
  resolved: ResolvedReference;
  file: Descriptor;
  content: ReadableStream<Uint8Array>;
}

/** `pull -o -`: the one file of a single-file artifact as a verified stream; errors list the files otherwise. */
export async function pullToStream(
  source: Target,
  ref: Reference,
  options: { platform?: Platform; includeSubject?: boolean } = {},
): Promise<PullStream> {
  const resolved = await resolveReference(
    source,
    ref,
    options.platform ? { platform: options.platform } : {},
  );
  const files = await listPullFiles(source, resolved.desc, source.name, options);
  const unique = [...new Map(files.map((f) => [titleOf(f), f])).values()];
  if (unique.length !== 1) {
    throw new SkiffError(
      "USAGE",
      unique.length === 0
        ? `${resolved.desc.digest} has no titled file to write to stdout`
        : `-o - needs an artifact with exactly one file; ${resolved.desc.digest} has ${unique.length}`,
      unique.length > 0
        ? `files: ${unique.map((f) => titleOf(f)).join(", ")}; pull into a directory with -o DIR`
        : undefined,
    );
  }
  const file = unique[0]!;
  if (isDirectoryLayer(file)) {
    throw new SkiffError(
      "USAGE",
      `${JSON.stringify(titleOf(file))} is a directory; it cannot be written to stdout`,
      "pull into a directory with -o DIR",
    );
  }
  return { resolved, file, content: await source.fetch(file) };
}
