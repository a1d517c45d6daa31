/**
 * Keeping pulled content inside its output directory: title checks, and directory creation that
 * refuses to follow symlinks out of the root.
 */
import { lstat, mkdir, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, posix, sep } from "node:path";
import { SkiffError } from "../../errors.ts";

function unsafe(message: string, hint?: string): never {
  throw new SkiffError("UNSAFE_PATH", message, hint);
}

const TRAVERSAL_HINT = "use -T/--allow-path-traversal only if you trust this artifact";

/**
 * Checks a file name from an `org.opencontainers.image.title` annotation and returns it as a
 * normalized relative path (`/`-separated). Refused: empty names, NUL, and unless
 * `allowTraversal`, `..` segments, absolute paths, drive letters and backslashes.
 */
export function checkTitle(title: string, allowTraversal: boolean): string {
  if (title === "" || title.trim() === "") unsafe("a layer has an empty title");
  if (title.includes("\0")) unsafe(`title ${JSON.stringify(title)} contains a NUL character`);
  if (allowTraversal) return title;
  const shown = JSON.stringify(title);
  if (/^[A-Za-z]:/.test(title)) unsafe(`title ${shown} starts with a drive letter`, TRAVERSAL_HINT);
  if (title.includes("\\")) unsafe(`title ${shown} contains a backslash`, TRAVERSAL_HINT);
  if (title.startsWith("/")) unsafe(`title ${shown} is an absolute path`, TRAVERSAL_HINT);
  const normal = posix.normalize(title).replace(/\/+$/, "");
  if (normal === "." || normal === "") unsafe(`title ${shown} names the output directory itself`);
  // `./C:x` normalizes to a drive-relative Windows path.
  if (/^[A-Za-z]:/.test(normal)) unsafe(`title ${shown} starts with a drive letter`, TRAVERSAL_HINT);
  if (normal === ".." || normal.startsWith("../") || title.split("/").includes("..")) {
    unsafe(`title ${shown} leaves the output directory`, TRAVERSAL_HINT);
  }
  return normal;
}

/** True when `path` is `root` or below it (both absolute, resolved). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Creates the directories of `relativeDir` under `root` one at a time; an existing component
 * that is a symlink must resolve inside `root`. Returns the real path of the directory.
 * `root` must be a real path (see {@link realRoot}).
 */
export async function ensureDirInside(root: string, relativeDir: string): Promise<string> {
  let current = root;
  for (const part of relativeDir.split(/[\\/]/)) {
    if (part === "" || part === ".") continue;
    if (part === "..") unsafe(`path ${JSON.stringify(relativeDir)} leaves ${root}`);
    const next = join(current, part);
    let info: Awaited<ReturnType<typeof lstat>> | undefined;
    try {
      info = await lstat(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (!info) {
      try {
        await mkdir(next);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      current = await realpath(next);
    } else if (info.isSymbolicLink()) {
      const real = await realpath(next).catch(() => undefined);
      if (real === undefined || !isInside(root, real)) {
        unsafe(`${next} is a symlink that leads outside ${root}`);
      }
      current = real;
    } else if (info.isDirectory()) {
      current = next;
    } else {
      throw new SkiffError("FILE_EXISTS", `${next} exists and is not a directory`);
    }
    if (!isInside(root, current)) unsafe(`${next} leads outside ${root}`);
  }
  return current;
}

/** Creates `dir` if needed and returns its real path. */
export async function realRoot(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return realpath(dir);
}

/**
 * Follows a symlink target from `fromDir` on disk, component by component, following symlinks it
 * meets; returns where it lands, or undefined when any step leaves `root` (or loops).
 */
export async function resolveLinkInside(
  root: string,
  fromDir: string,
  target: string,
  depth = 0,
): Promise<string | undefined> {
  if (depth > 40 || isAbsolute(target) || /^[A-Za-z]:/.test(target)) return undefined;
  let current = fromDir;
  for (const part of target.split(/[\\/]/)) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      current = dirname(current);
    } else {
      const next = join(current, part);
      let link: string | undefined;
      try {
        if ((await lstat(next)).isSymbolicLink()) link = await readlink(next);
      } catch {
        // not there (yet): lexical from here on
      }
      if (link !== undefined) {
        const landed = await resolveLinkInside(root, current, link, depth + 1);
        if (landed === undefined) return undefined;
        current = landed;
      } else current = next;
    }
    if (!isInside(root, current)) return undefined;
  }
  return current;
}
