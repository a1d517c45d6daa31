/**
 * Reading tar archives (ustar, pax and GNU long names) without extracting them: by offset from a
 * file for uncompressed layout tars, and as a stream for gzip tars and directory layers.
 */
import { SkiffError } from "../../errors.ts";

/** One archive member, with its data offset in the (uncompressed) archive. */
export interface TarEntry {
  /** The member name with pax/GNU long names applied, as stored (not normalized). */
  name: string;
  /** Type flag: "0" file, "1" hardlink, "2" symlink, "3"/"4" devices, "5" directory, "6" fifo, ... */
  type: string;
  size: number;
  /** Offset of the first data byte in the uncompressed archive. */
  offset: number;
  linkname: string;
  mode: number;
  /** Modification time in seconds since the epoch. */
  mtime: number;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function bad(where: string, problem: string): never {
  throw new SkiffError("INVALID_INPUT", `${where}: ${problem}`);
}

function text(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return decoder.decode(block.subarray(start, end));
}

/** Reads an octal field, or a GNU base-256 number when the high bit of the first byte is set. */
function number(block: Uint8Array, start: number, length: number, where: string): number {
  if ((block[start]! & 0x80) !== 0) {
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    if (!Number.isSafeInteger(value)) bad(where, "number too large");
    return value;
  }
  const raw = text(block, start, length).trim();
  if (raw === "") return 0;
  if (!/^[0-7]+$/.test(raw)) bad(where, `invalid octal number "${raw}" in a tar header`);
  return Number.parseInt(raw, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumMatches(block: Uint8Array, where: string): boolean {
  const stored = number(block, 148, 8, where);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

interface RawHeader {
  name: string;
  type: string;
  size: number;
  linkname: string;
  mode: number;
  mtime: number;
}

/** Parses one 512-byte header; null for an all-zero block (end of archive). */
export function parseTarHeader(block: Uint8Array, where: string): RawHeader | null {
  if (block.byteLength < BLOCK) bad(where, "truncated tar header");
  if (isZeroBlock(block)) return null;
  if (!checksumMatches(block, where)) bad(where, "not a tar archive (header checksum mismatch)");
  let name = text(block, 0, 100);
  const magic = decoder.decode(block.subarray(257, 263));
  if (magic === "ustar\0") {
    const prefix = text(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeByte = block[156]!;
  return {
    name,
    type: typeByte === 0 ? "0" : String.fromCharCode(typeByte),
    size: number(block, 124, 12, where),
    linkname: text(block, 157, 100),
    mode: number(block, 100, 8, where),
    mtime: number(block, 136, 12, where),
  };
}

/** Parses pax extended header records (`LEN key=value\n`). */
export function parsePax(data: Uint8Array, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.byteLength) {
    let space = pos;
    while (space < data.byteLength && data[space] !== 0x20) space++;
    const length = Number.parseInt(decoder.decode(data.subarray(pos, space)), 10);
    if (!Number.isSafeInteger(length) || length <= 0 || pos + length > data.byteLength) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      bad(where, "malformed pax header");
    }
    const record = decoder.decode(data.subarray(space + 1, pos + length - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return out;
}

const padded = (size: number): number => Math.ceil(size / BLOCK) * BLOCK;

/** Applies pending pax/GNU overrides to a header. */
class Overrides {
  #pax: Record<string, string> = {};
  #global: Record<string, string> = {};
  #longName: string | undefined;
  #longLink: string | undefined;

  /** Consumes a meta entry's data; true when `header` was a meta entry. */
  absorb(header: RawHeader, data: Uint8Array, where: string): void {
    if (header.type === "x") this.#pax = parsePax(data, where);
    else if (header.type === "g") this.#global = { ...this.#global, ...parsePax(data, where) };
    else if (header.type === "L") this.#longName = text(data, 0, data.byteLength);
    else if (header.type === "K") this.#longLink = text(data, 0, data.byteLength);
  }

  apply(header: RawHeader, offset: number, where: string): TarEntry {
    const pax = { ...this.#global, ...this.#pax };
    const entry: TarEntry = {
      name: pax.path ?? this.#longName ?? header.name,
      type: header.type,
      size: header.size,
      offset,
      linkname: pax.linkpath ?? this.#longLink ?? header.linkname,
      mode: header.mode,
      mtime: header.mtime,
    };
    if (pax.size !== undefined) {
      const size = Number(pax.size);
      if (!Number.isSafeInteger(size) || size < 0) bad(where, `invalid pax size "${pax.size}"`);
      entry.size = size;
    }
    if (pax.mtime !== undefined && Number.isFinite(Number(pax.mtime))) entry.mtime = Number(pax.mtime);
    this.#pax = {};
    this.#longName = undefined;
    this.#longLink = undefined;
    return entry;
  }
}

const isMetaType = (type: string): boolean => type === "x" || type === "g" || type === "L" || type === "K";
/** Meta entries larger than this are refused (they are held in memory). */
const MAX_META = 1024 * 1024;

/** Members that carry data in the archive: all but links, devices, directories and fifos. */
function hasData(type: string): boolean {
  return !"123456".includes(type);
}

/**
 * Lists the members of an uncompressed tar by reading only headers at their offsets.
 * `readAt(position, length)` returns up to `length` bytes (fewer only at the end of the file).
 */
export async function scanTar(
  readAt: (position: number, length: number) => Promise<Uint8Array>,
  where: string,
): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const overrides = new Overrides();
  let position = 0;
  for (;;) {
    const block = await readAt(position, BLOCK);
    if (block.byteLength === 0) break; // no end-of-archive marker: tolerated
    if (block.byteLength < BLOCK) bad(where, "truncated tar archive");
    const header = parseTarHeader(block, where);
    if (!header) break;
    const dataOffset = position + BLOCK;
    const size = hasData(header.type) ? header.size : 0;
    if (isMetaType(header.type)) {
      if (size > MAX_META) bad(where, "tar meta header too large");
      const data = await readAt(dataOffset, size);
      if (data.byteLength < size) bad(where, "truncated tar archive");
      overrides.absorb(header, data, where);
      position = dataOffset + padded(size);
      continue;
    }
    const entry = overrides.apply(header, dataOffset, where);
    const dataSize = hasData(entry.type) ? entry.size : 0;
    entries.push(entry);
    position = dataOffset + padded(dataSize);
  }
  return entries;
}

/** Pull-based reading of exact byte counts from a web stream. */
class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer: Uint8Array = new Uint8Array(0);
  #done = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    while (this.#buffer.byteLength === 0 && !this.#done) {
      const { done, value } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer = value;
    }
    return this.#buffer.byteLength > 0;
  }

  /** Exactly `length` bytes, or fewer only when the stream ends first. */
  async read(length: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    if (this.#buffer.byteLength >= length) {
      const out = this.#buffer.subarray(0, length);
      this.#buffer = this.#buffer.subarray(length);
      this.position += length;
      return out;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length && (await this.#fill())) {
      const take = Math.min(length - filled, this.#buffer.byteLength);
      out.set(this.#buffer.subarray(0, take), filled);
      this.#buffer = this.#buffer.subarray(take);
      filled += take;
    }
    this.position += filled;
    return filled === length ? out : out.subarray(0, filled);
  }

  /** Yields the next `length` bytes in the chunks they arrive in; throws when the stream ends early. */
  async *chunks(length: number, where: string): AsyncGenerator<Uint8Array> {
    let left = length;
    while (left > 0) {
      if (!(await this.#fill())) bad(where, "truncated tar archive");
      const take = Math.min(left, this.#buffer.byteLength);
      const chunk = this.#buffer.subarray(0, take);
      this.#buffer = this.#buffer.subarray(take);
      this.position += take;
      left -= take;
      yield chunk;
    }
  }

  async skip(length: number, where: string): Promise<void> {
    for await (const _ of this.chunks(length, where)) {
      // discard
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** A member of a streamed tar; `body` must be read (or is skipped) before the next member. */
interface StreamedTarEntry extends TarEntry {
  body(): AsyncGenerator<Uint8Array>;
}

/**
 * Iterates the members of a tar stream. Each member's body is available until the iteration
 * moves on; unread bodies are skipped.
 */
export async function* readTarStream(
  stream: ReadableStream<Uint8Array>,
  where: string,
  options: { readToEnd?: boolean } = {},
): AsyncGenerator<StreamedTarEntry> {
  const reader = new ByteReader(stream);
  const overrides = new Overrides();
  let finished = false;
  try {
    for (;;) {
      const headerOffset = reader.position;
      const block = await reader.read(BLOCK);
      if (block.byteLength === 0) break;
      if (block.byteLength < BLOCK) bad(where, "truncated tar archive");
      const header = parseTarHeader(block, where);
      if (!header) break;
      const dataOffset = headerOffset + BLOCK;
      if (isMetaType(header.type)) {
        if (header.size > MAX_META) bad(where, "tar meta header too large");
        const data = await reader.read(header.size);
        if (data.byteLength < header.size) bad(where, "truncated tar archive");
        await reader.skip(padded(header.size) - header.size, where);
        overrides.absorb(header, data, where);
        continue;
      }
      const entry = overrides.apply(header, dataOffset, where);
      const size = hasData(entry.type) ? entry.size : 0;
      let consumed = 0;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of reader.chunks(size - consumed, where)) {
          consumed += chunk.byteLength;
          yield chunk;
        }
      };
      yield { ...entry, body };
      await reader.skip(size - consumed, where);
      await reader.skip(padded(size) - size, where);
    }
    // With readToEnd, bytes after the end marker are read too (a digest over the whole stream needs them).
    if (options.readToEnd) while ((await reader.read(64 * 1024)).byteLength > 0);
    finished = true;
  } finally {
    if (!finished) await reader.cancel();
  }
}
