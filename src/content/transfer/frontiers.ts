/**
 * Shared progress of the range writers of one segmented download, read by the hasher behind
 * them (download.ts). A SharedArrayBuffer of Int32 slots, so no message is needed per write:
 *
 *   [0] generation: bumped on every change, waited on by the hasher
 *   [1] stop: set to 1 when the download is given up (writers stop at their next chunk)
 *   [2 + 2i] range i: bytes written contiguously from its start, in 4 KiB units
 *   [3 + 2i] range i: RUNNING, DONE or FAILED (set only after its last write)
 */

type WaitAsync = (
  cells: Int32Array,
  index: number,
  value: number,
  ms: number,
) => { value: Promise<unknown> | string };

const UNIT = 4096;
/** At most this many range jobs per download. */
export const MAX_RANGES = 8;
const HEADER = 2;
const RUNNING = 0;
const DONE = 1;
export const FAILED = 2;

export class Frontiers {
  readonly #cells: Int32Array;

  constructor(readonly shared: SharedArrayBuffer) {
    this.#cells = new Int32Array(shared);
  }

  static create(slots: number): Frontiers {
    return new Frontiers(new SharedArrayBuffer(4 * (HEADER + 2 * slots)));
  }

  get slots(): number {
    return (this.#cells.length - HEADER) / 2;
  }

  /** Bytes of range `slot` written contiguously from its start (rounded down to 4 KiB). */
  written(slot: number): number {
    return Atomics.load(this.#cells, HEADER + 2 * slot) * UNIT;
  }

  state(slot: number): number {
    return Atomics.load(this.#cells, HEADER + 2 * slot + 1);
  }

  /** A writer's progress: `bytes` of its range written from the start. */
  publish(slot: number, bytes: number): void {
    const units = Math.floor(bytes / UNIT);
    if (units === Atomics.load(this.#cells, HEADER + 2 * slot)) return;
    Atomics.store(this.#cells, HEADER + 2 * slot, units);
    this.#bump();
  }

  /** The end of range `slot`: DONE (all of it written) or FAILED. The first settlement stays. */
  settle(slot: number, state: typeof DONE | typeof FAILED): void {
    Atomics.compareExchange(this.#cells, HEADER + 2 * slot + 1, RUNNING, state);
    this.#bump();
  }

  /** Tells every writer to stop. */
  stop(): void {
    Atomics.store(this.#cells, 1, 1);
    this.#bump();
  }

  get stopped(): boolean {
    return Atomics.load(this.#cells, 1) === 1;
  }

  /** True when none of the first `count` ranges is RUNNING any more. */
  settled(count: number): boolean {
    for (let slot = 0; slot < count; slot++) if (this.state(slot) === RUNNING) return false;
    return true;
  }

  get generation(): number {
    return Atomics.load(this.#cells, 0);
  }

  /** Resolves after the generation moves past `seen`, or after `ms` at the latest. */
  async changed(seen: number, ms = 50): Promise<void> {
    if (this.generation !== seen) return;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The timer also keeps the event loop alive where waitAsync alone does not (Deno).
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    const woken = waitAsync ? Promise.resolve(waitAsync(this.#cells, 0, seen, ms).value) : timeout;
    await Promise.race([woken, timeout]);
    clearTimeout(timer);
  }

  #bump(): void {
    Atomics.add(this.#cells, 0, 1);
    Atomics.notify(this.#cells, 0);
  }
}

/** Splits bytes `from`-`to` into `count` ranges of about equal size, cut at 1 MiB boundaries. */
export function splitRanges(from: number, to: number, count: number): [number, number][] {
  const step = Math.ceil((to - from) / count / 2 ** 20) * 2 ** 20;
  const out: [number, number][] = [];
  for (let start = from; start < to; start += step) out.push([start, Math.min(to, start + step)]);
  return out;
}
