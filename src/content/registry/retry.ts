/**
 * When and how long to wait before trying a registry request again: up to 5 retries with jittered
 * exponential backoff (200 ms doubling, capped at 3 s), on 408, 429 (honoring `Retry-After`) and
 * 5xx answers, and on network failures of requests that can be sent again.
 */

/** Retries after the first attempt. */
export const MAX_RETRIES = 5;
/** The first backoff step. */
export const BASE_DELAY_MS = 200;
/** No backoff step is longer. */
export const MAX_DELAY_MS = 3000;
/** A `Retry-After` longer than this is not waited for: the error says when to come back instead. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The first backoff step in ms: 200, or `SKIFF_RETRY_BACKOFF_MS` (a whole number >= 1) so a test
 * suite can drive many retries without sleeping through them. Read on each call, like
 * `SKIFF_HTTP_TIMEOUT`. A server's `Retry-After` is not affected.
 */
export function backoffBaseMs(env: Record<string, string | undefined> = process.env): number {
  const text = env.SKIFF_RETRY_BACKOFF_MS;
  const ms = text === undefined ? Number.NaN : Number(text);
  return Number.isInteger(ms) && ms >= 1 ? ms : BASE_DELAY_MS;
}

/**
 * The wait before retry number `retry` (0 for the first retry): 200 ms doubling per retry up to
 * 3 s (with `SKIFF_RETRY_BACKOFF_MS`: that doubling up to 15 times it), then jittered to between
 * half and all of that so parallel clients spread out. `random` returns a number in [0, 1).
 */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const base = backoffBaseMs();
  const cap = (base * MAX_DELAY_MS) / BASE_DELAY_MS;
  const step = Math.min(base * 2 ** Math.max(0, retry), cap);
  return Math.round(step / 2 + random() * (step / 2));
}

/** True for statuses a retry can cure: 408, 429 and 5xx except 501 (not implemented) and 505. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)
  );
}

/**
 * Milliseconds a `Retry-After` value asks to wait (delta-seconds or an HTTP date), or undefined
 * when it is absent or unreadable. `now` is for tests.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^\d+\.\d+$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The wait before retry `retry` after a response: its `Retry-After` when given, else the backoff. */
export function retryDelay(
  retry: number,
  retryAfter: string | null | undefined,
  random: () => number = Math.random,
): number {
  const asked = parseRetryAfter(retryAfter);
  if (asked !== undefined) return asked;
  return backoffDelay(retry, random);
}

/** Resolves after `ms` milliseconds (rejects early when `signal` aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** How one attempt ended: with a value or an error. */
type Outcome<T> = { value: T } | { error: unknown };

interface RetryOptions<T> {
  /**
   * Whether `outcome` is worth another attempt: undefined to stop there, else the `Retry-After`
   * the answer carried (null when none), which {@link retryDelay} turns into the wait.
   */
  again(outcome: Outcome<T>): { retryAfter: string | null } | undefined;
  /** Called before each wait, e.g. to close a response body and write a `--debug` line. */
  onRetry?(outcome: Outcome<T>, delay: number): Promise<void> | void;
  /** Stops the wait early. */
  signal?: AbortSignal;
}

/**
 * The one retry loop of registry requests: runs `attempt`, and while `again` says an outcome is
 * worth another try, waits {@link retryDelay} and runs it again, at most MAX_RETRIES times. Then
 * the last outcome is returned or thrown.
 */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions<T>): Promise<T> {
  for (let retry = 0; ; retry++) {
    let outcome: Outcome<T>;
    try {
      outcome = { value: await attempt() };
    } catch (error) {
      outcome = { error };
    }
    const wanted = retry < MAX_RETRIES ? options.again(outcome) : undefined;
    if (!wanted) {
      if ("error" in outcome) throw outcome.error;
      return outcome.value;
    }
    const delay = retryDelay(retry, wanted.retryAfter);
    await options.onRetry?.(outcome, delay);
    await sleep(delay, options.signal);
  }
}
