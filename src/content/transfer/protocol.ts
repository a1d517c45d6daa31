/**
 * What the main thread and the transfer workers say to each other. Everything here is plain data
 * (structured-clone safe): a worker gets a job, asks the main thread for each HTTP request it
 * sends (the main thread owns credentials, tokens, redirects policy and `--debug`), reports
 * progress, and ends with a result or an error.
 */
import { SkiffError } from "../../errors.ts";
import type { TlsSettings } from "../../runtime/index.ts";

/** One HTTP request, ready to send from any thread. */
export interface PreparedRequest {
  /** Its number in `--debug` output (the answer's lines carry it too). */
  id: number;
  method: "GET" | "PUT";
  /** Where to connect (the address when `--resolve` maps the host). */
  target: string;
  /** The URL as named (relative redirects resolve against it; messages show it). */
  url: string;
  headers: Record<string, string>;
  /** TLS settings for an https target (the worker builds the runtime's fetch options from them). */
  tls?: TlsSettings;
  /** The name the certificate must carry when `target` holds an address (`--resolve`). */
  serverName?: string;
  /** A `Host` header must get through (plain HTTP with `--resolve`). */
  keepHost?: boolean;
  /** True when the request goes to the registry itself (a 401 there is a challenge to answer). */
  toRegistry: boolean;
  /** Silence longer than this (ms) gives the connection up. */
  idleMs: number;
}

/**
 * What a worker asks the main thread for before each request of a download, always for bytes
 * `from`-`to` (exclusive; to the end when `to` is undefined) of the job's blob: `open` a fresh
 * request (the first, or after a failure); follow a `redirect` (the server at `url` answered
 * `status` with `location`; `hops` so far); or answer `unauthorized` (the registry's 401 with its
 * `statusText` and capped `body`, `sent` the Authorization it refused, `rounds` the 401s so far).
 */
export type Ask = { from: number; to?: number } & (
  | { kind: "open" }
  | { kind: "redirect"; location: string; url: string; status: number; hops: number }
  | {
      kind: "unauthorized";
      challenge: string | null;
      statusText: string;
      body: string;
      sent?: string;
      rounds: number;
    }
);

/** A response the worker will not use, for the main thread to turn into an error. */
export interface Refusal {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  url: string;
}

/** The blob a job moves: digest and size, as in its descriptor. */
export interface BlobId {
  digest: string;
  size: number;
}

/** Download a blob into `path` (a registry blob, through asked requests). */
export interface DownloadJob {
  kind: "download";
  blob: BlobId;
  path: string;
  /** Keep and re-hash bytes already in `path` and ask only for the rest (a partial of an earlier run). */
  resume: boolean;
  /** Names the source in errors (`host/repo`). */
  where: string;
  /** Split into ranges written by other workers when the pool has room (see download.ts). */
  mayFork: boolean;
  /** fsync the file before reporting success. */
  sync: boolean;
}

/** Write bytes `from`-`to` of a blob at their offsets into `path`, publishing progress in `shared`. */
export interface RangeJob {
  kind: "range";
  blob: BlobId;
  path: string;
  from: number;
  to: number;
  /** The frontier slot of this range in `shared` (see ordered-hasher.ts). */
  slot: number;
  shared: SharedArrayBuffer;
  where: string;
}

/** Copy a local file's blob into `path` and (unless `hash` is false) verify it there. */
export interface CopyJob {
  kind: "copy";
  blob: BlobId;
  source: string;
  path: string;
  where: string;
  /** False when the source was hashed already and the main thread checks it did not change since. */
  hash: boolean;
  /** fsync the copy before reporting success. */
  sync: boolean;
}

/** Hash a file (push: the digest of a file to be pushed). */
export interface HashJob {
  kind: "hash";
  path: string;
  algorithm: string;
}

export type Job = (DownloadJob | RangeJob | CopyJob | HashJob) & {
  /** Fault injection for tests: the worker crashes once the job has moved this many bytes. */
  crashAfter?: number;
};

/** main -> worker */
export type ToWorker =
  | { type: "job"; id: number; job: Job }
  | { type: "answer"; id: number; ask: number; request?: PreparedRequest; error?: WireError }
  | { type: "forked"; id: number; ask: number; ranges: number }
  | { type: "cancel"; id: number };

/** worker -> main */
export type FromWorker =
  | { type: "ask"; id: number; ask: number; question: Ask }
  | { type: "fork"; id: number; ask: number; from: number; to: number; shared: SharedArrayBuffer }
  | { type: "progress"; id: number; bytes: number }
  | { type: "debug"; id: number; lines: string[] }
  | { type: "done"; id: number; result: JobResult }
  | { type: "failed"; id: number; error: WireError; refusal?: Refusal };

export interface JobResult {
  /** Bytes moved (a hash job: bytes hashed). */
  bytes: number;
  /** A hash job's digest. */
  digest?: string;
}

/** An error as it crosses threads. `RAW` errors are the runtime's, classified by the main thread. */
interface WireError {
  code: SkiffError["code"] | "RAW";
  message: string;
  hint?: string;
  heading?: string;
  /** For raw errors: the runtime's error code and name (ECONNRESET, TimeoutError...). */
  errno?: string;
  name?: string;
}

export function toWire(error: unknown): WireError {
  if (error instanceof SkiffError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.heading !== undefined ? { heading: error.heading } : {}),
    };
  }
  const e = error as { message?: string; code?: unknown; name?: string };
  return {
    code: "RAW",
    message: e?.message ?? String(error),
    ...(typeof e?.code === "string" ? { errno: e.code } : {}),
    ...(typeof e?.name === "string" ? { name: e.name } : {}),
  };
}

/** A SkiffError, or for a raw error an Error carrying the runtime's code and name. */
export function fromWire(wire: WireError): Error {
  if (wire.code !== "RAW") {
    return new SkiffError(
      wire.code,
      wire.message,
      wire.hint,
      wire.heading !== undefined ? { heading: wire.heading } : {},
    );
  }
  const error = new Error(wire.message) as Error & { code?: string };
  if (wire.errno) error.code = wire.errno;
  if (wire.name) error.name = wire.name;
  return error;
}
