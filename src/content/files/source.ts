/**
 * Files and directories on disk as blobs, the source side of push and attach: each added path
 * gets a descriptor (directories are packed to a temporary tar+gzip first) and is read back by
 * digest, for the receiving store to verify.
 */
import type { BigIntStats } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { SkiffError } from "../../errors.ts";
import { type Descriptor, sortedMap } from "../../oci/descriptor.ts";
import { Annotation, MediaType } from "../../oci/media-types.ts";
import type { Fetcher } from "../target.ts";
import { type BlobLocator, type BlobOrigin, hashOnWorker, OFFLOAD_MIN_BYTES } from "../transfer/offload.ts";
import { errnoReason, fileStream, writeStreamToFile } from "./disk.ts";
import { hashFile, packDirectory, type TarOptions } from "./pack.ts";

/** Turns a node:fs error into a one-line message naming the path. */
export function fileError(error: unknown, path: string, what = "file"): SkiffError {
  if (error instanceof SkiffError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = errnoReason(error);
  // A relative path missing: the first line also says where it was looked for, before the
  // reason, as ORAS's line does (scripts match the absolute path, then the reason).
  const where = code === "ENOENT" && !isAbsolute(path) && path !== "-" ? ` (${resolve(path)})` : "";
  return new SkiffError(
    code === "ENOENT" ? "NOT_FOUND" : "INVALID_INPUT",
    `cannot read ${what} "${path}"${where}: ${reason}`,
    undefined,
    { cause: error },
  );
}

/** What to add: a path on disk, published under `title` with an optional media type. */
interface AddFileOptions {
  /** The `org.opencontainers.image.title` annotation; omitted when undefined (e.g. a config). */
  title?: string;
  /** Media type; default `application/vnd.oci.image.layer.v1.tar`, tar+gzip for directories. */
  mediaType?: string;
  /** Annotations added to the descriptor (after the title and the ORAS directory annotations). */
  annotations?: Record<string, string>;
  /** Allow a directory (false for configs). */
  allowDirectory?: boolean;
}

/**
 * Blobs backed by files: plain files are served from where they are; directories from their
 * packed temporary file. Call {@link FileSource.close} to remove the temporary files.
 */
export class FileSource implements Fetcher, BlobLocator {
  readonly #paths = new Map<string, string>();
  /** What a hashed file looked like just before it was hashed, by digest. */
  readonly #looks = new Map<string, Look>();
  readonly #tempDir: string;
  readonly #tar: TarOptions;
  readonly #stdin: (() => ReadableStream<Uint8Array>) | undefined;

  private constructor(tempDir: string, tar: TarOptions, stdin?: () => ReadableStream<Uint8Array>) {
    this.#tempDir = tempDir;
    this.#tar = tar;
    this.#stdin = stdin;
  }

  /**
   * Creates a source with its own temporary directory under `tempParent` (default: the system's).
   * `stdin` opens the stream that the path `-` stands for.
   */
  static async create(
    options: TarOptions & { tempParent?: string; stdin?: () => ReadableStream<Uint8Array> } = {},
  ): Promise<FileSource> {
    const tempDir = await mkdtemp(join(options.tempParent ?? tmpdir(), "skiff-push-"));
    const tar: TarOptions = {};
    if (options.mtime !== undefined) tar.mtime = options.mtime;
    return new FileSource(tempDir, tar, options.stdin);
  }

  /** Adds the file or directory at `path` (`-`: stdin, spooled to a temporary file); returns its descriptor. */
  async add(path: string, options: AddFileOptions = {}): Promise<Descriptor> {
    if (path === "-" && this.#stdin) {
      const spooled = join(this.#tempDir, "stdin");
      await writeStreamToFile(this.#stdin(), spooled).catch((error) => {
        throw fileError(error, "-", "stdin");
      });
      path = spooled;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw fileError(error, path);
    }
    const annotations: Record<string, string> = {};
    if (options.title !== undefined) annotations[Annotation.title] = options.title;
    let desc: Descriptor;
    if (info.isDirectory()) {
      if (!options.allowDirectory) {
        throw new SkiffError("INVALID_INPUT", `"${path}" is a directory; a file is needed here`);
      }
      const packed = await packDirectory(path, options.title ?? ".", this.#tempDir, this.#tar);
      annotations[Annotation.contentDigest] = packed.tarDigest;
      annotations[Annotation.unpack] = "true";
      desc = {
        mediaType: options.mediaType ?? MediaType.ociLayerTarGzip,
        digest: packed.digest,
        size: packed.size,
      };
      this.#paths.set(desc.digest, packed.path);
    } else if (info.isFile()) {
      const look = await lookAt(path);
      const hashed = info.size >= OFFLOAD_MIN_BYTES ? hashOnWorker(path) : Promise.resolve(undefined);
      const { digest, size } = await hashed
        .then((result) => result ?? hashFile(path))
        .catch((error) => {
          throw fileError(error.cause ?? error, path);
        });
      desc = { mediaType: options.mediaType ?? MediaType.ociLayerTar, digest, size };
      this.#paths.set(desc.digest, path);
      if (look) this.#looks.set(desc.digest, look);
    } else {
      throw new SkiffError("INVALID_INPUT", `"${path}" is neither a regular file nor a directory`);
    }
    Object.assign(annotations, options.annotations ?? {});
    const sorted = sortedMap(annotations);
    if (sorted) desc.annotations = sorted;
    return desc;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.#paths.has(desc.digest);
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const path = this.#paths.get(desc.digest);
    if (path === undefined) throw new SkiffError("NOT_FOUND", `${desc.digest} is not among the pushed files`);
    // Hashed once already, by add(): the receiving store checks the digest (a layout hashes the
    // unmarked stream, a registry checks `?digest=`), so a file changed since is refused there.
    return fileStream(path);
  }

  /** Where a blob's file is, so that it is uploaded or copied without reading it here (content/transfer). */
  async locateBlob(desc: Descriptor): Promise<BlobOrigin | undefined> {
    const path = this.#paths.get(desc.digest);
    if (path === undefined) return undefined;
    const look = this.#looks.get(desc.digest);
    return {
      kind: "file",
      where: "the pushed files",
      path,
      ...(look ? { unchangedSinceHashed: async () => unchanged(path, look) } : {}),
      check: async () => {
        const size = await stat(path).then(
          (info) => info.size,
          (error) => Promise.reject(fileError(error, path)),
        );
        if (size !== desc.size) {
          throw new SkiffError(
            "SIZE_MISMATCH",
            `"${path}" changed while pushing: ${size} bytes, ${desc.size} when it was read`,
          );
        }
      },
    };
  }

  /** Removes the temporary files. */
  async close(): Promise<void> {
    await rm(this.#tempDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** A file's identity and times (ns) as seen just before it was hashed, and when that was. */
interface Look {
  stats: BigIntStats;
  atNs: bigint;
}

/** A change within this long before the look may not have moved the file's ctime yet (coarse clocks). */
const CLOCK_SLACK_NS = 2_000_000_000n;

async function lookAt(path: string): Promise<Look | undefined> {
  const atNs = BigInt(Date.now()) * 1_000_000n;
  return stat(path, { bigint: true }).then(
    (stats) => ({ stats, atNs }),
    () => undefined,
  );
}

/**
 * True when the file at `path` is the one looked at, not written since: same device, inode, size,
 * mtime and ctime (no one can set ctime), and its last change well before the look.
 */
async function unchanged(path: string, look: Look): Promise<boolean> {
  const now = await stat(path, { bigint: true }).catch(() => undefined);
  const was = look.stats;
  return (
    now !== undefined &&
    now.dev === was.dev &&
    now.ino === was.ino &&
    now.size === was.size &&
    now.mtimeNs === was.mtimeNs &&
    now.ctimeNs === was.ctimeNs &&
    was.ctimeNs < look.atNs - CLOCK_SLACK_NS
  );
}
