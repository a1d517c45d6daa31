/**
 * The pool of transfer workers (main thread side): started on first use, one per core up to
 * {@link MAX_WORKERS}, ended after {@link IDLE_MS} without jobs (so they never keep a process
 * alive). Each worker runs several jobs at once; a job goes to the least busy one. A worker that
 * dies fails the jobs it had with {@link WorkerCrashed} and is replaced on demand.
 */
import { availableParallelism } from "node:os";
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import { startTransferWorker } from "../../runtime/transfer.ts";
import {
  type Ask,
  type FromWorker,
  fromWire,
  type Job,
  type JobResult,
  type PreparedRequest,
  type Refusal,
  type ToWorker,
  toWire,
} from "./protocol.ts";

const MAX_WORKERS = 4;
/** Workers end after this long without a job. */
const IDLE_MS = 1000;

/** A worker thread ended while it ran a job (a bug or a fault injected by tests). */
export class WorkerCrashed extends SkiffError {
  constructor(detail: string) {
    super("IO", `a transfer thread stopped unexpectedly (${detail})`);
  }
}

/** A job that ended on an answer it could not use: the main thread turns it into an error. */
export class RefusedRequest extends Error {
  constructor(readonly refusal: Refusal) {
    super(`${refusal.status} ${refusal.statusText}`);
  }
}

/** What the main thread does for a running job. */
interface JobHandlers {
  ask?(question: Ask): Promise<PreparedRequest>;
  fork?(from: number, to: number, shared: SharedArrayBuffer): Promise<number>;
  progress?(bytes: number): void;
  debug?(lines: string[]): void;
}

interface Slot {
  worker: Worker;
  jobs: Set<number>;
  /** Running download and copy jobs (a range job helps one of them). */
  blobs: number;
}

interface Running {
  slot: Slot;
  job: Job;
  handlers: JobHandlers;
  resolve(result: JobResult): void;
  reject(error: Error): void;
}

export interface RunningJob {
  readonly slot: Slot;
  readonly result: Promise<JobResult>;
  /** Asks the worker to stop the job; `result` then rejects. */
  cancel(): void;
}

/** Jobs that keep a worker busy on their own (a range job helps a download). */
const isBlobJob = (job: Job) => job.kind !== "range";

export class TransferPool {
  readonly #slots: Slot[] = [];
  readonly #running = new Map<number, Running>();
  #next = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly size: number) {}

  /** Starts `job` on the least busy worker (another than `avoid` when there is a choice). */
  run(job: Job, handlers: JobHandlers = {}, avoid?: Slot): RunningJob {
    clearTimeout(this.#idleTimer);
    const slot = this.#pick(avoid);
    const id = this.#next++;
    const result = new Promise<JobResult>((resolve, reject) => {
      this.#running.set(id, { slot, job, handlers, resolve, reject });
    });
    slot.jobs.add(id);
    if (isBlobJob(job)) slot.blobs++;
    this.#post(slot, { type: "job", id, job });
    return {
      slot,
      result,
      cancel: () => {
        if (this.#running.has(id)) this.#post(slot, { type: "cancel", id });
      },
    };
  }

  /** How many workers, besides `except`, have no blob of their own now (counting ones not started yet). */
  idle(except?: Slot): number {
    const idle = this.#slots.filter((slot) => slot !== except && slot.blobs === 0).length;
    return idle + (this.size - this.#slots.length);
  }

  #pick(avoid?: Slot): Slot {
    const candidates = this.#slots.filter((slot) => slot !== avoid);
    const best = candidates.sort((a, b) => a.jobs.size - b.jobs.size)[0];
    if (this.#slots.length < this.size && (!best || best.jobs.size > 0)) return this.#start();
    return best ?? this.#slots[0] ?? this.#start();
  }

  #start(): Slot {
    const worker = startTransferWorker();
    const slot: Slot = { worker, jobs: new Set(), blobs: 0 };
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.#receive(slot, event.data);
    worker.addEventListener("error", (event) => {
      // Handled here: without this, an error in a worker ends the whole process (Deno).
      event.preventDefault();
      this.#crashed(slot, (event as ErrorEvent).message || "an uncaught error");
    });
    // Bun tells when a worker exits; jobs still listed then were never answered.
    worker.addEventListener("close", () => this.#crashed(slot, "the thread exited"));
    this.#slots.push(slot);
    return slot;
  }

  #crashed(slot: Slot, detail: string): void {
    const index = this.#slots.indexOf(slot);
    if (index === -1) return;
    this.#slots.splice(index, 1);
    slot.worker.terminate();
    // Bun's message starts with a frame of source lines; its `error: ...` line says what happened.
    const said = /^error: (.+)$/m.exec(detail)?.[1] ?? detail.split("\n")[0]!;
    for (const id of slot.jobs) this.#settle(id)?.reject(new WorkerCrashed(said.slice(0, 200)));
  }

  #settle(id: number): Running | undefined {
    const running = this.#running.get(id);
    if (!running) return undefined;
    this.#running.delete(id);
    running.slot.jobs.delete(id);
    if (isBlobJob(running.job)) running.slot.blobs--;
    if (this.#running.size === 0) {
      this.#idleTimer = setTimeout(() => this.#endIdle(), IDLE_MS);
      (this.#idleTimer as { unref?: () => void }).unref?.();
    }
    return running;
  }

  #endIdle(): void {
    if (this.#running.size > 0) return;
    for (const slot of this.#slots.splice(0)) slot.worker.terminate();
  }

  #post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  #receive(slot: Slot, message: FromWorker): void {
    const running = this.#running.get(message.id);
    if (!running) return;
    const { handlers } = running;
    switch (message.type) {
      case "ask": {
        const answer = handlers.ask
          ? handlers.ask(message.question)
          : Promise.reject(new SkiffError("UNSUPPORTED", "this job cannot send requests"));
        answer.then(
          (request) => this.#post(slot, { type: "answer", id: message.id, ask: message.ask, request }),
          (error: unknown) =>
            this.#post(slot, { type: "answer", id: message.id, ask: message.ask, error: toWire(error) }),
        );
        return;
      }
      case "fork": {
        const forked = handlers.fork
          ? handlers.fork(message.from, message.to, message.shared)
          : Promise.resolve(0);
        forked
          .catch(() => 0)
          .then((ranges) => this.#post(slot, { type: "forked", id: message.id, ask: message.ask, ranges }));
        return;
      }
      case "progress":
        handlers.progress?.(message.bytes);
        return;
      case "debug":
        handlers.debug?.(message.lines);
        return;
      case "done":
        this.#settle(message.id)?.resolve(message.result);
        return;
      case "failed":
        this.#settle(message.id)?.reject(
          message.refusal ? new RefusedRequest(message.refusal) : fromWire(message.error),
        );
        return;
    }
  }
}

let pool: TransferPool | undefined | null;

/**
 * The process's pool, or undefined when transfers stay on the main thread: `SKIFF_TRANSFER_WORKERS=0`,
 * or a runtime without workers. `SKIFF_TRANSFER_WORKERS=N` sets the number of workers.
 */
export function transferPool(
  env: Record<string, string | undefined> = process.env,
): TransferPool | undefined {
  if (pool === undefined) {
    const asked = env.SKIFF_TRANSFER_WORKERS === undefined ? Number.NaN : Number(env.SKIFF_TRANSFER_WORKERS);
    const size =
      Number.isInteger(asked) && asked >= 0 ? asked : Math.min(MAX_WORKERS, availableParallelism());
    pool = size > 0 && typeof Worker === "function" ? new TransferPool(size) : null;
  }
  return pool ?? undefined;
}
