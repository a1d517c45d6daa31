/**
 * A job as a worker runs it: the questions it asks the main thread, the progress it reports, and
 * the signal that says the main thread cancelled it.
 */
import type { Ask, FromWorker, PreparedRequest } from "./protocol.ts";
import { fromWire, type ToWorker } from "./protocol.ts";

type Post = (message: FromWorker) => void;

/** Progress is reported at most once per this many bytes and milliseconds (and at the end). */
const PROGRESS_STEP = 1024 * 1024;
const PROGRESS_MS = 50;

export class JobChannel {
  readonly #controller = new AbortController();
  readonly #waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextAsk = 1;
  #reported = 0;
  #reportedAt = 0;

  constructor(
    readonly id: number,
    private readonly post: Post,
    private readonly crashAfter?: number,
  ) {}

  /** Aborted when the main thread cancels the job. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Ends the job from inside (another part of its download failed): pending work sees the signal. */
  stop(reason: Error): void {
    this.#controller.abort(reason);
  }

  /** A request for the job's blob, prepared by the main thread (current token, routing, TLS). */
  ask(question: Ask): Promise<PreparedRequest> {
    return this.#call((ask) =>
      this.post({ type: "ask", id: this.id, ask, question }),
    ) as Promise<PreparedRequest>;
  }

  /** Asks the main thread to start range jobs for bytes `from`-`to` on other workers; resolves to how many. */
  fork(from: number, to: number, shared: SharedArrayBuffer): Promise<number> {
    return this.#call((ask) =>
      this.post({ type: "fork", id: this.id, ask, from, to, shared }),
    ) as Promise<number>;
  }

  /** Reports `bytes` of the blob done (at most every megabyte and 50 ms; always when `final`). */
  progress(bytes: number, final = false): void {
    if (this.crashAfter !== undefined && bytes >= this.crashAfter) {
      // An uncaught error ends the worker thread, as a bug would (tests of the pool's recovery).
      setTimeout(() => {
        throw new Error(`injected worker crash after ${bytes} bytes`);
      });
    }
    if (!final && bytes - this.#reported < PROGRESS_STEP) return;
    const now = Date.now();
    if (!final && now - this.#reportedAt < PROGRESS_MS) return;
    this.#reported = bytes;
    this.#reportedAt = now;
    this.post({ type: "progress", id: this.id, bytes });
  }

  debug(lines: string[]): void {
    this.post({ type: "debug", id: this.id, lines });
  }

  /** Handles the main thread's answer to a question of this job, or its cancel. */
  receive(message: ToWorker): void {
    if (message.type === "cancel") {
      this.#controller.abort(new Error("cancelled"));
      for (const waiter of this.#waiting.values()) waiter.reject(new Error("cancelled"));
      this.#waiting.clear();
      return;
    }
    if (message.type !== "answer" && message.type !== "forked") return;
    const waiter = this.#waiting.get(message.ask);
    if (!waiter) return;
    this.#waiting.delete(message.ask);
    if (message.type === "forked") waiter.resolve(message.ranges);
    else if (message.error) waiter.reject(fromWire(message.error));
    else waiter.resolve(message.request);
  }

  #call(send: (ask: number) => void): Promise<unknown> {
    if (this.signal.aborted) return Promise.reject(new Error("cancelled"));
    const ask = this.#nextAsk++;
    const promise = new Promise((resolve, reject) => this.#waiting.set(ask, { resolve, reject }));
    send(ask);
    return promise;
  }
}
