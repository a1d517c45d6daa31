/**
 * Process-wide clean-up for the test harness: temporary directories and child processes that must not
 * outlive the test run, even when a test fails, throws in a hook or the run is interrupted.
 *
 * `bun test` does not emit the process "exit" event, so under it the clean-up runs from an
 * `afterAll` in tests/harness/preload.ts (bunfig.toml preloads it: after each file with
 * `--parallel`, after the run without); the exit and signal hooks cover plain `bun` scripts and
 * interrupted runs.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const tempDirs = new Set<string>();
const children = new Set<ChildProcess>();
let hooked = false;

function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kills the children still running and removes the temporary directories made so far. */
export function cleanUp(): void {
  killChildren();
  removeTempDirs();
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanUp);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

/** Kills `child` (SIGKILL, by PID) when the test process exits, unless it has ended before. */
export function trackChild(child: ChildProcess): void {
  installHooks();
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/**
 * Creates a fresh directory under the system temp dir and returns its path. It is removed when the
 * test process exits; call {@link removeTmpDir} to remove it earlier.
 */
export function tmpDir(prefix = "skiff-test-"): string {
  installHooks();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by {@link tmpDir} now (ignores paths that are already gone). */
export function removeTmpDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}
