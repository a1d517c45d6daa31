/**
 * blob push: one file (or stdin) as a blob in a registry or layout. A file is hashed first (one
 * read), then streamed; stdin must come with its digest and size, and is streamed once.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { ignoreEvents, type Listener } from "../content/events.ts";
import type { Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { MediaType } from "../oci/media-types.ts";

interface BlobPushOptions {
  /** The media type the result descriptor shows (`--media-type`; default: OCI tar layer, like ORAS). */
  mediaType?: string;
  /** The digest the reference named; required for stdin. */
  digest?: string;
  /** `--size`; required for stdin. */
  size?: number;
  listener?: Listener;
}

interface BlobPushResult {
  desc: Descriptor;
  /** True when the target already had the blob. */
  existed: boolean;
}

/** What to push: a file path, or a stream (stdin). */
type BlobSource = { path: string } | { stream: () => ReadableStream<Uint8Array>; name: string };

/** The sha256 digest and size of a file, read once. */
async function digestFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Uint8Array);
      size += (chunk as Uint8Array).byteLength;
    }
  } catch (error) {
    throw new SkiffError("IO", `cannot read ${path}: ${(error as Error).message}`);
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

function fileStream(path: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(
    createReadStream(path, { highWaterMark: 1024 * 1024 }),
  ) as unknown as ReadableStream<Uint8Array>;
}

/** Pushes one blob; the registry (or layout) checks digest and size before keeping it. */
export async function pushBlob(
  target: Target,
  source: BlobSource,
  options: BlobPushOptions = {},
): Promise<BlobPushResult> {
  if (!target.writable) throw new SkiffError("UNSUPPORTED", `cannot push to ${target.name}: it is read-only`);
  let digest: string;
  let size: number;
  let open: () => ReadableStream<Uint8Array>;
  if ("path" in source) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(source.path);
    } catch (error) {
      throw new SkiffError("IO", `cannot read ${source.path}: ${(error as Error).message}`);
    }
    if (!info.isFile()) throw new SkiffError("USAGE", `${source.path} is not a file`);
    ({ digest, size } = await digestFile(source.path));
    if (options.digest && options.digest !== digest) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${source.path} hashes to ${digest}, not ${options.digest} as the reference says`,
      );
    }
    if (options.size !== undefined && options.size !== size) {
      throw new SkiffError(
        "SIZE_MISMATCH",
        `input size ${options.size} does not match the actual content size ${size} of ${source.path}`,
      );
    }
    open = () => fileStream(source.path);
  } else {
    if (!options.digest || options.size === undefined) {
      throw new SkiffError(
        "USAGE",
        "a blob read from stdin needs its digest in the reference and --size",
        "e.g. skiff blob push --size 12 HOST/REPO@sha256:... -",
      );
    }
    digest = options.digest;
    size = options.size;
    open = source.stream;
  }
  const desc: Descriptor = { mediaType: options.mediaType ?? MediaType.ociLayerTar, digest, size };
  // Stored as an opaque blob whatever --media-type says (a manifest type must not route to manifests/).
  const stored: Descriptor = { mediaType: "application/octet-stream", digest, size };
  const listener = options.listener ?? ignoreEvents;
  if (await target.exists(stored)) {
    listener({ type: "skip", desc, reason: "exists" });
    return { desc, existed: true };
  }
  listener({ type: "start", desc });
  let bytes = 0;
  const counted = open().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        listener({ type: "progress", desc, bytes });
        controller.enqueue(chunk);
      },
    }),
  );
  await target.push(stored, counted);
  listener({ type: "done", desc });
  return { desc, existed: false };
}
