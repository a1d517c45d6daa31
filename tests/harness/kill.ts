/**
 * For kill-point tests: skiff is killed with SIGKILL at points spread over a full run of one
 * command, and the test checks what the kills left behind.
 */
import { expect } from "bun:test";
import { type RunOptions, runSkiff, startSkiff } from "./skiff.ts";

/** Starts skiff, kills it with SIGKILL after `ms`; says whether it had finished, and how long it ran. */
export async function killAfter(
  args: string[],
  ms: number,
  options: RunOptions = {},
): Promise<{ finished: boolean; durationMs: number }> {
  const run = startSkiff(args, options);
  await Promise.race([Bun.sleep(ms), run.result]);
  run.kill("SIGKILL");
  const result = await run.result;
  return { finished: result.signal === null, durationMs: result.durationMs };
}

/**
 * How long a full run of `args` takes: the shorter of two runs, each after `reset()` (a first run
 * slowed by cold caches or a busy moment would push every kill point past the end). Both must
 * succeed.
 */
export async function measureRun(
  args: string[],
  reset: () => void,
  options: RunOptions = {},
): Promise<number> {
  const once = async () => {
    reset();
    const result = await runSkiff(args, options);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    return result.durationMs;
  };
  const first = await once();
  return Math.min(first, await once());
}

/**
 * The kill points of one command, and a count of the kills that landed while skiff still ran.
 * Iterating gives `[k, ms]`: a random place in the k-th of `count` slots over the first 90% of a
 * full run. The full run time starts as measured and becomes the shortest full run seen (a kill
 * run that finished before its point), so a slow measurement cannot push the later points past
 * the end.
 */
export class KillPoints {
  midway = 0;
  constructor(
    readonly label: string,
    public duration: number,
    readonly count = 20,
  ) {}

  *[Symbol.iterator](): Generator<[number, number]> {
    for (let k = 0; k < this.count; k++) {
      yield [k, Math.max(1, ((k + Math.random()) * this.duration * 0.9) / this.count)];
    }
  }

  /** Counts a kill run (from {@link killAfter}). */
  add(result: { finished: boolean; durationMs: number }): void {
    if (!result.finished) this.midway++;
    else this.duration = Math.min(this.duration, result.durationMs);
  }

  /** Most kills must land mid-run, or the test proves little. */
  report(): void {
    console.log(
      `${this.label}: ${this.midway} of ${this.count} kills landed mid-run (a full run takes ~${this.duration.toFixed(0)} ms)`,
    );
    expect(this.midway).toBeGreaterThanOrEqual(Math.ceil(this.count / 3));
  }
}
