/**
 * Worker side of jobs on local files: a blob copied from one file to another (a layout source)
 * and verified in its new place, and the digest of a file (push).
 */
import { createHash } from "node:crypto";
import { constants, readSync } from "node:fs";
import { copyFile, type FileHandle, open, rm, stat } from "node:fs/promises";
import { SkiffError } from "../../errors.ts";
import { parseDigest } from "../../oci/digest.ts";
import type { JobChannel } from "./channel.ts";
import type { CopyJob, HashJob, JobResult } from "./protocol.ts";

/** Bytes per read when hashing a file: one buffer, reused; synchronous reads (see download.ts). */
const READ_SIZE = 1024 * 1024;

/** Hashes the file behind `handle` (from its start); reports progress to `channel` when given. */
async function hashHandle(
  handle: FileHandle,
  algorithm: string,
  channel?: JobChannel,
): Promise<{ digest: string; size: number }> {
  const hash = createHash(algorithm);
  const buffer = new Uint8Array(READ_SIZE);
  let size = 0;
  for (;;) {
    if (channel?.signal.aborted) throw channel.signal.reason;
    const bytesRead = readSync(handle.fd, buffer, 0, buffer.byteLength, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
    channel?.progress(size);
  }
  return { digest: `${algorithm}:${hash.digest("hex")}`, size };
}

export async function hashFile(job: HashJob): Promise<JobResult> {
  const handle = await open(job.path, "r");
  try {
    const { digest, size } = await hashHandle(handle, job.algorithm);
    return { bytes: size, digest };
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Copies the source file to `job.path` (the kernel copies: no bytes through JavaScript), then
 * hashes the copy, so what gets a name is what was verified (unless the main thread vouches for
 * the source: `job.hash` false), and fsyncs it when asked.
 */
export async function copyBlob(channel: JobChannel, job: CopyJob): Promise<JobResult> {
  const { size } = await stat(job.source);
  if (size !== job.blob.size) {
    throw new SkiffError(
      "SIZE_MISMATCH",
      `blob ${job.blob.digest} in ${job.where} is ${size} bytes, expected ${job.blob.size}`,
    );
  }
  // A file (or symlink) left at the name is replaced, never written through.
  await rm(job.path, { force: true });
  await copyFile(job.source, job.path, constants.COPYFILE_EXCL);
  const handle = await open(job.path, constants.O_RDWR | (constants.O_NOFOLLOW ?? 0));
  try {
    const copied = job.hash
      ? await hashHandle(handle, parseDigest(job.blob.digest).algorithm, channel)
      : { digest: job.blob.digest, size: (await handle.stat()).size };
    if (copied.size !== job.blob.size) {
      throw new SkiffError(
        "SIZE_MISMATCH",
        `${job.blob.digest} from ${job.where}: got ${copied.size} bytes, expected ${job.blob.size}`,
      );
    }
    if (copied.digest !== job.blob.digest) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${job.blob.digest} from ${job.where}: content hashes to ${copied.digest}`,
      );
    }
    channel.progress(copied.size, true);
    if (job.sync) await handle.sync();
    return { bytes: copied.size };
  } finally {
    await handle.close().catch(() => {});
  }
}
