/**
 * Resume across runs: a blob is written to a partial file named by its digest, which a failed or
 * killed run leaves behind; the next run hashes its bytes again from disk and asks the source only
 * for the rest. One process at a time owns a partial (its `.lock`, see layout/lock.ts).
 */
import { lstat, rm } from "node:fs/promises";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { tryLock } from "../layout/lock.ts";
import type { Opened } from "../target.ts";
import { hasherFor, verifiedOnce, verifyingStream } from "../verify.ts";
import { appendStreamToFile, fileStream } from "./disk.ts";

type Prefix = { hash: ReturnType<typeof hasherFor>; size: number };

/**
 * The hash state and size of a partial file's bytes, read from disk; an empty state when there is
 * none, when it is not a regular file, or when it is not shorter than the blob.
 */
async function hashPartial(path: string, desc: Descriptor): Promise<Prefix> {
  const hash = hasherFor(desc.digest);
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size === 0 || info.size >= desc.size) return { hash, size: 0 };
  let size = 0;
  for await (const chunk of fileStream(path, 0, info.size)) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { hash, size };
}

/**
 * Writes blob `desc` to `partial`, after the bytes a previous run left there when `open` can serve
 * the rest, verified as a whole, then calls `commit` (which gives it its final name) while still
 * holding the claim (fsynced first unless `sync` is false). Returns false, having done nothing,
 * when another live process holds it.
 */
export async function resumeInto(
  partial: string,
  desc: Descriptor,
  open: (offset: number) => Promise<Opened>,
  where: string,
  commit: () => Promise<void>,
  sync = true,
): Promise<boolean> {
  const release = await tryLock(`${partial}.lock`, Number.POSITIVE_INFINITY);
  if (!release) return false;
  try {
    let prefix = await hashPartial(partial, desc);
    for (;;) {
      const from = prefix.size;
      try {
        const opened = await open(from);
        // A source gives the bytes from where it was asked, or all of them (offset 0).
        const content =
          opened.offset > 0
            ? verifyingStream(opened.stream, desc, where, prefix)
            : verifiedOnce(opened.stream, desc, where);
        // A fresh start replaces whatever is there (a symlink too, not what it points at).
        if (opened.offset === 0) await rm(partial, { force: true });
        await appendStreamToFile(content, partial, { sync });
        break;
      } catch (error) {
        // Only a broken transfer keeps its bytes for the next run; anything else starts over.
        if (error instanceof SkiffError && error.code === "NETWORK") throw error;
        await rm(partial, { force: true });
        const mismatch = error instanceof SkiffError && /_MISMATCH$/.test(error.code);
        if (!mismatch || from === 0) throw error;
        prefix = { hash: hasherFor(desc.digest), size: 0 }; // the bytes on disk were wrong: once more from 0
      }
    }
    await commit();
    return true;
  } finally {
    await release();
  }
}

/**
 * Lets `fill` write blob `desc` into `partial` (a worker: see content/transfer), holding the claim,
 * then calls `commit`. A network failure keeps the partial for the next run; any other failure
 * removes it. Returns false, having done nothing, when another live process holds the claim.
 */
export async function fillPartial(
  partial: string,
  fill: () => Promise<void>,
  commit: () => Promise<void>,
): Promise<boolean> {
  const release = await tryLock(`${partial}.lock`, Number.POSITIVE_INFINITY);
  if (!release) return false;
  try {
    try {
      await fill();
    } catch (error) {
      if (!(error instanceof SkiffError && error.code === "NETWORK")) await rm(partial, { force: true });
      throw error;
    }
    await commit();
    return true;
  } finally {
    await release();
  }
}
