/** An OCI image layout directory, read and written. */
import { link, mkdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { parseDigest } from "../../oci/digest.ts";
import { isManifestMediaType } from "../../oci/media-types.ts";
import { fileStream, randomSuffix, syncDirectory, writeStreamToFile } from "../files/disk.ts";
import { fillPartial, resumeInto } from "../files/partial.ts";
import type { Opened, Publisher, PublishPlan } from "../target.ts";
import type { BlobFile, BlobLocator, BlobOrigin, FileFiller } from "../transfer/offload.ts";
import { verifiedOnce } from "../verify.ts";
import { blobName, LayoutBase } from "./base.ts";
import { reachableDigests, withReferrers } from "./garbage.ts";
import {
  checkOciLayout,
  emptyLayoutIndex,
  INDEX_FILE,
  type LayoutIndex,
  OCI_LAYOUT_FILE,
  ociLayoutBytes,
  parseLayoutIndex,
  publishedEntries,
  rawRefName,
  serializeLayoutIndex,
} from "./index-file.ts";
import { withLock } from "./lock.ts";
import { collectAlone, registerWriter } from "./writers.ts";

const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/** Writes `bytes` to `path` via a temporary file in the same directory and a rename. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${randomSuffix()}.tmp`;
  await writeStreamToFile([bytes], temp, { sync: true });
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Creates `path` with `bytes` unless it exists (never replaces content another writer put there). */
async function createExclusively(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${randomSuffix()}.tmp`;
  await writeStreamToFile([bytes], temp, { sync: true });
  try {
    await link(temp, path);
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Which changes an `index.json` update makes; returns false to leave the file untouched. */
type IndexMutation = (raw: Record<string, unknown>[]) => Record<string, unknown>[] | false;

export class LayoutDirectory extends LayoutBase implements Publisher, BlobLocator, FileFiller {
  readonly writable = true;
  #cache: { key: string; index: LayoutIndex } | undefined;

  /** `path` is the directory; `name` is how messages name it (defaults to the path). */
  constructor(
    readonly path: string,
    name = path,
  ) {
    super(name);
  }

  /** Opens (and with `create`, initializes) a layout directory; validates `oci-layout` and `index.json`. */
  static async open(
    path: string,
    options: { create?: boolean; name?: string } = {},
  ): Promise<LayoutDirectory> {
    const layout = new LayoutDirectory(path, options.name ?? path);
    const ociLayout = join(path, OCI_LAYOUT_FILE);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readFile(ociLayout);
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw ioError(error, ociLayout);
    }
    if (bytes === undefined) {
      if (!options.create) {
        throw new SkiffError(
          "INVALID_LAYOUT",
          `invalid OCI Image Layout: ${ociLayout} is missing`,
          "an OCI layout has an oci-layout file, an index.json and a blobs/ directory",
        );
      }
      await layout.#initialize();
    } else {
      checkOciLayout(bytes, ociLayout);
    }
    await layout.readIndex();
    if (options.create) await registerWriter(path);
    return layout;
  }

  async #initialize(): Promise<void> {
    const index = join(this.path, INDEX_FILE);
    try {
      await mkdir(join(this.path, "blobs", "sha256"), { recursive: true });
      await createExclusively(index, emptyLayoutIndex());
      await createExclusively(join(this.path, OCI_LAYOUT_FILE), ociLayoutBytes());
      await syncDirectory(this.path);
    } catch (error) {
      throw ioError(error, this.path, "cannot create the OCI layout");
    }
  }

  /** The file that holds a blob. */
  blobPath(digest: string): string {
    return join(this.path, blobName(digest));
  }

  get indexPath(): string {
    return join(this.path, INDEX_FILE);
  }

  async readIndex(): Promise<LayoutIndex> {
    const file = this.indexPath;
    let key: string;
    try {
      const info = await stat(file);
      key = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    } catch (error) {
      if (errnoCode(error) === "ENOENT") {
        throw new SkiffError("INVALID_LAYOUT", `invalid OCI Image Layout: ${file} is missing`);
      }
      throw ioError(error, file);
    }
    if (this.#cache?.key === key) return this.#cache.index;
    const index = parseLayoutIndex(await readFile(file).catch((e) => Promise.reject(ioError(e, file))), file);
    this.#cache = { key, index };
    return index;
  }

  protected async blobSize(digest: string): Promise<number | undefined> {
    try {
      const info = await stat(this.blobPath(digest));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
      throw ioError(error, this.blobPath(digest));
    }
  }

  protected async openBlob(digest: string): Promise<ReadableStream<Uint8Array>> {
    return fileStream(this.blobPath(digest));
  }

  /** A blob from byte `offset`, unverified (a file offset), for a destination resuming a partial. */
  async fetchFrom(desc: Descriptor, offset: number): Promise<Opened> {
    if (offset <= 0 || offset >= desc.size || (await this.blobSize(desc.digest)) !== desc.size) {
      return { stream: await this.fetch(desc), offset: 0 };
    }
    return { stream: fileStream(this.blobPath(desc.digest), offset), offset };
  }

  /**
   * Stores a blob or manifest: streamed to a temporary file next to its final name, verified (by
   * the stream itself when it comes verified from a Fetcher, else here), fsynced and renamed.
   * Content the layout already has is not written again. Manifests get no `index.json` entry
   * here: see {@link publish}.
   */
  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    const { algorithm } = parseDigest(desc.digest);
    if (await this.exists(desc)) {
      await content.cancel().catch(() => {});
      return;
    }
    const final = this.blobPath(desc.digest);
    const directory = join(this.path, "blobs", algorithm);
    await mkdir(directory, { recursive: true });
    const temp = join(directory, `.${parseDigest(desc.digest).encoded}.${randomSuffix()}.tmp`);
    await writeStreamToFile(verifiedOnce(content, desc, `the content pushed to ${this.where}`), temp, {
      sync: true,
    });
    try {
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw ioError(error, final);
    }
    await syncDirectory(directory);
  }

  /**
   * Stores a blob like {@link push}, through a partial file named by the digest
   * (`blobs/sha256/.<hex>.partial`) that outlives a failed run: bytes a previous run left there are
   * hashed again from disk and only the rest is asked of `open`. One process at a time owns a
   * partial (its `.lock`); the others write a private temporary file as {@link push} does.
   */
  async pushFrom(desc: Descriptor, open: (offset: number) => Promise<Opened>): Promise<void> {
    if (await this.exists(desc)) return;
    const final = this.blobPath(desc.digest);
    const partial = partialPath(final);
    await mkdir(dirname(final), { recursive: true });
    const stored = await resumeInto(partial, desc, open, `the content pushed to ${this.where}`, async () => {
      await rename(partial, final).catch((error) => Promise.reject(ioError(error, final)));
      await syncDirectory(dirname(final));
    });
    if (!stored) await this.push(desc, (await open(0)).stream);
  }

  /** Where a transfer worker reads a blob from (content/transfer): its file. */
  async locateBlob(desc: Descriptor): Promise<BlobOrigin> {
    return {
      kind: "file",
      where: this.where,
      path: this.blobPath(desc.digest),
      check: async () => {
        await (await this.fetch(desc)).cancel();
      },
    };
  }

  /**
   * Stores a blob that `fill` writes (a transfer worker, content/transfer) the way {@link pushFrom}
   * does: into the blob's partial when this process can claim it, else into a private temporary
   * file; renamed once filled (verified and fsynced).
   */
  async fillBlob(desc: Descriptor, fill: (file: BlobFile) => Promise<void>): Promise<boolean> {
    if (await this.exists(desc)) return true;
    const final = this.blobPath(desc.digest);
    const directory = dirname(final);
    const partial = partialPath(final);
    await mkdir(directory, { recursive: true });
    const stored = await fillPartial(
      partial,
      () => fill({ path: partial, resume: true, sync: true }),
      async () => {
        await rename(partial, final).catch((error) => Promise.reject(ioError(error, final)));
        await syncDirectory(directory);
      },
    );
    if (stored) return true;
    const temp = join(directory, `.${parseDigest(desc.digest).encoded}.${randomSuffix()}.tmp`);
    try {
      await fill({ path: temp, resume: false, sync: true });
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw ioError(error, final);
    }
    await syncDirectory(directory);
    return true;
  }

  /**
   * Changes `index.json` under the layout's lock: reads the current file, applies `mutate` to its
   * raw entries, and replaces the file atomically. Parallel writers never lose entries.
   */
  async updateIndex(mutate: IndexMutation): Promise<void> {
    await withLock(`${this.indexPath}.lock`, async () => {
      const current = await this.readIndex();
      const next = mutate([...current.raw]);
      if (next === false) return;
      await writeAtomically(this.indexPath, serializeLayoutIndex(current.fields, next));
      this.#cache = undefined;
    });
  }

  /** Points `tag` at a manifest the layout holds; the tag moves away from any other entry. */
  async tag(desc: Descriptor, tag: string): Promise<void> {
    await this.publish(desc, { tags: [tag] });
  }

  /**
   * Records a root manifest the layout holds in `index.json`, in one change under the lock: its
   * tags, or without tags an untagged entry (unless the digest has an entry), so a tagless
   * resolve finds it. See {@link publishedEntries} for what a plan replaces.
   */
  async publish(root: Descriptor, plan: PublishPlan): Promise<void> {
    for (const tag of plan.tags) {
      if (tag === "" || /[\s]/.test(tag)) throw new SkiffError("INVALID_REFERENCE", `invalid tag "${tag}"`);
    }
    if (!(await this.exists(root))) {
      const what =
        plan.tags.length > 0
          ? `cannot tag ${root.digest} as "${plan.tags[0]}"`
          : `cannot add ${root.digest} to index.json`;
      throw new SkiffError("NOT_FOUND", `${what}: ${root.digest} is not in ${this.where}`);
    }
    await this.updateIndex((raw) => publishedEntries(raw, root, plan));
  }

  /** Removes `tag` from `index.json`; true when an entry had it. The manifest stays in blobs/. */
  async untag(tag: string): Promise<boolean> {
    let removed = false;
    await this.updateIndex((raw) => {
      const next = raw.filter((item) => rawRefName(item) !== tag);
      removed = next.length !== raw.length;
      return removed ? next : false;
    });
    return removed;
  }

  /**
   * Deletes a blob or manifest and every `index.json` entry pointing at it. A manifest takes its
   * referrers and what only they reach with it, as in ORAS (see garbage.ts).
   */
  async delete(desc: Descriptor): Promise<void> {
    const doomed = isManifestMediaType(desc.mediaType)
      ? await withReferrers(this, desc)
      : new Map([[desc.digest, desc]]);
    const reached = await reachableDigests(this, [...doomed.values()], this.where);
    let hadEntry = false;
    await this.updateIndex((raw) => {
      const next = raw.filter((item) => !doomed.has(String(item.digest)));
      hadEntry = next.length !== raw.length;
      return hadEntry ? next : false;
    });
    if (!(await this.#unlink(desc.digest)) && !hadEntry) {
      throw new SkiffError("NOT_FOUND", `${desc.digest} not found in ${this.where}`);
    }
    if (reached.size === 1) return;
    // The rest only while no other skiff writes here (content/layout/writers.ts); else it stays.
    await collectAlone(this.path, async () => {
      const kept = await reachableDigests(this, await this.entries(), this.where, new Set(doomed.keys()));
      for (const digest of reached) {
        if (doomed.has(digest) || !kept.has(digest)) await this.#unlink(digest);
      }
    });
  }

  /** Removes a blob's file; false when there was none. */
  async #unlink(digest: string): Promise<boolean> {
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw ioError(error, this.blobPath(digest));
      return false;
    }
  }
}

/** Where an interrupted download of the blob at `final` waits for the next run. */
export function partialPath(final: string): string {
  return join(dirname(final), `.${basename(final)}.partial`);
}

function ioError(error: unknown, path: string, what?: string): SkiffError {
  if (error instanceof SkiffError) return error;
  return new SkiffError("IO", `${what ? `${what}: ` : ""}${path}: ${(error as Error).message}`, undefined, {
    cause: error,
  });
}
