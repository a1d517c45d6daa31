import { createHash } from "node:crypto";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { parseDigest } from "../oci/digest.ts";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.ts";

/** An incremental hasher for a descriptor's algorithm (native via node:crypto). */
export function hasherFor(digest: string): ReturnType<typeof createHash> {
  return createHash(parseDigest(digest).algorithm);
}

/** The digest of `bytes` in `algorithm` form (`sha256:...`). */
export function digestOf(bytes: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Throws unless `bytes` have the descriptor's size and digest; `where` names the source. */
export function verifyBytes(bytes: Uint8Array, desc: Descriptor, where: string): void {
  if (bytes.byteLength !== desc.size) {
    throw new SkiffError(
      "SIZE_MISMATCH",
      `${desc.digest} from ${where}: got ${bytes.byteLength} bytes, expected ${desc.size}`,
    );
  }
  const actual = digestOf(bytes, parseDigest(desc.digest).algorithm);
  if (actual !== desc.digest) {
    throw new SkiffError("DIGEST_MISMATCH", `${desc.digest} from ${where}: content hashes to ${actual}`);
  }
}

/**
 * Streams made by {@link verifyingStream} (and taps of them), with the `digest@size` they check.
 * Such a stream either yields exactly that content and closes, or errors: a consumer that sees the
 * end without an error has verified bytes and need not hash them again.
 */
const verifiedStreams = new WeakMap<ReadableStream<Uint8Array>, string>();
const contentKey = (desc: Descriptor): string => `${desc.digest}@${desc.size}`;

/** True when `stream` errors at its end unless its bytes are exactly `desc`'s (see {@link verifyingStream}). */
export function isVerifiedFor(stream: ReadableStream<Uint8Array>, desc: Descriptor): boolean {
  return verifiedStreams.get(stream) === contentKey(desc);
}

interface TapHooks {
  /** Sees each chunk before it is passed on; throwing errors the stream. */
  chunk?(chunk: Uint8Array): void;
  /** Runs at the source's end, before the stream closes; throwing errors the stream. */
  end?(): void;
}

/**
 * `source`'s chunks, unchanged, shown to `hooks` on the way: one stage that reads only when its
 * consumer asks (no read-ahead of its own). A tap of a verified stream is verified too: it passes
 * every byte and every error on.
 */
export function tap(source: ReadableStream<Uint8Array>, hooks: TapHooks): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const out = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) {
            hooks.end?.();
            controller.close();
            return;
          }
          hooks.chunk?.(value);
          controller.enqueue(value);
        } catch (error) {
          await reader.cancel(error).catch(() => {});
          throw error;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  const mark = verifiedStreams.get(source);
  if (mark !== undefined) verifiedStreams.set(out, mark);
  return out;
}

/**
 * Counts bytes against `desc.size` (from `start`, the bytes that came before): `count` throws once
 * they run past it, `finish` when they end short. Never hand on bytes past the size.
 */
function sizeGuard(
  desc: Descriptor,
  where: string,
  start = 0,
): { count(chunk: Uint8Array): void; finish(): void } {
  let seen = start;
  return {
    count(chunk) {
      seen += chunk.byteLength;
      if (seen > desc.size) {
        throw new SkiffError(
          "SIZE_MISMATCH",
          `${desc.digest} from ${where}: more than the expected ${desc.size} bytes`,
        );
      }
    },
    finish() {
      if (seen !== desc.size) {
        throw new SkiffError(
          "SIZE_MISMATCH",
          `${desc.digest} from ${where}: got ${seen} bytes, expected ${desc.size}`,
        );
      }
    },
  };
}

/**
 * Passes `stream` through while hashing and counting; errors the stream (never returns bad
 * bytes as good) when it runs past the size or ends with the wrong digest or size. The result is
 * marked, so stores that receive it (or a tap of it) skip a second hash: see {@link isVerifiedFor}.
 * `prefix` is the hash state and size of bytes that came before `stream` (a resumed partial).
 */
export function verifyingStream(
  stream: ReadableStream<Uint8Array>,
  desc: Descriptor,
  where: string,
  prefix: { hash: ReturnType<typeof hasherFor>; size: number } = { hash: hasherFor(desc.digest), size: 0 },
): ReadableStream<Uint8Array> {
  const hash = prefix.hash;
  const size = sizeGuard(desc, where, prefix.size);
  const out = tap(stream, {
    chunk(chunk) {
      size.count(chunk);
      hash.update(chunk);
    },
    end() {
      size.finish();
      const actual = `${parseDigest(desc.digest).algorithm}:${hash.digest("hex")}`;
      if (actual !== desc.digest) {
        throw new SkiffError("DIGEST_MISMATCH", `${desc.digest} from ${where}: content hashes to ${actual}`);
      }
    },
  });
  verifiedStreams.set(out, contentKey(desc));
  return out;
}

/**
 * Passes `stream` through, erroring it when it runs past or ends short of `desc.size`: for a
 * receiver that checks the digest itself (a registry checks `?digest=` before naming a blob).
 */
export function sizeBounded(
  stream: ReadableStream<Uint8Array>,
  desc: Descriptor,
  where: string,
): ReadableStream<Uint8Array> {
  const size = sizeGuard(desc, where);
  return tap(stream, { chunk: size.count, end: size.finish });
}

/** `stream` as it is when it is verified for `desc` already, else a {@link verifyingStream} of it. */
export function verifiedOnce(
  stream: ReadableStream<Uint8Array>,
  desc: Descriptor,
  where: string,
): ReadableStream<Uint8Array> {
  return isVerifiedFor(stream, desc) ? stream : verifyingStream(stream, desc, where);
}

/** Reads a whole stream into memory, refusing more than `limit` bytes. For manifests and configs only. */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit = MAX_MANIFEST_BYTES,
  what = "content",
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > limit) {
      await stream.cancel().catch(() => {});
      throw new SkiffError("TOO_LARGE", `${what} is over the ${limit}-byte limit`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Fetches a manifest (or config) whole, capped at 4 MiB and verified against its descriptor. */
export async function fetchBytes(
  fetcher: { fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> },
  desc: Descriptor,
  where: string,
): Promise<Uint8Array> {
  if (desc.size > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `${desc.digest} in ${where} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  const bytes = await readAll(await fetcher.fetch(desc), desc.size, `${desc.digest} in ${where}`);
  verifyBytes(bytes, desc, where);
  return bytes;
}

/** A stream of the given bytes, for pushing manifests. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
