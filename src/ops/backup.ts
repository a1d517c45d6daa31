/**
 * backup and restore (ORAS 1.3): copy tagged artifacts, with their referrers, from a registry
 * repository into an OCI layout (directory or tar) and back. Every copy is copy.ts's
 * copyArtifact; writing a tar builds the layout in a temporary directory next to the output and
 * renames a finished tar into place, so a failed backup never leaves a half-written archive.
 */
import { lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ignoreEvents, type Listener } from "../content/events.ts";
import { fileStream, randomSuffix, syncDirectory, writeStreamToFile } from "../content/files/disk.ts";
import { memberHeader } from "../content/files/pack.ts";
import { LayoutDirectory } from "../content/layout/index.ts";
import { fetchManifest } from "../content/manifests.ts";
import { publish, type ReferrerLister, type TagLister, type Target } from "../content/target.ts";
import { asSkiffError, SkiffError } from "../errors.ts";
import { type Descriptor, entryDescriptor } from "../oci/descriptor.ts";
import { checkTag } from "../oci/reference.ts";
import { copyArtifact, findReferrers, type GraphCopyOptions } from "./copy.ts";

/** What backup and restore read from: tags, their manifests and referrers. */
type Source = Target & TagLister & ReferrerLister;

/** What one backed-up or restored tag was. */
export interface TagCopy {
  tag: string;
  desc: Descriptor;
  /** Referrers copied with it (or that would be, in a dry run). */
  referrers: number;
}

/** Progress of a backup or restore, for the CLI's text lines. */
export type TagEvent =
  | { type: "tags"; tags: string[] }
  | { type: "tag-done"; copy: TagCopy }
  | { type: "tar-start"; path: string }
  | { type: "tar-done"; path: string; size: number };

interface TagCopyOptions {
  /** Tags to copy; none: every tag of the source (referrers fallback tags excluded). */
  tags?: string[];
  /** Copy referrers too (skiff's default for both backup and restore: true). */
  referrers?: boolean;
  /** Resolve and count, write nothing. */
  dryRun?: boolean;
  /** Transfers at once (ORAS: backup 3, restore 5). */
  concurrency?: number;
  listener?: Listener;
  /** Tag-level progress: tags found, each tag done, tar export. */
  onEvent?: (event: TagEvent) => void;
}

export interface TagCopyResult {
  copies: TagCopy[];
  dryRun: boolean;
}

/** `sha256-<hex>` and friends: the tags that hold referrers fallback indexes, not artifacts. */
const REFERRERS_TAG = /^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})$/;

/** True for a tag of the referrers tag schema (the fallback index of a subject). */
export function isReferrersTag(tag: string): boolean {
  return REFERRERS_TAG.test(tag);
}

/** What a source without tags is called, and what to do about it (where to list its tags, as ORAS says). */
interface Side {
  what: string;
  /** ORAS's verb when a tag fails to copy (`failed to back up tag`, `failed to restore tag`). */
  verb: string;
  hint(name: string): string;
}

const BACKUP_SOURCE: Side = {
  what: "repository",
  verb: "back up",
  hint: (name) => `name the tags to back up as REPO:tag1,tag2; skiff repo tags ${name} lists them`,
};
const RESTORE_SOURCE: Side = {
  what: "OCI layout",
  verb: "restore",
  hint: (name) =>
    `only tagged artifacts are restored: tag them first (skiff repo tags --oci-layout ${name} lists the tags), or copy by digest with skiff cp`,
};

/** The tags to copy: the given ones (checked), else every tag of `source` but referrers fallback tags. */
async function tagsToCopy(source: Source, tags: string[] | undefined, side: Side): Promise<string[]> {
  if (tags && tags.length > 0) {
    for (const tag of tags) checkTag(tag, tag);
    return [...new Set(tags)];
  }
  const found: string[] = [];
  for await (const tag of source.tags()) {
    if (!isReferrersTag(tag)) found.push(tag);
  }
  if (found.length === 0) {
    throw new SkiffError(
      "NOT_FOUND",
      `no tags found in ${side.what} "${source.name}"`,
      side.hint(source.name),
    );
  }
  return found;
}

/**
 * Copies each tag of `source` (with its referrers unless `referrers` is false) to `destination`
 * and tags it there. Tags are resolved first, so a missing tag fails before anything is written.
 */
async function copyTags(
  source: Source,
  destination: Target | undefined,
  options: TagCopyOptions,
  side: Side,
): Promise<TagCopyResult> {
  const onEvent = options.onEvent ?? (() => {});
  const tags = await tagsToCopy(source, options.tags, side);
  const roots: Descriptor[] = [];
  for (const tag of tags) {
    try {
      roots.push(await source.resolve(tag));
    } catch (error) {
      const e = asSkiffError(error);
      throw new SkiffError(e.code, `cannot resolve tag "${tag}" in ${source.name}: ${e.message}`, e.hint, {
        cause: error,
      });
    }
  }
  onEvent({ type: "tags", tags });
  const includeReferrers = options.referrers ?? true;
  const graphOptions: GraphCopyOptions = {
    recursive: includeReferrers,
    concurrency: options.concurrency ?? 3,
    listener: options.listener ?? ignoreEvents,
  };
  const copies: TagCopy[] = [];
  for (const [i, tag] of tags.entries()) {
    const root = roots[i]!;
    let referrers: number;
    if (options.dryRun || !destination) {
      // Fetch the root so a dry run still proves the manifest is there and readable.
      await fetchManifest(source, root, source.where);
      referrers = includeReferrers ? (await findReferrers(source, root)).length : 0;
    } else {
      try {
        referrers = (await copyArtifact(source, destination, root, graphOptions)).length;
        await publish(destination, entryDescriptor(root), { tags: [tag] });
      } catch (error) {
        const e = asSkiffError(error);
        throw new SkiffError(
          e.code,
          `failed to ${side.verb} tag "${tag}" from "${source.name}" to "${destination.name}": ${e.message}`,
          e.hint,
          { cause: error },
        );
      }
    }
    const copy: TagCopy = { tag, desc: root, referrers };
    copies.push(copy);
    onEvent({ type: "tag-done", copy });
  }
  return { copies, dryRun: Boolean(options.dryRun) };
}

/** How backup writes: a layout directory, or a tar file (chosen by the `.tar` extension, as ORAS does). */
type BackupFormat = "directory" | "tar";

/** `.tar` (any case) means a tar archive; compressed names are refused (skiff writes plain tar only). */
export function backupFormat(output: string): BackupFormat {
  const lower = output.toLowerCase();
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) {
    throw new SkiffError(
      "USAGE",
      `cannot write ${output}: skiff writes uncompressed tar archives only`,
      "name the output FILE.tar (compress it afterwards if you like), or a directory",
    );
  }
  return lower.endsWith(".tar") ? "tar" : "directory";
}

interface BackupResult extends TagCopyResult {
  output: string;
  format: BackupFormat;
  /** Size of the tar written (tar format only, not in a dry run). */
  size?: number;
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw asSkiffError(error, `cannot check ${path}`);
  }
}

/**
 * Backs up tags of `source` (a registry repository) into `output`: a layout directory (created
 * or added to) or, for `*.tar`, a tar archive replaced atomically.
 */
export async function backup(
  source: Source,
  output: string,
  options: TagCopyOptions = {},
): Promise<BackupResult> {
  if (output === "") throw new SkiffError("USAGE", "the output path cannot be empty");
  const format = backupFormat(output);
  const existing = await statOrUndefined(output);
  if (format === "tar" && existing?.isDirectory()) {
    throw new SkiffError(
      "FILE_EXISTS",
      `the output path "${output}" already exists and is a directory`,
      "to back up to a tar archive, give another file name or remove the directory",
    );
  }
  if (format === "directory" && existing && !existing.isDirectory()) {
    throw new SkiffError(
      "FILE_EXISTS",
      `the output path ${output} exists and is not a directory`,
      "give a directory, or a FILE.tar to write a tar archive",
    );
  }
  if (options.dryRun) {
    return { ...(await copyTags(source, undefined, options, BACKUP_SOURCE)), output, format };
  }
  if (format === "directory") {
    const layout = await LayoutDirectory.open(output, { create: true });
    return { ...(await copyTags(source, layout, options, BACKUP_SOURCE)), output, format };
  }
  const parent = dirname(output);
  const stage = join(parent, `.${basename(output)}.${randomSuffix()}.skiff-backup`);
  try {
    await mkdir(stage);
  } catch (error) {
    throw asSkiffError(error, `cannot create a temporary directory next to ${output}`);
  }
  try {
    const layout = await LayoutDirectory.open(stage, { create: true, name: output });
    const result = await copyTags(source, layout, options, BACKUP_SOURCE);
    options.onEvent?.({ type: "tar-start", path: output });
    const size = await writeLayoutTar(stage, output);
    options.onEvent?.({ type: "tar-done", path: output, size });
    return { ...result, output, format, size };
  } finally {
    await rm(stage, { recursive: true, force: true }).catch(() => {});
  }
}

interface RestoreResult extends TagCopyResult {
  input: string;
}

/** Restores tags of the layout `source` (directory or tar) into `destination` (a registry repository). */
export async function restore(
  source: Source,
  destination: Target,
  options: TagCopyOptions = {},
): Promise<RestoreResult> {
  const result = await copyTags(source, options.dryRun ? undefined : destination, options, RESTORE_SOURCE);
  return { ...result, input: source.name };
}

/** Files of a layout directory in archive order: `oci-layout`, `index.json`, then the rest sorted. */
async function layoutMembers(dir: string): Promise<{ name: string; path: string; directory: boolean }[]> {
  const out: { name: string; path: string; directory: boolean }[] = [];
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(dir, relative))).sort();
    for (const name of names) {
      const rel = relative ? `${relative}/${name}` : name;
      if (name.endsWith(".tmp") || name.endsWith(".lock")) continue;
      const info = await lstat(join(dir, rel));
      if (info.isDirectory()) {
        out.push({ name: `${rel}/`, path: join(dir, rel), directory: true });
        await walk(rel);
      } else if (info.isFile()) {
        out.push({ name: rel, path: join(dir, rel), directory: false });
      }
    }
  };
  await walk("");
  const rank = (name: string): number => (name === "oci-layout" ? 0 : name === "index.json" ? 1 : 2);
  return out.sort((a, b) => rank(a.name) - rank(b.name));
}

/** The tar stream of a layout directory: ustar headers (pax for long names), uid/gid 0, mtime 0. */
async function* layoutTar(dir: string): AsyncGenerator<Uint8Array> {
  for (const member of await layoutMembers(dir)) {
    const info = await stat(member.path);
    const size = member.directory ? 0 : info.size;
    yield* memberHeader({
      name: member.name,
      type: member.directory ? "directory" : "file",
      mode: member.directory ? 0o755 : 0o644,
      size,
      mtime: 0,
      linkname: "",
    });
    if (member.directory) continue;
    let written = 0;
    for await (const chunk of fileStream(member.path)) {
      written += chunk.byteLength;
      if (written > size) break;
      yield chunk;
    }
    if (written !== size) {
      throw new SkiffError("IO", `${member.path} changed size while it was being archived`);
    }
    const rest = size % 512;
    if (rest !== 0) yield new Uint8Array(512 - rest);
  }
  yield new Uint8Array(1024);
}

/**
 * Writes the layout directory `dir` as a tar archive at `output`: to a temporary name in the same
 * directory, fsynced, then renamed over `output`. Returns the archive's size.
 */
async function writeLayoutTar(dir: string, output: string): Promise<number> {
  const temp = join(dirname(output), `.${basename(output)}.${randomSuffix()}.tmp`);
  let size: number;
  try {
    size = await writeStreamToFile(layoutTar(dir), temp, { sync: true });
    await rename(temp, output);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw asSkiffError(error, `cannot write the tar archive ${output}`);
  }
  await syncDirectory(dirname(output));
  return size;
}
