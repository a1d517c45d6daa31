/**
 * Worker side of a blob download into a file: bytes a previous run left there are hashed again
 * and only the rest is asked for; the digest is checked (and the file fsynced when asked) before
 * the job reports success (the main thread then gives it its name).
 *
 * A large blob on a registry that answers `Range` is split: this job receives the first
 * {@link LEAD_BYTES} while hashing them, range jobs on other workers write the rest at its
 * offsets, and this job hashes the file in order behind them (reading back from the page cache).
 * Receiving and writing then run on other cores than hashing, so one blob uses them all.
 */
import { createHash, type Hash } from "node:crypto";
import { constants, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { SkiffError } from "../../errors.ts";
import { parseDigest } from "../../oci/digest.ts";
import type { JobChannel } from "./channel.ts";
import { FAILED, Frontiers, MAX_RANGES, splitRanges } from "./frontiers.ts";
import type { DownloadJob, JobResult, RangeJob } from "./protocol.ts";
import { receive } from "./receive.ts";
import { openBody } from "./request.ts";

/** Blobs with at least this many bytes left to fetch are split (when the pool has idle workers). */
const FORK_MIN_BYTES = 64 * 1024 * 1024;
/** The part of a split download that its own job receives before it only hashes. */
const LEAD_BYTES = 8 * 1024 * 1024;
/**
 * Bytes read back per read by the hasher behind the range writers, into one reused buffer.
 * Synchronous reads: from the page cache they take microseconds, and an awaited read goes
 * through the runtime's thread pool (measured ~0.35 CPU-s per GiB more).
 */
const READ_BACK = 1024 * 1024;

/** Bytes between two early writebacks of a file that gets fsynced at the end. */
const WRITEBACK_EVERY = 32 * 1024 * 1024;

/**
 * For a file that gets fsynced at the end: asks the kernel to write it back every
 * {@link WRITEBACK_EVERY} bytes, one flush at a time in the runtime's thread pool, so the disk
 * works while the network does and the final fsync finds little left to wait for.
 */
class EarlyWriteback {
  #next = WRITEBACK_EVERY;
  #running: Promise<void> | undefined;

  constructor(private readonly handle: FileHandle) {}

  reached(position: number): void {
    if (position < this.#next || this.#running) return;
    this.#next = position + WRITEBACK_EVERY;
    this.#running = this.handle
      .datasync()
      .catch(() => {})
      .finally(() => {
        this.#running = undefined;
      });
  }

  async settled(): Promise<void> {
    await this.#running;
  }
}

interface Prefix {
  hash: Hash;
  size: number;
}

function freshHash(digest: string): Hash {
  return createHash(parseDigest(digest).algorithm);
}

/** Opens `path` for positional writes: created exclusively, or (resuming) kept, never through a symlink. */
async function openTarget(path: string, keep: boolean): Promise<FileHandle> {
  const flags =
    constants.O_RDWR | constants.O_CREAT | (keep ? 0 : constants.O_EXCL) | (constants.O_NOFOLLOW ?? 0);
  return open(path, flags, 0o644);
}

/**
 * Cuts the file to `size` bytes when it is longer. Never truncates a file that is not: on ext4 a
 * truncate to 0 makes close() start writing the whole file back in this thread (auto_da_alloc),
 * which cost a 1 GiB pull ~0.2 s for nothing.
 */
async function cutTo(handle: FileHandle, size: number): Promise<void> {
  if ((await handle.stat()).size > size) await handle.truncate(size);
}

/** The hash state and size of the bytes already in `handle`, when fewer than the blob's size. */
async function hashPrefix(handle: FileHandle, digest: string, size: number): Promise<Prefix> {
  const hash = freshHash(digest);
  const { size: have } = await handle.stat();
  if (have === 0 || have >= size) return { hash, size: 0 };
  const buffer = new Uint8Array(Math.min(READ_BACK, have));
  let done = 0;
  while (done < have) {
    const bytesRead = readSync(handle.fd, buffer, 0, Math.min(buffer.byteLength, have - done), done);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
  return { hash, size: done };
}

function checkDigest(job: DownloadJob, hash: Hash): void {
  const actual = `${parseDigest(job.blob.digest).algorithm}:${hash.digest("hex")}`;
  if (actual !== job.blob.digest) {
    throw new SkiffError(
      "DIGEST_MISMATCH",
      `${job.blob.digest} from ${job.where}: content hashes to ${actual}`,
    );
  }
}

export async function download(channel: JobChannel, job: DownloadJob): Promise<JobResult> {
  const handle = await openTarget(job.path, job.resume);
  const writeback = job.sync ? new EarlyWriteback(handle) : undefined;
  try {
    let prefix: Prefix = job.resume
      ? await hashPrefix(handle, job.blob.digest, job.blob.size)
      : { hash: freshHash(job.blob.digest), size: 0 };
    for (;;) {
      await cutTo(handle, prefix.size);
      try {
        await fill(channel, job, handle, prefix, writeback);
        checkDigest(job, prefix.hash);
        break;
      } catch (error) {
        // Bytes kept from an earlier run that do not add up: once more from the start.
        const mismatch = error instanceof SkiffError && /_MISMATCH$/.test(error.code);
        if (!mismatch || prefix.size === 0) throw error;
        prefix = { hash: freshHash(job.blob.digest), size: 0 };
      }
    }
    if (job.sync) await handle.sync();
    return { bytes: job.blob.size };
  } finally {
    await writeback?.settled();
    await handle.close().catch(() => {});
  }
}

/** Receives the blob after `prefix` into the file, hashing every byte in order. */
async function fill(
  channel: JobChannel,
  job: DownloadJob,
  handle: FileHandle,
  prefix: Prefix,
  writeback: EarlyWriteback | undefined,
): Promise<void> {
  const { blob } = job;
  const base = {
    blob,
    where: job.where,
    fd: handle.fd,
    hash: prefix.hash,
    wrote(at: number) {
      channel.progress(at);
      writeback?.reached(at);
    },
  };
  channel.progress(prefix.size, true);
  const lead = Math.min(blob.size, prefix.size + LEAD_BYTES);
  if (!job.mayFork || blob.size - prefix.size < FORK_MIN_BYTES) {
    await receive(channel, { ...base, from: prefix.size, to: blob.size });
    return;
  }
  const first = await openBody(channel, `blob ${blob.digest} from ${job.where}`, prefix.size, lead);
  if (first.answer.status !== 206) {
    // The server ignores Range: one stream, as it comes.
    await receive(channel, { ...base, from: prefix.size, to: blob.size, first });
    return;
  }
  const frontiers = Frontiers.create(MAX_RANGES);
  const ranges = await channel.fork(lead, blob.size, frontiers.shared);
  if (ranges === 0) {
    await receive(channel, { ...base, from: prefix.size, to: lead, first });
    await receive(channel, { ...base, from: lead, to: blob.size });
    return;
  }
  let hashed = prefix.size;
  try {
    await receive(channel, {
      ...base,
      from: prefix.size,
      to: lead,
      first,
      wrote(at) {
        hashed = at;
        base.wrote(at);
      },
    });
    for (const [slot, [from, to]] of splitRanges(lead, blob.size, ranges).entries()) {
      await hashBehind(channel, handle, frontiers, slot, from, to, prefix.hash, (at) => {
        hashed = at;
        writeback?.reached(at);
      });
    }
  } catch (error) {
    // Keep the partial a prefix of the blob: stop the writers, wait for them, cut after what is hashed.
    frontiers.stop();
    while (!frontiers.settled(ranges)) await frontiers.changed(frontiers.generation, 100);
    await cutTo(handle, hashed);
    throw error;
  }
}

/** Hashes range `slot` (bytes `from`-`to`) as its writer gets it onto disk, telling `hashed` how far. */
async function hashBehind(
  channel: JobChannel,
  handle: FileHandle,
  frontiers: Frontiers,
  slot: number,
  from: number,
  to: number,
  hash: Hash,
  hashed: (position: number) => void,
): Promise<void> {
  const buffer = new Uint8Array(READ_BACK);
  let position = from;
  while (position < to) {
    if (channel.signal.aborted) throw channel.signal.reason;
    const seen = frontiers.generation;
    const state = frontiers.state(slot);
    if (state === FAILED) throw new SkiffError("NETWORK", "a range of the download failed");
    const ready = state === 0 ? Math.min(to, from + frontiers.written(slot)) : to;
    if (ready <= position) {
      await frontiers.changed(seen);
      continue;
    }
    while (position < ready) {
      const bytesRead = readSync(
        handle.fd,
        buffer,
        0,
        Math.min(buffer.byteLength, ready - position),
        position,
      );
      if (bytesRead === 0)
        throw new SkiffError("IO", `${handle.fd}: the file ended at ${position} while hashing`);
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      hashed(position);
    }
  }
}

/** A range job: bytes `from`-`to` written at their offsets, progress published for the hasher. */
export async function writeRange(channel: JobChannel, job: RangeJob): Promise<JobResult> {
  const frontiers = new Frontiers(job.shared);
  let state: typeof FAILED | 1 = FAILED;
  const handle = await open(job.path, constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0)).catch((error) => {
    frontiers.settle(job.slot, FAILED);
    throw error;
  });
  try {
    await receive(channel, {
      blob: job.blob,
      where: job.where,
      fd: handle.fd,
      from: job.from,
      to: job.to,
      wrote(position) {
        if (frontiers.stopped) {
          channel.stop(new SkiffError("NETWORK", "stopped: another part of the download failed"));
          return;
        }
        frontiers.publish(job.slot, position - job.from);
        channel.progress(position - job.from);
      },
    });
    channel.progress(job.to - job.from, true);
    state = 1;
    return { bytes: job.to - job.from };
  } finally {
    await handle.close().catch(() => {});
    frontiers.settle(job.slot, state);
  }
}
