/**
 * Blob transfers whose bytes never pass through the main thread. A source that can say where a
 * blob lives in terms a worker can reach ({@link BlobLocator}: a registry URL it prepares requests
 * for, or a file) and a destination that lets a worker fill a file for the blob
 * ({@link FileFiller}) move it on the worker pool: the worker receives, hashes and writes; the
 * main thread answers its requests (tokens, redirects), reports progress and gives the verified
 * file its name. A file going to a registry ({@link FileUploader}) is sent by the kernel.
 */
import { rm } from "node:fs/promises";
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { cpuCountable, spareCores } from "../../runtime/transfer.ts";
import { FAILED, Frontiers, MAX_RANGES, splitRanges } from "./frontiers.ts";
import { RefusedRequest, type RunningJob, type TransferPool, transferPool, WorkerCrashed } from "./pool.ts";
import type { Ask, Job, PreparedRequest, Refusal } from "./protocol.ts";

/** Blobs smaller than this stay on the main thread (a worker round trip would cost more). */
export const OFFLOAD_MIN_BYTES = 1024 * 1024;
/** Each range job of a split download gets at least this many bytes. */
const RANGE_MIN_BYTES = 32 * 1024 * 1024;
/** A download is split only when the machine left at least this much of a core idle lately. */
const MIN_SPARE_CORES = 0.5;
/** How long to look at the idle CPU when asked too soon after start to tell. */
const LOOK_MS = 40;

/** Where a source keeps a blob, in terms a worker can use. */
export type BlobOrigin =
  | {
      kind: "registry";
      where: string;
      /** The request for an {@link Ask} (current token, routing); throws when it must not be sent. */
      prepare(question: Ask): Promise<PreparedRequest>;
      /** The error for an answer that is not the blob. */
      refused(refusal: Refusal): Promise<Error>;
      /** The error for a network failure the worker gave up on. */
      network(error: unknown): Error;
      debug(lines: string[]): void;
    }
  | {
      kind: "file";
      where: string;
      path: string;
      /** Throws what reading the blob would (missing, wrong size) before a worker copies it. */
      check(): Promise<void>;
      /**
       * For a file hashed already (push): true when it has not changed since, so a copy of it
       * need not be hashed again. Asked after the copy.
       */
      unchangedSinceHashed?(): Promise<boolean>;
    };

/** A source that can tell workers where its blobs are (undefined: only as a stream). */
export interface BlobLocator {
  locateBlob(desc: Descriptor): Promise<BlobOrigin | undefined>;
}

/** The file a worker writes a blob into: a new file, or (`resume`) a partial whose bytes it may keep. */
export interface BlobFile {
  path: string;
  resume: boolean;
  /**
   * fsync before reporting success: a layout names blobs by digest and must never name a torn one
   * after a power loss; files of a pull are whole after a crash without it (renamed when written).
   */
  sync: boolean;
}

/**
 * A destination that stores a blob from a file a worker fills: it names the file, `fill` writes
 * and verifies it (fsynced when `sync`), and the store then gives it its name. False when it
 * cannot take this blob that way (the caller pushes it as a stream instead).
 */
export interface FileFiller {
  fillBlob(desc: Descriptor, fill: (file: BlobFile) => Promise<void>): Promise<boolean>;
}

/** A destination that uploads a blob from a file without reading it (false: it cannot, stream it). */
export interface FileUploader {
  uploadFile(desc: Descriptor, path: string): Promise<boolean>;
}

function isFileUploader(target: unknown): target is FileUploader {
  return typeof (target as Partial<FileUploader>).uploadFile === "function";
}

export function isBlobLocator(source: unknown): source is BlobLocator {
  return typeof (source as Partial<BlobLocator>).locateBlob === "function";
}

function isFileFiller(target: unknown): target is FileFiller {
  return typeof (target as Partial<FileFiller>).fillBlob === "function";
}

/** The origin with every error it produces passed through `map` (e.g. to say which manifest listed the blob). */
export function mapOriginErrors(origin: BlobOrigin, map: (error: Error) => Error): BlobOrigin {
  if (origin.kind === "file") {
    return { ...origin, check: () => origin.check().catch((error: Error) => Promise.reject(map(error))) };
  }
  return {
    ...origin,
    refused: async (refusal) => map(await origin.refused(refusal)),
    network: (error) => map(origin.network(error)),
  };
}

/** How the copy watches a transfer: progress, and whether it should stop (another transfer failed). */
interface TransferWatch {
  progress(bytes: number): void;
  stopped(): boolean;
  /** The error a stopped transfer ends with. */
  stopError(): Error;
}

/**
 * Moves blob `desc` from `source` to `destination` without its bytes passing through the main
 * thread. Resolves to false, having done nothing, when the pair cannot (no pool, a small blob, a
 * source or destination without the capability); the caller then copies the blob as a stream.
 */
export async function offloadTransfer(
  source: unknown,
  destination: unknown,
  desc: Descriptor,
  watch: TransferWatch,
): Promise<boolean> {
  if (desc.size < OFFLOAD_MIN_BYTES || !isBlobLocator(source)) return false;
  const pool = transferPool();
  const uploads = isFileUploader(destination);
  if (!uploads && !(pool && isFileFiller(destination))) return false;
  const origin = await source.locateBlob(desc);
  if (!origin) return false;
  if (origin.kind === "file") await origin.check();
  if (uploads) {
    if (origin.kind !== "file" || !(await destination.uploadFile(desc, origin.path))) return false;
    watch.progress(desc.size);
    return true;
  }
  if (!pool || !isFileFiller(destination)) return false;
  return destination.fillBlob(desc, async (file) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await new Transfer(pool, origin, desc, file, watch, attempt).run();
        return;
      } catch (error) {
        // A dead worker may have left anything in the file: once more, from nothing.
        if (!(error instanceof WorkerCrashed) || attempt > 0) throw error;
        if (origin.kind === "registry") origin.debug([`* ${desc.digest}: ${error.message}; trying again`]);
        await rm(file.path, { force: true });
      }
    }
  });
}

/** One attempt at one blob: the job, its range jobs when it forks, and their progress. */
class Transfer {
  readonly #ranges: { job: RunningJob; settled: Promise<unknown> }[] = [];
  readonly #rangeBytes: number[] = [];
  #leadBytes = 0;
  #rangeError: Error | undefined;
  #cancelled = false;
  #lead: RunningJob | undefined;
  readonly #crashAfter: number | undefined;

  constructor(
    private readonly pool: TransferPool,
    private readonly origin: BlobOrigin,
    private readonly desc: Descriptor,
    private readonly file: BlobFile,
    private readonly watch: TransferWatch,
    attempt: number,
  ) {
    this.#crashAfter = injectedCrash(attempt);
  }

  async run(): Promise<void> {
    const blob = { digest: this.desc.digest, size: this.desc.size };
    const crashAfter = this.#crashAfter;
    const job: Job =
      this.origin.kind === "file"
        ? {
            kind: "copy",
            blob,
            source: this.origin.path,
            path: this.file.path,
            where: this.origin.where,
            hash: this.origin.unchangedSinceHashed === undefined,
            sync: this.file.sync,
          }
        : {
            kind: "download",
            blob,
            path: this.file.path,
            resume: this.file.resume,
            where: this.origin.where,
            mayFork: true,
            sync: this.file.sync,
          };
    if (crashAfter !== undefined) job.crashAfter = crashAfter;
    const lead = this.pool.run(job, {
      ...this.#requests(),
      progress: (bytes) => {
        this.#leadBytes = bytes;
        this.#progress();
      },
      fork: (from, to, shared) => this.#fork(from, to, shared),
    });
    this.#lead = lead;
    try {
      await lead.result;
    } catch (error) {
      this.#cancel();
      await Promise.all(this.#ranges.map((range) => range.settled));
      throw await this.#explain(this.#rangeError ?? error);
    }
    await Promise.all(this.#ranges.map((range) => range.settled));
    if (this.origin.kind === "file" && this.origin.unchangedSinceHashed) await this.#checkCopy(this.origin);
  }

  /** A copy made without hashing: when its source changed since it was hashed, the copy is hashed now. */
  async #checkCopy(origin: { where: string; unchangedSinceHashed?(): Promise<boolean> }): Promise<void> {
    if (await origin.unchangedSinceHashed!()) return;
    const algorithm = this.desc.digest.split(":")[0]!;
    const { digest } = await this.pool.run({ kind: "hash", path: this.file.path, algorithm }).result;
    if (digest !== this.desc.digest) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${this.desc.digest} from ${origin.where}: content hashes to ${digest}`,
      );
    }
  }

  #debug(line: string): void {
    if (this.origin.kind === "registry") this.origin.debug([line]);
  }

  #requests(): { ask?: (question: Ask) => Promise<PreparedRequest>; debug?: (lines: string[]) => void } {
    const origin = this.origin;
    if (origin.kind !== "registry") return {};
    return { ask: (question) => origin.prepare(question), debug: (lines) => origin.debug(lines) };
  }

  #progress(): void {
    if (this.watch.stopped()) {
      this.#cancel();
      return;
    }
    let bytes = this.#leadBytes;
    for (const range of this.#rangeBytes) bytes += range;
    this.watch.progress(Math.min(bytes, this.desc.size));
  }

  #cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#lead?.cancel();
    for (const range of this.#ranges) range.job.cancel();
  }

  /** Starts range jobs for bytes `from`-`to` on workers without a blob of their own; returns how many. */
  async #fork(from: number, to: number, shared: SharedArrayBuffer): Promise<number> {
    if (this.#cancelled || !this.#lead) return 0;
    const { split, why } = await mayFork();
    const count = split
      ? Math.min(this.pool.idle(this.#lead.slot), MAX_RANGES, Math.floor((to - from) / RANGE_MIN_BYTES))
      : 0;
    this.#debug(
      `* ${this.desc.digest}: ${count > 0 ? `split into ${count + 1} requests` : "one request"} (${why})`,
    );
    if (count <= 0) return 0;
    const frontiers = new Frontiers(shared);
    const ranges = splitRanges(from, to, count);
    const blob = { digest: this.desc.digest, size: this.desc.size };
    for (const [slot, [start, end]] of ranges.entries()) {
      this.#rangeBytes[slot] = 0;
      const job = this.pool.run(
        {
          kind: "range",
          blob,
          path: this.file.path,
          from: start,
          to: end,
          slot,
          shared,
          where: this.origin.where,
          ...(this.#crashAfter !== undefined ? { crashAfter: this.#crashAfter } : {}),
        },
        {
          ...this.#requests(),
          progress: (bytes) => {
            this.#rangeBytes[slot] = bytes;
            this.#progress();
          },
        },
        this.#lead.slot,
      );
      const settled = job.result.catch((error: Error) => {
        // A worker that died cannot say so itself.
        frontiers.settle(slot, FAILED);
        if (!this.#cancelled && !this.#rangeError) this.#rangeError = error;
        this.#cancel();
      });
      this.#ranges.push({ job, settled });
    }
    return ranges.length;
  }

  /** The error a failed job means for the user. */
  async #explain(error: unknown): Promise<Error> {
    if (this.#cancelled && !this.#rangeError && this.watch.stopped()) return this.watch.stopError();
    if (error instanceof SkiffError) return error;
    if (error instanceof RefusedRequest && this.origin.kind === "registry")
      return this.origin.refused(error.refusal);
    if (this.origin.kind === "registry") return this.origin.network(error);
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Whether a download may be split now. Splitting costs a second read of the blob (the hasher's),
 * so it pays only when the machine has a core to spare: `SKIFF_TRANSFER_SPLIT=always` splits
 * whenever a worker is free (tests), `never` never, anything else decides by the idle CPU time.
 */
async function mayFork(
  env: Record<string, string | undefined> = process.env,
): Promise<{ split: boolean; why: string }> {
  if (env.SKIFF_TRANSFER_SPLIT === "always" || env.SKIFF_TRANSFER_SPLIT === "never") {
    return {
      split: env.SKIFF_TRANSFER_SPLIT === "always",
      why: `SKIFF_TRANSFER_SPLIT=${env.SKIFF_TRANSFER_SPLIT}`,
    };
  }
  let spare = spareCores();
  if (spare === undefined && cpuCountable) {
    // Asked too soon after start: look a little longer rather than guess (the blob is >= 64 MiB).
    await new Promise((done) => setTimeout(done, LOOK_MS));
    spare = spareCores();
  }
  if (spare === undefined) return { split: true, why: "idle CPU unknown" };
  return { split: spare >= MIN_SPARE_CORES, why: `${spare.toFixed(1)} cores idle lately` };
}

/**
 * Fault injection for tests: `SKIFF_TEST_CRASH_WORKER=BYTES[:ATTEMPTS]` makes the worker of the
 * first ATTEMPTS attempts (default 1) at each blob crash after BYTES bytes.
 */
function injectedCrash(
  attempt: number,
  env: Record<string, string | undefined> = process.env,
): number | undefined {
  const text = env.SKIFF_TEST_CRASH_WORKER;
  if (!text) return undefined;
  const [bytes, attempts] = text.split(":").map(Number);
  if (!Number.isFinite(bytes) || attempt >= (attempts ?? 1)) return undefined;
  return bytes;
}

/** The sha256 digest and size of a file, hashed on a transfer worker; undefined without a pool. */
export async function hashOnWorker(path: string): Promise<{ digest: string; size: number } | undefined> {
  const pool = transferPool();
  if (!pool) return undefined;
  const { digest, bytes } = await pool.run({ kind: "hash", path, algorithm: "sha256" }).result;
  return { digest: digest!, size: bytes };
}
