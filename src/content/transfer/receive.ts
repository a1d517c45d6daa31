/**
 * Worker side: bytes of a registry blob received into a file at their offsets. A body that breaks
 * off is asked for again from where it stopped (`Range`); a server that answers 200 instead
 * sends everything again and the bytes already written are read past.
 */
import { writeSync } from "node:fs";
import { SkiffError } from "../../errors.ts";
import { collectGarbage } from "../../runtime/transfer.ts";
import { isRetryableNetworkError } from "../registry/errors.ts";
import { backoffDelay, MAX_RETRIES, sleep } from "../registry/retry.ts";
import { parseContentRange } from "../registry/served.ts";
import type { JobChannel } from "./channel.ts";
import type { BlobId } from "./protocol.ts";
import { type OpenBody, openBody } from "./request.ts";

/**
 * Bytes received by this worker between two garbage collections (runtime/transfer.ts): every
 * 64 MiB kept a 1 GiB pull at 73-78 MiB peak RSS for ~0.1 CPU-s; every 16 MiB at 71 MiB for ~0.25.
 */
const COLLECT_EVERY = 64 * 1024 * 1024;
let sinceCollected = 0;

/** Writes all of `bytes` at `position` of `fd`. */
function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
  }
}

interface Receiving {
  blob: BlobId;
  /** `host/repo`, for messages. */
  where: string;
  fd: number;
  /** Bytes `from`-`to` (exclusive) of the blob. */
  from: number;
  to: number;
  /** Sees every byte in order (the verifying hash), when given. */
  hash?: { update(bytes: Uint8Array): unknown };
  /** An answer already opened for `from` (the probe of a segmented download). */
  first?: OpenBody;
  /** Called after each write with the position reached; throwing stops the transfer. */
  wrote?: (position: number) => void;
}

/** Receives `r.from`-`r.to` into `r.fd`, retrying and resuming; throws SkiffErrors or the runtime's network error. */
export async function receive(channel: JobChannel, r: Receiving): Promise<void> {
  const what = `blob ${r.blob.digest} from ${r.where}`;
  const bounded = r.to < r.blob.size;
  let position = r.from;
  let resumes = 0;
  let opened = r.first;
  for (;;) {
    const {
      answer: response,
      watch,
      signal,
    } = opened ?? (await openBody(channel, what, position, bounded ? r.to : undefined));
    opened = undefined;
    let skip = 0;
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get("content-range"));
      if (range?.start !== position || (range.total !== undefined && range.total !== r.blob.size)) {
        await response.cancel();
        throw new SkiffError(
          "REGISTRY",
          `${what}: asked for bytes ${position}-, the registry sent ${response.headers.get("content-range") ?? "no Content-Range"}`,
        );
      }
    } else {
      const length = response.headers.get("content-length");
      if (length !== null && Number(length) !== r.blob.size) {
        await response.cancel();
        throw new SkiffError(
          "SIZE_MISMATCH",
          `${what}: the registry announces ${length} bytes, the descriptor says ${r.blob.size}`,
        );
      }
      skip = position; // the whole blob again: read past what is written
    }
    try {
      await watch.around(
        response.pipe((bytes) => {
          watch.touch();
          let chunk = bytes;
          if (skip > 0) {
            if (chunk.byteLength <= skip) {
              skip -= chunk.byteLength;
              return false;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          if (position + chunk.byteLength > r.to) {
            if (!bounded) {
              throw new SkiffError(
                "SIZE_MISMATCH",
                `${r.blob.digest} from ${r.where}: more than the expected ${r.blob.size} bytes`,
              );
            }
            chunk = chunk.subarray(0, r.to - position);
          }
          r.hash?.update(chunk);
          writeAt(r.fd, chunk, position);
          position += chunk.byteLength;
          sinceCollected += chunk.byteLength;
          if (sinceCollected >= COLLECT_EVERY) {
            sinceCollected = 0;
            collectGarbage();
          }
          r.wrote?.(position);
          return bounded && position === r.to;
        }),
      );
    } catch (error) {
      watch.stop();
      await response.cancel();
      if (channel.signal.aborted) throw channel.signal.reason;
      if (error instanceof SkiffError && error.code !== "NETWORK") throw error;
      if (position >= r.to) return; // everything arrived; the connection broke afterwards
      const cause = signal.aborted ? signal.reason : error;
      if (resumes >= MAX_RETRIES || !isRetryableNetworkError(cause)) {
        throw cause instanceof SkiffError
          ? cause
          : new SkiffError(
              "NETWORK",
              `${what}: the download broke after ${position} of ${r.blob.size} bytes`,
              undefined,
              {
                cause,
              },
            );
      }
      await sleep(backoffDelay(resumes++), channel.signal);
      continue;
    }
    watch.stop();
    await response.cancel();
    if (position >= r.to) return;
    if (resumes >= MAX_RETRIES) {
      throw new SkiffError(
        "NETWORK",
        `${what}: the connection ended after ${position} of ${r.blob.size} bytes`,
      );
    }
    await sleep(backoffDelay(resumes++), channel.signal);
  }
}
