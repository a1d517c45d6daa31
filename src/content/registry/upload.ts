/**
 * Blob uploads: `POST /v2/NAME/blobs/uploads/`, then one streamed `PUT ?digest=` (monolithic), or
 * `PATCH` chunks of bounded size (honoring `OCI-Chunk-Min-Length`) closed by an empty `PUT
 * ?digest=` when the blob is larger than the chunk size. Small blobs are read whole first, so their
 * upload can be retried. Cross-repository mounts: `POST uploads/?mount=DIGEST&from=REPO`.
 */
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { readAll, sizeBounded, verifyBytes } from "../verify.ts";
import { repositoryScope } from "./challenge.ts";
import type { RegistryClient } from "./client.ts";

/** Blobs up to this size are read into memory and sent as bytes (retryable); larger ones stream. */
export const SMALL_BLOB_BYTES = 4 * 1024 * 1024;

/** Parses a size like `8M`, `512k`, `1G` or plain bytes. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([kmg]i?b?|b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? "").toLowerCase()[0];
  const factor = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  const value = Number(match[1]) * factor;
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The chunk size for chunked uploads: `SKIFF_UPLOAD_CHUNK_SIZE` (e.g. `8M`) when set, else
 * undefined (every blob goes in one streamed PUT, like ORAS).
 */
export function configuredChunkSize(
  env: Record<string, string | undefined> = process.env,
): number | undefined {
  const text = env.SKIFF_UPLOAD_CHUNK_SIZE;
  if (text === undefined || text === "") return undefined;
  const size = parseByteSize(text);
  if (size === undefined) {
    throw new SkiffError(
      "USAGE",
      `SKIFF_UPLOAD_CHUNK_SIZE must be a size like 8M or 16777216, got "${text}"`,
    );
  }
  return size;
}

/** The URL with `name=value` added to its query (upload URLs carry state in theirs). */
export function withQuery(url: URL, name: string, value: string): URL {
  const out = new URL(url.href);
  out.searchParams.append(name, value);
  return out;
}

/** Splits one stream into consecutive sub-streams of given lengths, without copying. */
export class StreamSlicer {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private leftover: Uint8Array | undefined;
  private ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next `length` bytes as a stream; it errors if the source ends first. */
  slice(length: number): ReadableStream<Uint8Array> {
    let remaining = length;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (remaining === 0) {
          controller.close();
          return;
        }
        let chunk = this.leftover;
        this.leftover = undefined;
        if (!chunk) {
          const next = this.ended ? { done: true as const, value: undefined } : await this.reader.read();
          if (next.done) {
            this.ended = true;
            throw new SkiffError(
              "SIZE_MISMATCH",
              `the content ended ${remaining} bytes short of the expected size`,
            );
          }
          chunk = next.value;
        }
        if (chunk.byteLength > remaining) {
          this.leftover = chunk.subarray(remaining);
          chunk = chunk.subarray(0, remaining);
        }
        remaining -= chunk.byteLength;
        controller.enqueue(chunk);
        if (remaining === 0) controller.close();
      },
    });
  }

  /** Reads the source to its end, which must come now: extra bytes are an error. */
  async finish(): Promise<void> {
    if (this.leftover && this.leftover.byteLength > 0) {
      throw new SkiffError("SIZE_MISMATCH", "the content is longer than the expected size");
    }
    while (!this.ended) {
      const next = await this.reader.read();
      if (next.done) this.ended = true;
      else if (next.value.byteLength > 0) {
        throw new SkiffError("SIZE_MISMATCH", "the content is longer than the expected size");
      }
    }
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.reader.cancel(reason).catch(() => {});
  }
}

interface UploadContext {
  client: RegistryClient;
  repository: string;
  /** `host/repo`, for messages. */
  where: string;
}

function uploadLocation(response: Response, base: URL, where: string): URL {
  const location = response.headers.get("location");
  if (!location) {
    throw new SkiffError("REGISTRY", `${where} started an upload without a Location header`);
  }
  return new URL(location, base);
}

async function cancelUpload(ctx: UploadContext, location: URL): Promise<void> {
  try {
    const response = await ctx.client.send({
      method: "DELETE",
      url: location.href,
      scopes: [repositoryScope(ctx.repository, "pull", "push")],
      retry: false,
    });
    await response.body?.cancel().catch(() => {});
  } catch {
    // Best effort: the registry expires abandoned uploads.
  }
}

async function startUpload(ctx: UploadContext, what: string): Promise<{ location: URL; minChunk: number }> {
  const response = await ctx.client.send({
    method: "POST",
    url: `/v2/${ctx.repository}/blobs/uploads/`,
    headers: { "Content-Length": "0" },
    scopes: [repositoryScope(ctx.repository, "pull", "push")],
    retry: true,
  });
  if (response.status !== 202) {
    throw await ctx.client.fail(response, { repository: ctx.repository, what: `the upload of ${what}` });
  }
  await response.body?.cancel().catch(() => {});
  const minChunk = Number(response.headers.get("oci-chunk-min-length") ?? "0");
  return {
    location: uploadLocation(response, ctx.client.baseUrl, ctx.where),
    minChunk: Number.isSafeInteger(minChunk) && minChunk > 0 ? minChunk : 0,
  };
}

async function expectCreated(ctx: UploadContext, response: Response, desc: Descriptor): Promise<void> {
  if (response.status === 201 || response.status === 204 || response.status === 200) {
    const digest = response.headers.get("docker-content-digest");
    await response.body?.cancel().catch(() => {});
    if (digest && digest !== desc.digest && digest.split(":")[0] === desc.digest.split(":")[0]) {
      throw new SkiffError("DIGEST_MISMATCH", `${ctx.where} stored blob ${desc.digest} as ${digest}`);
    }
    return;
  }
  const error = await ctx.client.fail(response, { repository: ctx.repository, what: `blob ${desc.digest}` });
  if (/\b(digest|size) invalid\b/.test(error.message)) {
    throw new SkiffError(
      "DIGEST_MISMATCH",
      `${ctx.where} refused blob ${desc.digest}: the uploaded bytes do not match its digest or size (${error.message})`,
    );
  }
  throw error;
}

/**
 * Uploads a blob. The size is checked on the way (never more than `desc.size`), and the registry
 * checks the bytes against `?digest=` before committing (small blobs are also hashed here first).
 * A file body (a Blob of `desc.size` bytes, see runtime/transfer.ts) is sent like bytes, whole and
 * again when a try fails, and never in chunks.
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  content: ReadableStream<Uint8Array> | Blob,
  chunkSize: number | undefined = configuredChunkSize(),
): Promise<void> {
  const ctx: UploadContext = { client, repository, where: `${client.registry}/${repository}` };
  const what = `blob ${desc.digest}`;
  let small: Uint8Array | Blob | undefined;
  if (content instanceof Blob) small = content;
  else if (desc.size <= SMALL_BLOB_BYTES && (chunkSize === undefined || desc.size <= chunkSize)) {
    small = await readAll(content, desc.size, `${what} from the source`);
    verifyBytes(small, desc, "the source");
  }
  let { location, minChunk } = await startUpload(ctx, what);
  const scopes = [repositoryScope(repository, "pull", "push")];
  try {
    if (small) {
      for (let session = 1; ; session++) {
        const response = await client.send({
          method: "PUT",
          url: withQuery(location, "digest", desc.digest).href,
          headers: { "Content-Type": "application/octet-stream", "Content-Length": String(desc.size) },
          body: small,
          scopes,
          // A retried PUT may find the upload already committed: registries answer 404 then.
          retry: true,
        });
        if (response.status === 404 && (await blobExists(client, repository, desc))) return;
        if (response.status === 404 && session < 3) {
          // A connection that broke mid-PUT ends the upload session (BLOB_UPLOAD_INVALID): start another.
          await response.body?.cancel().catch(() => {});
          ({ location, minChunk } = await startUpload(ctx, what));
          continue;
        }
        await expectCreated(ctx, response, desc);
        return;
      }
    }
    if (content instanceof Blob)
      throw new SkiffError("UNSUPPORTED", `${what}: a file body cannot be sent in chunks`);
    // The registry hashes what it receives and refuses a mismatch with `?digest=` (`digest invalid`)
    // before the blob gets its name, so only the size is bounded here: a client-side hash would be
    // a second pass over every byte of a pushed file (the file source hashed it already).
    const checked = sizeBounded(content, desc, "the source");
    if (chunkSize === undefined || desc.size <= chunkSize) {
      const response = await client.send({
        method: "PUT",
        url: withQuery(location, "digest", desc.digest).href,
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(desc.size) },
        body: checked,
        scopes,
      });
      await expectCreated(ctx, response, desc);
      return;
    }
    const size = Math.max(chunkSize, minChunk);
    const slicer = new StreamSlicer(checked);
    let current = location;
    let offset = 0;
    try {
      while (offset < desc.size) {
        const length = Math.min(size, desc.size - offset);
        const response = await client.send({
          method: "PATCH",
          url: current.href,
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Length": String(length),
            "Content-Range": `${offset}-${offset + length - 1}`,
          },
          body: slicer.slice(length),
          scopes,
        });
        if (response.status !== 202) {
          throw await client.fail(response, {
            repository,
            what: `a chunk of ${what} (bytes ${offset}-${offset + length - 1})`,
          });
        }
        await response.body?.cancel().catch(() => {});
        current = uploadLocation(response, current, ctx.where);
        offset += length;
      }
      await slicer.finish();
    } finally {
      await slicer.cancel();
    }
    const response = await client.send({
      method: "PUT",
      url: withQuery(current, "digest", desc.digest).href,
      headers: { "Content-Length": "0" },
      scopes,
      retry: true,
    });
    await expectCreated(ctx, response, desc);
  } catch (error) {
    if (!(content instanceof Blob)) await content.cancel().catch(() => {});
    await cancelUpload(ctx, location);
    throw error;
  }
}

async function blobExists(client: RegistryClient, repository: string, desc: Descriptor): Promise<boolean> {
  const response = await client.send({
    method: "HEAD",
    url: `/v2/${repository}/blobs/${desc.digest}`,
    scopes: [repositoryScope(repository, "pull")],
  });
  return response.status === 200;
}

/**
 * Asks the registry to link `desc` from `fromRepository` into `repository` without upload. True
 * when it did (201); false when it could not (the blob or access to the source is missing).
 */
export async function mountBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  fromRepository: string,
): Promise<boolean> {
  const ctx: UploadContext = { client, repository, where: `${client.registry}/${repository}` };
  const query = new URLSearchParams({ mount: desc.digest, from: fromRepository });
  let response: Response;
  try {
    response = await client.send({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/?${query}`,
      headers: { "Content-Length": "0" },
      scopes: [repositoryScope(repository, "pull", "push"), repositoryScope(fromRepository, "pull")],
      retry: true,
    });
  } catch (error) {
    if (error instanceof SkiffError && (error.code === "DENIED" || error.code === "UNAUTHORIZED"))
      return false;
    throw error;
  }
  if (response.status === 201) {
    await response.body?.cancel().catch(() => {});
    return true;
  }
  if (response.status === 202) {
    // The registry started a plain upload instead; the copy will upload through a new session.
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get("location");
    if (location) await cancelUpload(ctx, new URL(location, client.baseUrl));
    return false;
  }
  if (response.status >= 500) {
    throw await client.fail(response, { repository, what: `the mount of blob ${desc.digest}` });
  }
  await response.body?.cancel().catch(() => {});
  return false;
}
