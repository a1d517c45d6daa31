/**
 * Unpacking a directory layer (tar+gzip, ORAS's `io.deis.oras.content.unpack`) safely: members
 * must stay under the title, links must resolve inside, devices are refused, and the tree is
 * built in a temporary directory that only takes the real name after the tar digest is verified.
 */
import { createHash } from "node:crypto";
import {
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
} from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { SkiffError } from "../../errors.ts";
import { parseDigest } from "../../oci/digest.ts";
import { fileStream, randomSuffix, writeStreamToFile } from "./disk.ts";
import { ensureDirInside, isInside, resolveLinkInside } from "./safe-path.ts";
import { readTarStream } from "./tar-reader.ts";

interface UnpackOptions {
  /** The layer's title: every member must be `title` or below `title/`. */
  title: string;
  /** `io.deis.oras.content.digest`: the digest of the uncompressed tar, checked before the tree is kept. */
  tarDigest?: string;
  /** Names the layer in errors. */
  where: string;
  /**
   * Refuse to inflate beyond this many times the compressed size (gzip bombs); 0 = no limit.
   * Applies above {@link UNPACK_FLOOR} bytes, so small layers of zeros still unpack.
   */
  maxRatio?: number;
}

/** Default `maxRatio`: text and binaries compress 2-20x; only runs of identical bytes reach 1000x. */
const DEFAULT_UNPACK_RATIO = 200;
/** Uncompressed bytes always allowed regardless of the ratio. */
const UNPACK_FLOOR = 64 * 1024 * 1024;

function unsafe(where: string, message: string): never {
  throw new SkiffError("UNSAFE_PATH", `${where}: ${message}`);
}

/** A member name as a path relative to the title directory ("" for the directory itself). */
function memberPath(name: string, title: string, where: string): string {
  const cleaned = name.replace(/^(\.\/)+/, "");
  if (cleaned.startsWith("/") || /^[A-Za-z]:/.test(cleaned) || cleaned.includes("\\")) {
    unsafe(where, `tar member ${JSON.stringify(name)} is an absolute or Windows path`);
  }
  if (cleaned.split("/").includes("..")) unsafe(where, `tar member ${JSON.stringify(name)} contains ".."`);
  const normal = posix.normalize(cleaned).replace(/\/+$/, "");
  const base = posix.normalize(title).replace(/\/+$/, "");
  if (normal === base) return "";
  if (!normal.startsWith(`${base}/`)) {
    unsafe(where, `tar member ${JSON.stringify(name)} is not under ${JSON.stringify(`${base}/`)}`);
  }
  return normal.slice(base.length + 1);
}

/**
 * Extracts the gzip tar in `archive` into a new directory `staging` (which must not exist), then
 * checks the tar digest. On any failure `staging` is removed and the error rethrown.
 */
export async function unpackToStaging(
  archive: string,
  staging: string,
  options: UnpackOptions,
): Promise<void> {
  const { where, title } = options;
  const algorithm = options.tarDigest
    ? parseDigest(options.tarDigest, "io.deis.oras.content.digest").algorithm
    : "sha256";
  const hash = createHash(algorithm);
  await mkdir(staging, { recursive: false, mode: 0o700 });
  const root = staging;
  const links: { path: string; target: string }[] = [];
  const dirModes: { path: string; mode: number; mtime: number }[] = [];
  const ratio = options.maxRatio ?? DEFAULT_UNPACK_RATIO;
  const compressed = (await stat(archive)).size;
  const limit = ratio > 0 ? Math.max(UNPACK_FLOOR, compressed * ratio) : Number.POSITIVE_INFINITY;
  let inflated = 0;
  try {
    const tar = fileStream(archive)
      .pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>)
      .pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            inflated += chunk.byteLength;
            if (inflated > limit) {
              throw new SkiffError(
                "TOO_LARGE",
                `${where}: inflates to more than ${limit} bytes, over ${ratio}x its ${compressed} compressed bytes (a gzip bomb?)`,
                "if you trust this artifact, raise the limit with --max-unpack-ratio (0 for no limit)",
              );
            }
            hash.update(chunk);
            controller.enqueue(chunk);
          },
        }),
      );
    for await (const entry of readTarStream(tar, where, { readToEnd: true })) {
      const rel = memberPath(entry.name, title, where);
      if (rel === "") {
        if (entry.type !== "5")
          unsafe(where, `tar member ${JSON.stringify(entry.name)} replaces the title directory`);
        dirModes.push({ path: root, mode: entry.mode, mtime: entry.mtime });
        continue;
      }
      const parent = await ensureDirInside(root, posix.dirname(rel));
      const dest = join(parent, posix.basename(rel));
      const existing = await lstat(dest).catch(() => undefined);
      switch (entry.type) {
        case "0":
        case "7": {
          if (existing?.isDirectory())
            unsafe(where, `tar member ${JSON.stringify(entry.name)} replaces a directory`);
          if (existing) await unlink(dest);
          await writeStreamToFile(entry.body(), dest, { mode: 0o600 });
          await chmod(dest, entry.mode & 0o777);
          await utimes(dest, entry.mtime, entry.mtime).catch(() => {});
          break;
        }
        case "5": {
          if (existing && !existing.isDirectory()) {
            unsafe(where, `tar member ${JSON.stringify(entry.name)} replaces a file with a directory`);
          }
          if (!existing) await mkdir(dest, { mode: 0o700 });
          dirModes.push({ path: dest, mode: entry.mode, mtime: entry.mtime });
          break;
        }
        case "2": {
          const landed = await resolveLinkInside(root, parent, entry.linkname);
          if (landed === undefined) {
            unsafe(
              where,
              `symlink ${JSON.stringify(entry.name)} -> ${JSON.stringify(entry.linkname)} points outside ${title}`,
            );
          }
          if (existing?.isDirectory())
            unsafe(where, `tar member ${JSON.stringify(entry.name)} replaces a directory`);
          if (existing) await unlink(dest);
          await symlink(entry.linkname, dest);
          links.push({ path: dest, target: entry.linkname });
          break;
        }
        case "1": {
          const targetRel = memberPath(entry.linkname, title, where);
          if (targetRel === "") unsafe(where, `hardlink ${JSON.stringify(entry.name)} points at a directory`);
          const targetParent = await ensureDirInside(root, posix.dirname(targetRel));
          const target = join(targetParent, posix.basename(targetRel));
          const info = await lstat(target).catch(() => undefined);
          if (!info?.isFile()) {
            unsafe(
              where,
              `hardlink ${JSON.stringify(entry.name)} -> ${JSON.stringify(entry.linkname)} has no file to link to`,
            );
          }
          if (existing?.isDirectory())
            unsafe(where, `tar member ${JSON.stringify(entry.name)} replaces a directory`);
          if (existing) await unlink(dest);
          await link(target, dest);
          break;
        }
        case "3":
        case "4":
        case "6":
          unsafe(where, `tar member ${JSON.stringify(entry.name)} is a device node or fifo`);
          break;
        default:
          throw new SkiffError(
            "UNSUPPORTED",
            `${where}: tar member ${JSON.stringify(entry.name)} has unsupported type "${entry.type}"`,
          );
      }
    }
    // Links are checked again on the finished tree: a later member can change where an earlier link leads.
    for (const { path, target } of links) {
      if ((await resolveLinkInside(root, dirname(path), target)) === undefined) {
        unsafe(where, `symlink ${basename(path)} -> ${JSON.stringify(target)} points outside ${title}`);
      }
    }
    if (options.tarDigest) {
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== options.tarDigest) {
        throw new SkiffError(
          "DIGEST_MISMATCH",
          `${where}: the unpacked tar hashes to ${actual}, but io.deis.oras.content.digest says ${options.tarDigest}`,
        );
      }
    }
    for (const { path, mode, mtime } of dirModes.reverse()) {
      await chmod(path, (mode & 0o777) | 0o700).catch(() => {});
      await utimes(path, mtime, mtime).catch(() => {});
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

/**
 * Moves a finished staging tree to `final`: a rename when `final` does not exist; otherwise the
 * staged entries replace their counterparts inside the existing directory (like unpacking over it).
 */
export async function placeTree(staging: string, final: string, root: string): Promise<void> {
  const existing = await lstat(final).catch(() => undefined);
  if (!existing) {
    await rename(staging, final);
    return;
  }
  if (!existing.isDirectory()) {
    throw new SkiffError("FILE_EXISTS", `${final} exists and is not a directory`);
  }
  await mergeInto(staging, final, root);
  await rm(staging, { recursive: true, force: true });
}

async function mergeInto(from: string, to: string, root: string): Promise<void> {
  for (const name of await readdir(from)) {
    const source = join(from, name);
    const target = join(to, name);
    if (!isInside(root, target)) throw new SkiffError("UNSAFE_PATH", `${target} is outside ${root}`);
    const info = await lstat(source);
    const there = await lstat(target).catch(() => undefined);
    if (info.isDirectory() && there?.isDirectory()) {
      await mergeInto(source, target, root);
      continue;
    }
    if (there?.isDirectory()) await rm(target, { recursive: true, force: true });
    else if (there && info.isDirectory()) await unlink(target);
    await rename(source, target);
  }
}

/** A temporary name next to `final` (same directory, so renames stay on one file system). */
export function stagingName(final: string, suffix: string): string {
  return join(dirname(final), `.${basename(final)}.skiff-${randomSuffix()}${suffix}`);
}
