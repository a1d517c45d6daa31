/**
 * Which skiff processes write to a layout directory now, so that a manifest delete can collect the
 * blobs nothing references any more (as ORAS's layout store does) without taking one from under a
 * writer: a writer may have found a blob present, skipped it, and be about to name it in
 * index.json.
 *
 * A writer leaves a marker `.skiff-writers/PID@HOST` for as long as it runs, and waits out a
 * collection that is running. A collection holds `.skiff-writers/collect.lock` and goes ahead only
 * when no other live process has a marker. So either the collection sees the writer's marker, or
 * the writer sees the collection's lock and waits for it to end.
 */
import { rmdirSync, rmSync } from "node:fs";
import { mkdir, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { processAlive, tryLock, withLock } from "./lock.ts";

const WRITERS = ".skiff-writers";
const COLLECT_LOCK = "collect.lock";
const MARKER = /^(\d+)@(.+)$/;

const markerName = () => `${process.pid}@${hostname()}`;
const registered = new Set<string>();

/** Marks this process as a writer of the layout at `path` until it exits; waits while a collection runs. */
export async function registerWriter(path: string): Promise<void> {
  const dir = join(path, WRITERS);
  if (!registered.has(dir)) {
    registered.add(dir);
    const marker = join(dir, markerName());
    await inFolder(dir, () => writeFile(marker, ""));
    process.once("exit", () => {
      rmSync(marker, { force: true });
      try {
        rmdirSync(dir); // the last writer takes the folder along
      } catch {
        // other writers' markers are still there
      }
    });
  }
  await withLock(join(dir, COLLECT_LOCK), async () => {});
}

/**
 * Runs `collect` unless another live process writes to the layout at `path` (or collects already);
 * true when it ran. Markers of writers that died are removed on the way.
 */
export async function collectAlone(path: string, collect: () => Promise<void>): Promise<boolean> {
  const dir = join(path, WRITERS);
  const release = await inFolder(dir, () => tryLock(join(dir, COLLECT_LOCK)));
  if (!release) return false;
  try {
    if (await otherWriterLives(dir)) return false;
    await collect();
    return true;
  } finally {
    await release();
    await rmdir(dir).catch(() => {}); // left only while writers are there
  }
}

/**
 * Runs `create` (which makes a file in `dir`) after making `dir`, again when the last process to
 * leave removed the empty folder in between.
 */
async function inFolder<T>(dir: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await create();
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }
}

async function otherWriterLives(dir: string): Promise<boolean> {
  for (const name of await readdir(dir)) {
    const writer = MARKER.exec(name);
    if (!writer || name === markerName()) continue;
    // A writer on another host sharing the folder cannot be asked: taken as alive.
    if (writer[2] !== hostname() || processAlive(Number(writer[1]))) return true;
    await rm(join(dir, name), { force: true });
  }
  return false;
}
