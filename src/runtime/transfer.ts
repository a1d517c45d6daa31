import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import process from "node:process";

/**
 * What blob transfers (src/content/transfer) need from the runtime: starting the transfer worker,
 * and a request body the kernel sends straight from a file.
 */

declare const Bun: { file(path: string): Blob; gc(force: boolean): void } | undefined;

/** True when running from a `bun build --compile` binary (its modules live in a virtual root). */
function compiled(): boolean {
  return /\$bunfs|~BUN/.test(import.meta.url);
}

/**
 * A new transfer worker. In a compiled binary the worker is an extra entry point of the build
 * (scripts/build.ts), embedded under its source path and found relative to the binary's root;
 * from source it sits next to this folder.
 */
export function startTransferWorker(): Worker {
  const entry = compiled()
    ? "./src/content/transfer/worker.ts"
    : new URL("../content/transfer/worker.ts", import.meta.url).href;
  // Not unref'd: with only an unref'd worker to wait for, Bun 1.4.5's main thread spins on the
  // clock (measured: 2.3 CPU-s more for a 1 GiB pull); the pool ends idle workers itself.
  // `smol` (Bun): a smaller heap, collected sooner (peak RSS of a 1 GiB pull 81-87 against
  // 96-101 MiB without it); other runtimes ignore it.
  return new Worker(entry, { type: "module", smol: true } as WorkerOptions);
}

/**
 * The first `size` bytes of the file at `path` as a request body that Bun sends with `sendfile`
 * (no bytes through JavaScript: ~0.2 CPU-s per GiB against ~1.1 for a stream of chunks); undefined
 * where the runtime has no such body (the caller streams the file).
 */
export function fileBody(path: string, size: number): Blob | undefined {
  return typeof Bun !== "undefined" ? Bun.file(path).slice(0, size) : undefined;
}

/**
 * True when transfer workers may read blob bodies over plain sockets (content/transfer/http1.ts)
 * instead of `fetch`: on Bun, which receives that way with half the CPU, and only when no proxy
 * variable is set (`fetch` honours them). `SKIFF_TRANSFER_FETCH=1` keeps `fetch` (to compare).
 */
export function socketBodies(env: Record<string, string | undefined> = process.env): boolean {
  if (typeof Bun === "undefined" || env.SKIFF_TRANSFER_FETCH === "1") return false;
  return !["http_proxy", "https_proxy", "all_proxy"].some((name) => env[name] || env[name.toUpperCase()]);
}

/**
 * Collects garbage now (Bun; elsewhere nothing). Bun's sockets leave garbage behind each read that
 * its collector reclaims late: a worker receiving at full speed peaked ~15 MiB higher without a
 * collection every 16 MiB (measured 67 against 52 MiB for 1 GiB, same CPU time).
 */
export function collectGarbage(): void {
  if (typeof Bun !== "undefined") Bun.gc(true);
}

/** CPU ticks since boot, idle (with I/O wait) and in all, summed over the cores (Linux /proc/stat). */
function cpuTicks(): { idle: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "latin1")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

let cpuMark = cpuTicks();
/** Whether {@link spareCores} can ever answer here (Linux). */
export const cpuCountable = cpuMark !== undefined;

/**
 * How many cores the machine left idle since the previous answer (the first: since skiff
 * started), from /proc/stat; undefined where that cannot be told (no /proc/stat, or too short a
 * time to count in ticks: ask again a little later).
 */
export function spareCores(): number | undefined {
  const now = cpuTicks();
  const was = cpuMark;
  if (!now || !was) return undefined;
  // Too short a window to count: keep measuring from the same mark.
  if (now.total - was.total < 4) return undefined;
  cpuMark = now;
  return ((now.idle - was.idle) / (now.total - was.total)) * availableParallelism();
}
