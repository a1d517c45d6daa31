/**
 * The idle watch of registry requests: a connection that stays silent (no request or response
 * bytes) longer than the idle timeout is given up, however long the transfer as a whole takes.
 */
import process from "node:process";

/** How long a connection may stay silent before it is given up: `SKIFF_HTTP_TIMEOUT` seconds, else 60. */
export function idleTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const text = env.SKIFF_HTTP_TIMEOUT;
  const seconds = text === undefined ? Number.NaN : Number(text);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/**
 * Notices silence: while something waits on the network (`around`), more than `timeoutMs` without
 * activity (`touch`) calls `onIdle`. Waiting on a slow consumer is not silence.
 */
export class IdleWatch {
  private last = Date.now();
  private busy = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(timeoutMs: number, onIdle: () => void) {
    this.timer = setInterval(
      () => {
        if (this.busy > 0 && Date.now() - this.last > timeoutMs) onIdle();
      },
      Math.min(1000, Math.max(25, timeoutMs / 4)),
    );
    (this.timer as { unref?: () => void }).unref?.();
  }

  touch(): void {
    this.last = Date.now();
  }

  async around<T>(promise: Promise<T>): Promise<T> {
    this.busy++;
    this.touch();
    try {
      return await promise;
    } finally {
      this.busy--;
      this.touch();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Forwards a response body's chunks under the idle watch; `done` runs once at the end, error or cancel. */
export function watchedBody(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  watch: IdleWatch,
  done: () => void,
): ReadableStream<Uint8Array> {
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await watch.around(reader.read());
        if (end) {
          finish();
          controller.close();
          return;
        }
        controller.enqueue(value);
      } catch (error) {
        finish();
        throw error;
      }
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason).catch(() => {});
    },
  });
}

/** A request body stream that notes activity as the runtime pulls from it. */
export function watchedUpload(
  stream: ReadableStream<Uint8Array>,
  watch: IdleWatch,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      watch.touch();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  });
}
