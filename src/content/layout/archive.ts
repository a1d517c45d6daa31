/**
 * An OCI image layout inside a tar archive, read-only. Uncompressed tars are read by offset
 * (headers once, then each blob straight from its offset); gzip tars are decompressed as a stream,
 * once to list members (small blobs kept) and again for each large blob that is fetched.
 */
import { open } from "node:fs/promises";
import { posix } from "node:path";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { fileStream } from "../files/disk.ts";
import { readTarStream, scanTar, type TarEntry } from "../files/tar-reader.ts";
import { bytesStream } from "../verify.ts";
import { blobName, LayoutBase } from "./base.ts";
import {
  checkOciLayout,
  INDEX_FILE,
  type LayoutIndex,
  OCI_LAYOUT_FILE,
  parseLayoutIndex,
} from "./index-file.ts";

/** Blobs up to this size are kept in memory while a gzip archive is listed (manifests, configs). */
const SMALL_BLOB = 256 * 1024;
/** ... up to this much in total. */
const SMALL_BLOB_BUDGET = 64 * 1024 * 1024;
/** `index.json` beyond this size is refused (it is held whole). */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/** Member names as layout paths: `./blobs/x` and `blobs/x` are the same; `..` is never a layout path. */
function layoutPath(name: string): string | undefined {
  const normal = posix.normalize(name.replace(/^\/+/, ""));
  if (normal === ".." || normal.startsWith("../")) return undefined;
  return normal.replace(/^\.\//, "").replace(/\/$/, "");
}

const unsupported = (name: string): SkiffError =>
  new SkiffError(
    "UNSUPPORTED",
    `cannot write to ${name}: layout tar archives are read-only`,
    "write to a layout directory instead, then tar it",
  );

function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

export class LayoutArchive extends LayoutBase {
  readonly writable = false;
  readonly compressed: boolean;
  readonly #path: string;
  readonly #members = new Map<string, TarEntry>();
  readonly #small = new Map<string, Uint8Array>();
  #index!: LayoutIndex;

  private constructor(path: string, name: string, compressed: boolean) {
    super(name);
    this.#path = path;
    this.compressed = compressed;
  }

  get path(): string {
    return this.#path;
  }

  /** Opens a layout tar (plain or gzip) and validates its `oci-layout` and `index.json`. */
  static async open(path: string, options: { name?: string } = {}): Promise<LayoutArchive> {
    const name = options.name ?? path;
    const handle = await open(path, "r");
    let archive: LayoutArchive;
    let files: Map<string, Uint8Array>;
    try {
      const head = new Uint8Array(2);
      await handle.read(head, 0, 2, 0);
      archive = new LayoutArchive(path, name, isGzip(head));
      if (archive.compressed) {
        await handle.close();
        files = await archive.#listCompressed();
      } else {
        const where = `${name}`;
        const entries = await scanTar(async (position, length) => {
          const buffer = new Uint8Array(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          return buffer.subarray(0, bytesRead);
        }, where).catch((error) => {
          throw notALayout(name, error);
        });
        archive.#addMembers(entries);
        files = new Map();
        for (const file of [OCI_LAYOUT_FILE, INDEX_FILE]) {
          const member = archive.#members.get(file);
          if (!member) continue;
          if (member.size > MAX_INDEX_BYTES)
            throw new SkiffError("TOO_LARGE", `${name}/${file} is too large`);
          const buffer = new Uint8Array(member.size);
          const { bytesRead } = await handle.read(buffer, 0, member.size, member.offset);
          if (bytesRead < member.size)
            throw new SkiffError("INVALID_LAYOUT", `${name}: truncated tar archive`);
          files.set(file, buffer);
        }
        await handle.close();
      }
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    const ociLayout = files.get(OCI_LAYOUT_FILE);
    if (!ociLayout) {
      throw new SkiffError(
        "INVALID_LAYOUT",
        `invalid OCI Image Layout: the tar archive ${name} has no oci-layout file`,
        "an OCI layout has an oci-layout file, an index.json and a blobs/ directory",
      );
    }
    checkOciLayout(ociLayout, `${name}:${OCI_LAYOUT_FILE}`);
    const index = files.get(INDEX_FILE);
    if (!index)
      throw new SkiffError(
        "INVALID_LAYOUT",
        `invalid OCI Image Layout: the tar archive ${name} has no index.json`,
      );
    archive.#index = parseLayoutIndex(index, `${name}:${INDEX_FILE}`);
    return archive;
  }

  #addMembers(entries: TarEntry[]): void {
    for (const entry of entries) {
      const path = layoutPath(entry.name);
      if (path === undefined) continue;
      if (entry.type === "0" || entry.type === "7") this.#members.set(path, entry);
      else if (entry.type === "1") {
        const target = layoutPath(entry.linkname);
        const member = target === undefined ? undefined : this.#members.get(target);
        if (member) this.#members.set(path, member);
      } else this.#members.delete(path);
    }
  }

  async #listCompressed(): Promise<Map<string, Uint8Array>> {
    const files = new Map<string, Uint8Array>();
    let budget = SMALL_BLOB_BUDGET;
    const entries: TarEntry[] = [];
    try {
      for await (const entry of readTarStream(this.#gunzipped(), this.name)) {
        const { body, ...info } = entry;
        entries.push(info);
        const path = layoutPath(entry.name);
        if (path === undefined || (entry.type !== "0" && entry.type !== "7")) continue;
        const keep =
          path === OCI_LAYOUT_FILE || path === INDEX_FILE
            ? entry.size <= MAX_INDEX_BYTES
            : path.startsWith("blobs/") && entry.size <= SMALL_BLOB && entry.size <= budget;
        if (!keep) continue;
        const bytes = new Uint8Array(entry.size);
        let at = 0;
        for await (const chunk of body()) {
          bytes.set(chunk, at);
          at += chunk.byteLength;
        }
        if (path === OCI_LAYOUT_FILE || path === INDEX_FILE) files.set(path, bytes);
        else {
          this.#small.set(path, bytes);
          budget -= entry.size;
        }
      }
    } catch (error) {
      throw notALayout(this.name, error);
    }
    this.#addMembers(entries);
    return files;
  }

  #gunzipped(): ReadableStream<Uint8Array> {
    return fileStream(this.#path).pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }

  async readIndex(): Promise<LayoutIndex> {
    return this.#index;
  }

  protected async blobSize(digest: string): Promise<number | undefined> {
    return this.#members.get(blobName(digest))?.size;
  }

  protected async openBlob(digest: string): Promise<ReadableStream<Uint8Array>> {
    const path = blobName(digest);
    const member = this.#members.get(path)!;
    if (!this.compressed) return fileStream(this.#path, member.offset, member.size);
    const small = this.#small.get(path);
    if (small) return bytesStream(small);
    // Decompress from the start up to the member, then pass its bytes through.
    const entries = readTarStream(this.#gunzipped(), this.name);
    let body: AsyncGenerator<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (!body) {
            for (;;) {
              const next = await entries.next();
              if (next.done) throw new SkiffError("NOT_FOUND", `${digest} vanished from the archive`);
              if (next.value.offset === member.offset) {
                body = next.value.body();
                break;
              }
            }
          }
          const chunk = await body.next();
          if (chunk.done) {
            controller.close();
            await entries.return(undefined);
          } else controller.enqueue(chunk.value);
        } catch (error) {
          controller.error(error);
          await entries.return(undefined).catch(() => {});
        }
      },
      async cancel() {
        await entries.return(undefined).catch(() => {});
      },
    });
  }

  async push(): Promise<void> {
    throw unsupported(this.name);
  }

  async tag(): Promise<void> {
    throw unsupported(this.name);
  }

  async delete(_desc: Descriptor): Promise<void> {
    throw unsupported(this.name);
  }
}

function notALayout(name: string, error: unknown): SkiffError {
  if (error instanceof SkiffError && error.code !== "INVALID_INPUT") return error;
  const message = (error as Error).message;
  return new SkiffError(
    "INVALID_LAYOUT",
    `${name} is not a readable OCI layout tar archive: ${message.replace(`${name}: `, "")}`,
  );
}
