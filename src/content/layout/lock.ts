/**
 * A cross-process lock file (`O_EXCL` create) with stale-lock detection: a lock whose owner process
 * is gone (same host), or that has not been touched for `staleMs`, is broken.
 */

import { readFileSync } from "node:fs";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import { randomSuffix } from "../files/disk.ts";

interface LockOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned (default 30 s; index updates take milliseconds). */
  staleMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
  return !isZombie(pid);
}

/** A killed writer whose parent has not reaped it yet (e.g. PID 1 in a container) still answers kill 0. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false; // no /proc (macOS, Windows): trust kill 0
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const json = JSON.parse(await readFile(path, "utf8"));
    if (typeof json.pid === "number" && typeof json.host === "string") return json as LockOwner;
  } catch {
    // missing, empty or half-written
  }
  return undefined;
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let mtime: number;
  try {
    mtime = (await stat(path)).mtimeMs;
  } catch {
    return false; // gone: the next attempt will take it
  }
  const age = Date.now() - mtime;
  const owner = await readOwner(path);
  if (owner) {
    if (owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid)) return true;
    return age > staleMs;
  }
  // A lock file that is still empty a few seconds after creation was left by a crash.
  return age > Math.min(staleMs, 5000);
}

const inProcess = new Map<string, Promise<void>>();

/** Runs `fn` while holding the lock file `path`; serializes callers in this process too. */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const previous = inProcess.get(path) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const chained = previous.then(() => mine);
  inProcess.set(path, chained);
  await previous;
  try {
    const release = await acquireLock(path, options);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    done();
    if (inProcess.get(path) === chained) inProcess.delete(path);
  }
}

/**
 * One try at the lock file (breaking a stale one first): the function that releases it, or
 * undefined while another live owner holds it.
 */
export async function tryLock(path: string, staleMs = 30_000): Promise<(() => Promise<void>) | undefined> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomSuffix() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o644);
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return async () => {
        const current = await readOwner(path);
        if (current?.token === owner.token) await rm(path, { force: true });
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        throw new SkiffError("IO", `cannot create lock file ${path}: ${(error as Error).message}`);
      }
    }
    if (!(await isStale(path, staleMs))) return undefined;
    // Move it aside first: only one of several waiters wins the rename.
    const aside = `${path}.stale-${randomSuffix()}`;
    try {
      await rename(path, aside);
      await rm(aside, { force: true });
    } catch {
      // someone else broke it
    }
  }
  return undefined;
}

/** Takes the lock file, waiting for it; returns the function that releases it. */
async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const release = await tryLock(path, staleMs);
    if (release) return release;
    if (Date.now() > deadline) {
      throw new SkiffError(
        "IO",
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${path}`,
        "another skiff process is writing this layout; if none is, remove the lock file",
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
}
