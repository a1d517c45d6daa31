/**
 * Process-wide clean-up for the test harness: temporary directories and child processes that must not
 * outlive the test run, even when a test fails, throws in a hook or the run is interrupted.
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

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    killChildren();
    removeTempDirs();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killChildren();
      removeTempDirs();
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
