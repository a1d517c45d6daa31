/**
 * Blob downloads: the GET of a blob, whole or from a byte ({@link openBlob}), with a body that
 * survives a broken connection ({@link resumableBody}): when the body fails (or ends early) before
 * `size` bytes, the rest is asked for with `Range: bytes=N-` and, when the server answers 206 from
 * N, the stream carries on; a 200 (no range support) restarts the transfer and the bytes already
 * passed on are skipped. The consumer sees one continuous stream, so a verifying hasher after it
 * keeps going across the break.
 */
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Opened } from "../target.ts";
import { bytesStream, verifyingStream } from "../verify.ts";
import type { RegistryClient } from "./client.ts";
import { backoffDelay, MAX_RETRIES, sleep } from "./retry.ts";
import { parseContentRange } from "./served.ts";

/** Opens the blob again from `offset` (a `Range` request); the response may be 206 or 200. */
type Reopen = (offset: number) => Promise<Response>;

interface ResumableOptions {
  /** How many times the body may be reopened (default 5). */
  maxResumes?: number;
  /** Names the blob in errors. */
  what: string;
  /** The byte of the blob `first`'s body starts at (a 206 answer to a `Range` request); default 0. */
  start?: number;
  /** Called when a resume starts at `offset` (debug output). */
  onResume?: (offset: number, how: "range" | "restart") => void;
}

/**
 * The body of `first` as a stream of the blob's `size` bytes from `options.start` (fewer is retried;
 * more is left for the verifier after it to refuse), reopening through `reopen` when the body breaks.
 */
function resumableBody(
  first: Response,
  size: number,
  reopen: Reopen,
  options: ResumableOptions,
): ReadableStream<Uint8Array> {
  const maxResumes = options.maxResumes ?? MAX_RETRIES;
  let reader = first.body!.getReader();
  /** The blob's bytes before the end of what was passed on (counting from byte 0). */
  let passed = options.start ?? 0;
  /** Bytes of the current body still to drop (after a restart from 0). */
  let skip = 0;
  let resumes = 0;

  const resume = async (cause: unknown): Promise<void> => {
    if (resumes >= maxResumes) {
      throw cause instanceof SkiffError
        ? cause
        : new SkiffError(
            "NETWORK",
            `${options.what}: the download broke after ${passed} of ${size} bytes`,
            undefined,
            {
              cause,
            },
          );
    }
    await sleep(backoffDelay(resumes));
    resumes++;
    const response = await reopen(passed);
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get("content-range"));
      if (!range || range.start !== passed) {
        await response.body?.cancel().catch(() => {});
        throw new SkiffError(
          "REGISTRY",
          `${options.what}: asked to resume at byte ${passed}, the registry sent ${response.headers.get("content-range") ?? "no Content-Range"}`,
        );
      }
      options.onResume?.(passed, "range");
      skip = 0;
    } else if (response.status === 200) {
      options.onResume?.(passed, "restart");
      skip = passed;
    } else {
      await response.body?.cancel().catch(() => {});
      throw new SkiffError(
        "REGISTRY",
        `${options.what}: resuming the download at byte ${passed} failed (${response.status} ${response.statusText})`,
      );
    }
    if (!response.body)
      throw new SkiffError("REGISTRY", `${options.what}: the registry resumed with no body`);
    reader = response.body.getReader();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = await reader.read();
        } catch (error) {
          if (passed >= size) {
            // Everything arrived; the connection broke afterwards.
            controller.close();
            return;
          }
          await resume(error);
          continue;
        }
        if (chunk.done || !chunk.value) {
          if (passed < size) {
            await resume(
              new SkiffError(
                "NETWORK",
                `${options.what}: the connection ended after ${passed} of ${size} bytes`,
              ),
            );
            continue;
          }
          controller.close();
          return;
        }
        let value = chunk.value;
        if (skip > 0) {
          if (value.byteLength <= skip) {
            skip -= value.byteLength;
            continue;
          }
          value = value.subarray(skip);
          skip = 0;
        }
        passed += value.byteLength;
        controller.enqueue(value);
        return;
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  });
}

/** A repository as {@link openBlob} reads from it: `name` in messages, `scopes` at each request. */
interface BlobPlace {
  repository: string;
  name: string;
  scopes: () => string[];
}

/**
 * GET blob `desc` from byte `from`: the rest, unverified, when the registry answers 206 from
 * there; else the whole blob, verified, from byte 0. Either body resumes when it breaks.
 */
export async function openBlob(
  client: RegistryClient,
  place: BlobPlace,
  desc: Descriptor,
  from: number,
): Promise<Opened> {
  const url = `/v2/${place.repository}/blobs/${desc.digest}`;
  const what = `blob ${desc.digest}`;
  const open = (offset: number) =>
    client.send({
      method: "GET",
      url,
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      scopes: place.scopes(),
    });
  const response = await open(from);
  if (from > 0 && response.status === 206) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range?.start !== from || (range.total !== undefined && range.total !== desc.size)) {
      await response.body?.cancel().catch(() => {});
      throw new SkiffError(
        "REGISTRY",
        `${what} from ${place.name}: asked for bytes ${from}-, the registry sent ${response.headers.get("content-range") ?? "no Content-Range"}`,
      );
    }
    if (!response.body)
      throw new SkiffError("REGISTRY", `${what} from ${place.name}: a 206 answer with no body`);
    const rest = resumableBody(response, desc.size, open, {
      what: `${what} from ${place.name}`,
      start: from,
    });
    return { stream: rest, offset: from };
  }
  if (response.status !== 200) {
    throw await client.fail(response, {
      repository: place.repository,
      what,
      reference: `${place.name}@${desc.digest}`,
    });
  }
  const length = response.headers.get("content-length");
  if (length !== null && Number(length) !== desc.size) {
    await response.body?.cancel().catch(() => {});
    throw new SkiffError(
      "SIZE_MISMATCH",
      `${what} from ${place.name}: the registry announces ${length} bytes, the descriptor says ${desc.size}`,
    );
  }
  const whole = response.body
    ? verifyingStream(
        resumableBody(response, desc.size, open, { what: `${what} from ${place.name}` }),
        desc,
        place.name,
      )
    : verifyingStream(bytesStream(new Uint8Array()), desc, place.name);
  return { stream: whole, offset: 0 };
}
