/**
 * The pull side of the file store: a write-only Storage that turns titled layers into files and
 * directories under an output directory. Used as the destination of the graph copy.
 */
import { copyFile, lstat, mkdir, rm } from "node:fs/promises";
import { dirname, join, posix, resolve } from "node:path";
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { parseDigest } from "../../oci/digest.ts";
import { Annotation, isManifestMediaType } from "../../oci/media-types.ts";
import { ignoreEvents, type Listener } from "../events.ts";
import type { Opened, Storage } from "../target.ts";
import type { BlobFile, FileFiller } from "../transfer/offload.ts";
import { verifiedOnce } from "../verify.ts";
import { replaceWithFile, writeStreamToFile } from "./disk.ts";
import { fillPartial, resumeInto } from "./partial.ts";
import { checkTitle, ensureDirInside, isInside, realRoot } from "./safe-path.ts";
import { placeTree, stagingName, unpackToStaging } from "./unpack.ts";

interface FileOutputOptions {
  /** `-k`: never replace an existing file or directory (FILE_EXISTS instead). */
  keepOldFiles?: boolean;
  /** `-T`: titles may leave the output directory (absolute paths, `..`). */
  allowPathTraversal?: boolean;
  /** Directory layers may inflate to at most this many times their compressed size (0: no limit). */
  maxUnpackRatio?: number;
  /** Receives a `restored` event for each file written as a copy of another title (no download). */
  listener?: Listener;
}

/** A file or directory written by a pull. */
export interface WrittenFile {
  /** The title, as annotated. */
  title: string;
  /** Absolute path written. */
  path: string;
  desc: Descriptor;
}

interface Planned {
  desc: Descriptor;
  titles: string[];
  /** The first completed path, once written (later titles of the same blob copy it). */
  written?: string;
  done: boolean;
}

/** True when a layer is a directory packed by ORAS (`io.deis.oras.content.unpack: true`). */
export function isDirectoryLayer(desc: Descriptor): boolean {
  return desc.annotations?.[Annotation.unpack] === "true";
}

export function titleOf(desc: Descriptor): string | undefined {
  return desc.annotations?.[Annotation.title];
}

export class FileOutput implements Storage, FileFiller {
  readonly #root: string;
  readonly #options: FileOutputOptions;
  readonly #listener: Listener;
  /** digest -> what to write for it. */
  readonly #plans = new Map<string, Planned>();
  /** normalized title -> digest, to refuse one name for two contents. */
  readonly #titles = new Map<string, string>();
  readonly #written: WrittenFile[] = [];

  private constructor(root: string, options: FileOutputOptions) {
    this.#root = root;
    this.#options = options;
    this.#listener = options.listener ?? ignoreEvents;
  }

  /** Creates the output directory when missing. */
  static async create(directory: string, options: FileOutputOptions = {}): Promise<FileOutput> {
    let root: string;
    try {
      root = await realRoot(directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ORAS's words for a file in the way: "not a directory".
      const why = code === "EEXIST" || code === "ENOTDIR" ? "not a directory" : (error as Error).message;
      throw new SkiffError("IO", `cannot create output directory ${directory}: ${why}`);
    }
    return new FileOutput(root, options);
  }

  /** The real path of the output directory. */
  get root(): string {
    return this.#root;
  }

  /** Every file and directory written so far, in completion order. */
  get written(): WrittenFile[] {
    return [...this.#written];
  }

  /**
   * Registers a titled layer before it is copied: checks its title (safety, `-k`, one name for
   * one content). A blob under several titles is fetched once and written to each.
   */
  async plan(desc: Descriptor): Promise<void> {
    const title = titleOf(desc);
    if (title === undefined) throw new SkiffError("INVALID_INPUT", `${desc.digest} has no title`);
    const name = checkTitle(title, this.#options.allowPathTraversal ?? false);
    const had = this.#titles.get(name);
    if (had !== undefined && had !== desc.digest) {
      throw new SkiffError(
        "FILE_EXISTS",
        `two different layers are titled ${JSON.stringify(title)} (${had} and ${desc.digest})`,
        "pull one platform with --platform, or pull into separate directories",
      );
    }
    if (had !== undefined) return;
    this.#titles.set(name, desc.digest);
    if (this.#options.keepOldFiles) {
      const path = this.#pathFor(name);
      if (await lstat(path).catch(() => undefined)) throw fileExists(path);
    }
    const plan = this.#plans.get(desc.digest);
    if (!plan) {
      this.#plans.set(desc.digest, { desc, titles: [name], done: false });
      return;
    }
    plan.titles.push(name);
    if (plan.done && plan.written) await this.#copyTo(plan, name);
  }

  /** True when the layer was planned (titled and accepted). */
  isPlanned(desc: Descriptor): boolean {
    return this.#plans.has(desc.digest);
  }

  /** The output never "has" content: every planned layer is written, every manifest walked. */
  async exists(): Promise<boolean> {
    return false;
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    throw new SkiffError("UNSUPPORTED", `the output directory cannot be read from (${desc.digest})`);
  }

  /** Writes a planned layer under its title(s); manifests and unplanned content are read and dropped. */
  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    const plan = this.#plans.get(desc.digest);
    if (!plan || isManifestMediaType(desc.mediaType)) {
      await content.cancel().catch(() => {});
      return;
    }
    // A file only gets its real name after the verified stream ended without error.
    const verified = verifiedOnce(content, desc, "the pulled content");
    const first = plan.titles[0]!;
    await this.#write(plan.desc, first, verified);
    plan.written = this.#pathFor(first);
    // Titles added while this one was written are copied here; later ones by plan().
    for (let i = 1; i < plan.titles.length; i++) await this.#copyTo(plan, plan.titles[i]!);
    plan.done = true;
  }

  /**
   * Like {@link push}, but a file layer goes through a partial named by its digest next to its
   * final name (`.<hex>.partial`): a failed run leaves it and the next pull resumes from it (see
   * files/partial.ts). Directory layers, and a partial another live pull holds, go through push.
   */
  async pushFrom(desc: Descriptor, open: (offset: number) => Promise<Opened>): Promise<void> {
    const plan = this.#plans.get(desc.digest);
    if (!plan || isManifestMediaType(desc.mediaType) || isDirectoryLayer(plan.desc)) {
      return this.push(desc, (await open(0)).stream);
    }
    const first = plan.titles[0]!;
    const final = await this.#prepare(first);
    const partial = join(dirname(final), `.${parseDigest(desc.digest).encoded}.partial`);
    const commit = () => this.#commitFile(partial, final);
    // No fsync: a renamed file is whole after a crash (like the other files of a pull, and ORAS).
    if (!(await resumeInto(partial, desc, open, "the pulled content", commit, false))) {
      return this.push(desc, (await open(0)).stream);
    }
    await this.#finish(plan, first, final);
  }

  /**
   * Writes a file layer that `fill` writes (a transfer worker, content/transfer) the way
   * {@link pushFrom} does; false for directory layers (they are unpacked as they stream).
   */
  async fillBlob(desc: Descriptor, fill: (file: BlobFile) => Promise<void>): Promise<boolean> {
    const plan = this.#plans.get(desc.digest);
    // Nothing to write: push would drop the content unread.
    if (!plan || isManifestMediaType(desc.mediaType)) return true;
    if (isDirectoryLayer(plan.desc)) return false;
    const first = plan.titles[0]!;
    const final = await this.#prepare(first);
    const partial = join(dirname(final), `.${parseDigest(desc.digest).encoded}.partial`);
    const stored = await fillPartial(
      partial,
      () => fill({ path: partial, resume: true, sync: false }),
      () => this.#commitFile(partial, final),
    );
    if (!stored) {
      const temp = stagingName(final, ".partial");
      try {
        await fill({ path: temp, resume: false, sync: false });
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      await this.#commitFile(temp, final);
    }
    await this.#finish(plan, first, final);
    return true;
  }

  /** Records the first title written and copies the blob to its other titles. */
  async #finish(plan: Planned, first: string, final: string): Promise<void> {
    this.#record(plan.desc, first, final, false);
    plan.written = this.#pathFor(first);
    for (let i = 1; i < plan.titles.length; i++) await this.#copyTo(plan, plan.titles[i]!);
    plan.done = true;
  }

  #pathFor(name: string): string {
    return this.#options.allowPathTraversal ? resolve(this.#root, name) : join(this.#root, name);
  }

  /** Where `name` goes: parents created (inside the root unless -T), real path returned. */
  async #prepare(name: string): Promise<string> {
    if (this.#options.allowPathTraversal) {
      const path = resolve(this.#root, name);
      await mkdir(resolve(path, ".."), { recursive: true });
      return path;
    }
    const parent = await ensureDirInside(this.#root, posix.dirname(name));
    const path = join(parent, posix.basename(name));
    if (!isInside(this.#root, path)) throw new SkiffError("UNSAFE_PATH", `${path} is outside ${this.#root}`);
    return path;
  }

  async #write(desc: Descriptor, name: string, content: ReadableStream<Uint8Array>): Promise<void> {
    const final = await this.#prepare(name);
    if (isDirectoryLayer(desc)) {
      const archive = stagingName(final, ".tar.gz.partial");
      await writeStreamToFile(content, archive);
      try {
        await this.#unpack(desc, archive, final);
      } finally {
        await rm(archive, { force: true });
      }
    } else {
      const temp = stagingName(final, ".partial");
      await writeStreamToFile(content, temp);
      await this.#commitFile(temp, final);
    }
    this.#record(desc, name, final, false);
  }

  async #unpack(desc: Descriptor, archive: string, final: string): Promise<void> {
    const staging = stagingName(final, ".unpack");
    const tarDigest = desc.annotations?.[Annotation.contentDigest];
    await unpackToStaging(archive, staging, {
      title: titleOf(desc)!.replace(/^(\.\/)+/, ""),
      ...(tarDigest ? { tarDigest } : {}),
      where: `layer ${desc.digest} (${JSON.stringify(titleOf(desc))})`,
      ...(this.#options.maxUnpackRatio !== undefined ? { maxRatio: this.#options.maxUnpackRatio } : {}),
    });
    try {
      if (this.#options.keepOldFiles && (await lstat(final).catch(() => undefined))) throw fileExists(final);
      await placeTree(staging, final, this.#options.allowPathTraversal ? "/" : this.#root);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /** Gives a verified temporary file its real name (`-k`: only if that name is free). */
  async #commitFile(temp: string, final: string): Promise<void> {
    try {
      const keep = this.#options.keepOldFiles ?? false;
      await replaceWithFile(temp, final, keep).catch((error) => {
        throw keep && (error as NodeJS.ErrnoException).code === "EEXIST" ? fileExists(final) : error;
      });
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Writes an already written blob under another title: a copy, never a second download. */
  async #copyTo(plan: Planned, name: string): Promise<void> {
    const final = await this.#prepare(name);
    if (isDirectoryLayer(plan.desc)) {
      throw new SkiffError(
        "UNSUPPORTED",
        `layer ${plan.desc.digest} is a directory under two titles (${plan.titles.join(", ")})`,
      );
    }
    const temp = stagingName(final, ".partial");
    await copyFile(plan.written!, temp);
    await this.#commitFile(temp, final);
    this.#record(plan.desc, name, final, true);
  }

  /** `restored` is reported for content written without a download (another title of the same blob). */
  #record(desc: Descriptor, title: string, path: string, restored: boolean): void {
    // A copy under another title gets that title (a blob written under two titles is one plan).
    const titled = restored
      ? { ...desc, annotations: { ...desc.annotations, [Annotation.title]: title } }
      : desc;
    this.#written.push({ title, path, desc: titled });
    if (restored) this.#listener({ type: "restored", desc: titled, path });
  }
}

function fileExists(path: string): SkiffError {
  return new SkiffError(
    "FILE_EXISTS",
    `${path} already exists: overwrite disallowed`,
    "remove it, or drop -k/--keep-old-files to overwrite it",
  );
}
