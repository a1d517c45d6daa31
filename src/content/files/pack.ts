/**
 * Packing for push: a directory becomes a reproducible tar (sorted entries, uid/gid 0, no user
 * names, optional fixed mtime) compressed with gzip under a fixed header, written to a temporary
 * file while both digests are computed; a plain file is hashed by streaming read.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type FileHandle, lstat, open, readdir, readlink, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { asSkiffError, SkiffError } from "../../errors.ts";
import { CHUNK_SIZE, randomSuffix } from "./disk.ts";

const BLOCK = 512;
const encoder = new TextEncoder();
/** The largest size an 11-digit octal field holds; larger files get a pax `size` record. */
const MAX_OCTAL_SIZE = 0o77777777777;

/** How a directory is packed. */
export interface TarOptions {
  /**
   * Modification time, in seconds since the epoch, written for every entry (e.g. from
   * `SOURCE_DATE_EPOCH`); undefined keeps each file's own mtime.
   */
  mtime?: number;
}

/** One member of a directory tar, before its bytes are written. */
interface Member {
  /** Name inside the archive (`title/rel/path`; directories too have no trailing `/`, as in ORAS). */
  name: string;
  type: "file" | "directory" | "symlink";
  /** Path on disk (files are read from here). */
  path: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  block.set(bytes.subarray(0, length), offset);
}

/** Octal field of `length` bytes: zero-padded digits and a trailing NUL. */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, "0"));
}

/** Go's test for a string a ustar field may hold as it is: every byte below 0x80. */
const isAscii = (value: string): boolean => /^[\x00-\x7f]*$/.test(value);

/** Go's last resort for a field that needs pax: the non-ASCII characters dropped. */
const toAscii = (value: string): string => value.replace(/[^\x00-\x7f]/g, "");

/**
 * Go's split of a long ASCII path into the ustar prefix (at most 155 bytes) and name (at most
 * 100), at a slash; undefined when it fits the name field or cannot be split.
 */
function splitUstarPath(path: string): [prefix: string, name: string] | undefined {
  if (path.length <= 100 || !isAscii(path)) return undefined;
  let length = path.length;
  if (length > 156) length = 156;
  else if (path[length - 1] === "/") length--;
  const slash = path.slice(0, length).lastIndexOf("/");
  const nameLength = path.length - slash - 1;
  if (slash <= 0 || nameLength > 100 || nameLength === 0 || slash > 155) return undefined;
  return [path.slice(0, slash), path.slice(slash + 1)];
}

/** A pax extended-header record `"<len> key=value\n"`, where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

interface HeaderFields {
  name: string;
  /** The ustar prefix of a long name (see splitUstarPath). */
  prefix?: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  /** Device numbers as octal zeros (every member); a pax header leaves them empty, as Go does. */
  devices: boolean;
}

/** One ustar header block: uid/gid 0, empty user and group names. */
function ustarHeader(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  // A size too large for the field is 0 there, its pax record says it (as Go writes it).
  writeOctal(block, 124, 12, fields.size > MAX_OCTAL_SIZE ? 0 : fields.size);
  writeOctal(block, 136, 12, Math.max(0, Math.min(fields.mtime, MAX_OCTAL_SIZE)));
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, fields.typeflag);
  writeString(block, 157, 100, fields.linkname);
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  if (fields.devices) {
    writeOctal(block, 329, 8, 0);
    writeOctal(block, 337, 8, 0);
  }
  if (fields.prefix) writeString(block, 345, 155, fields.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/**
 * The header blocks of one member, as Go's tar writer (and so ORAS) writes them: ustar when the
 * name fits, in the name field or split into prefix and name; else a pax header first (records
 * sorted by key, named `DIR/PaxHeaders.0/NAME`) and the fields cut to ASCII.
 */
export function memberHeader(member: Omit<Member, "path">): Uint8Array[] {
  const typeflag = member.type === "file" ? "0" : member.type === "directory" ? "5" : "2";
  const size = member.type === "file" ? member.size : 0;
  const split = splitUstarPath(member.name);
  const longName = member.name.length > 100 || !isAscii(member.name);
  const longLink = member.linkname.length > 100 || !isAscii(member.linkname);
  const fields = { mode: member.mode, size, mtime: member.mtime, typeflag, devices: true };
  if ((!longName || split) && !longLink && size <= MAX_OCTAL_SIZE) {
    const [prefix, name] = split ?? ["", member.name];
    return [ustarHeader({ ...fields, name, prefix, linkname: member.linkname })];
  }
  const records: string[] = [];
  if (longLink) records.push(paxRecord("linkpath", member.linkname));
  if (longName) records.push(paxRecord("path", member.name));
  if (size > MAX_OCTAL_SIZE) records.push(paxRecord("size", String(size)));
  const data = encoder.encode(records.join(""));
  const slash = member.name.lastIndexOf("/");
  const paxName = `${member.name.slice(0, slash + 1)}PaxHeaders.0/${member.name.slice(slash + 1)}`;
  return [
    ustarHeader({
      name: toAscii(paxName).slice(0, 100).replace(/\/+$/, ""),
      mode: 0,
      size: data.byteLength,
      mtime: 0,
      typeflag: "x",
      linkname: "",
      devices: false,
    }),
    data,
    padding(data.byteLength),
    ustarHeader({ ...fields, name: toAscii(member.name), linkname: toAscii(member.linkname) }),
  ];
}

/**
 * A file time in whole seconds, rounded to the nearest as Go's tar writer (and so ORAS) does, so
 * a directory packed by either tool gives the same tar (the `io.deis.oras.content.digest`).
 */
const wholeSeconds = (mtimeMs: number): number => Math.round(mtimeMs / 1000);

const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Members of the tree at `dir` under `prefix`, depth first, each directory's entries sorted by name. */
async function* walk(dir: string, prefix: string, options: TarOptions): AsyncGenerator<Member> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort(compareNames);
  } catch (error) {
    throw asSkiffError(error, `cannot read directory ${dir}`);
  }
  for (const name of names) {
    const path = join(dir, name);
    const info = await lstat(path).catch((error) => {
      throw asSkiffError(error, `cannot read ${path}`);
    });
    const mtime = options.mtime ?? wholeSeconds(info.mtimeMs);
    const entryName = `${prefix}/${name}`;
    if (info.isDirectory()) {
      yield { name: entryName, type: "directory", path, mode: info.mode, size: 0, mtime, linkname: "" };
      yield* walk(path, entryName, options);
    } else if (info.isFile()) {
      yield { name: entryName, type: "file", path, mode: info.mode, size: info.size, mtime, linkname: "" };
    } else if (info.isSymbolicLink()) {
      const linkname = await readlink(path);
      yield { name: entryName, type: "symlink", path, mode: info.mode, size: 0, mtime, linkname };
    } else {
      throw new SkiffError(
        "INVALID_INPUT",
        `cannot pack ${path}: only regular files, directories and symbolic links can be pushed`,
      );
    }
  }
}

async function* fileData(member: Member): AsyncGenerator<Uint8Array> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(member.path, "r");
    let position = 0;
    while (position < member.size) {
      const size = Math.min(CHUNK_SIZE, member.size - position);
      const buffer = new Uint8Array(size);
      const { bytesRead } = await handle.read(buffer, 0, size, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
    }
    const probe = await handle.read(new Uint8Array(1), 0, 1, position);
    if (position !== member.size || probe.bytesRead !== 0) {
      throw new SkiffError(
        "IO",
        `${member.path} changed while it was being packed (${member.size} bytes expected)`,
        "push again once the file is no longer being written",
      );
    }
  } catch (error) {
    throw asSkiffError(error, `cannot read ${member.path}`);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * The tar of directory `dir` with every entry under `title/` (the title's own entry first),
 * streamed: memory stays constant whatever the tree's size. Ends with two zero blocks.
 */
export async function* tarDirectory(
  dir: string,
  title: string,
  options: TarOptions = {},
): AsyncGenerator<Uint8Array> {
  const info = await stat(dir).catch((error) => {
    throw asSkiffError(error, `cannot read ${dir}`);
  });
  if (!info.isDirectory()) throw new SkiffError("INVALID_INPUT", `${dir} is not a directory`);
  const root: Member = {
    name: title,
    type: "directory",
    path: dir,
    mode: info.mode,
    size: 0,
    mtime: options.mtime ?? wholeSeconds(info.mtimeMs),
    linkname: "",
  };
  for await (const member of (async function* () {
    yield root;
    yield* walk(dir, title, options);
  })()) {
    yield* memberHeader(member);
    if (member.type === "file") {
      yield* fileData(member);
      const pad = padding(member.size);
      if (pad.byteLength > 0) yield pad;
    }
  }
  yield new Uint8Array(BLOCK * 2);
}

/** A directory packed as tar+gzip into a temporary file. */
interface PackedDirectory {
  /** The gzip file; the caller removes it when done. */
  path: string;
  /** Digest and size of the gzip bytes (the layer). */
  digest: string;
  size: number;
  /** Digest of the uncompressed tar (`io.deis.oras.content.digest`). */
  tarDigest: string;
  tarSize: number;
}

/** Counts and hashes what flows through. */
function hashing(): Transform & { digest(): string; size(): number } {
  const hash = createHash("sha256");
  let size = 0;
  const transform = new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      hash.update(chunk);
      size += chunk.byteLength;
      callback(null, chunk);
    },
  }) as Transform & { digest(): string; size(): number };
  let digest: string | undefined;
  transform.digest = () => {
    digest ??= `sha256:${hash.digest("hex")}`;
    return digest;
  };
  transform.size = () => size;
  return transform;
}

/**
 * The gzip header carries a modification time and an OS byte; zlib writes mtime 0 but the OS of
 * the build (3 on Unix, 10 on Windows). Byte 9 is set to 255 ("unknown", as Go writes) so the
 * same tar gives the same layer on every platform.
 */
function fixedGzipHeader(): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      if (offset <= 9 && offset + chunk.byteLength > 9) {
        const copy = new Uint8Array(chunk);
        copy[9 - offset] = 0xff;
        chunk = copy;
      }
      offset += chunk.byteLength;
      callback(null, chunk);
    },
  });
}

/**
 * Packs directory `dir` as tar+gzip into a new file in `tempDir`, hashing the tar and the gzip
 * bytes as they are written. On failure the temporary file is removed.
 */
export async function packDirectory(
  dir: string,
  title: string,
  tempDir: string,
  options: TarOptions = {},
): Promise<PackedDirectory> {
  const path = join(tempDir, `pack-${randomSuffix()}.tar.gz`);
  const tarHash = hashing();
  const gzipHash = hashing();
  try {
    await pipeline(
      Readable.from(tarDirectory(dir, title, options), { objectMode: false }),
      tarHash,
      createGzip({ level: 6 }),
      fixedGzipHeader(),
      gzipHash,
      createWriteStream(path, { flags: "wx", mode: 0o600 }),
    );
  } catch (error) {
    await rm(path, { force: true }).catch(() => {});
    throw asSkiffError(error, `cannot pack ${dir}`);
  }
  return {
    path,
    digest: gzipHash.digest(),
    size: gzipHash.size(),
    tarDigest: tarHash.digest(),
    tarSize: tarHash.size(),
  };
}

/** The sha256 digest and size of a file, by streaming read. */
export async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "r");
    const buffer = new Uint8Array(CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_SIZE, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } catch (error) {
    throw asSkiffError(error, `cannot read ${path}`);
  } finally {
    await handle?.close().catch(() => {});
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}
