/**
 * Worker side of a blob request: sends what the main thread prepared, and comes back to it for
 * every redirect (it decides where credentials may go) and every 401 (it owns the tokens).
 * Network failures and 408/429/5xx answers are retried here with the same backoff as on the
 * main thread; silence longer than the idle timeout gives the connection up.
 */
import { SkiffError } from "../../errors.ts";
import { hostHeaderFetchInit, tlsFetchInit } from "../../runtime/index.ts";
import { headerLines, scrubUrl } from "../registry/debug.ts";
import { isRetryableNetworkError } from "../registry/errors.ts";
import {
  isRetryableStatus,
  MAX_RETRIES,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelay,
  sleep,
} from "../registry/retry.ts";
import type { JobChannel } from "./channel.ts";
import type { PreparedRequest, Refusal } from "./protocol.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A final answer that is not the blob (404, 403...): the main thread makes the error from it. */
export class RefusedAnswer extends Error {
  constructor(readonly refusal: Refusal) {
    super(`${refusal.status} ${refusal.statusText}`);
  }
}

/**
 * Gives up a request or body read that waits longer than `ms` for bytes: `arm` around each wait,
 * `abort` reason is a NETWORK SkiffError.
 */
export class IdleTimer {
  readonly controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly what: string,
  ) {}

  async around<T>(promise: Promise<T>): Promise<T> {
    this.#timer = setTimeout(
      () =>
        this.controller.abort(new SkiffError("NETWORK", `${this.what} sent nothing for ${this.ms / 1000} s`)),
      this.ms,
    );
    try {
      return await promise;
    } finally {
      clearTimeout(this.#timer);
    }
  }
}

/** An open blob body: the response (200 or 206), and the idle timer to read it under. */
export interface OpenBody {
  response: Response;
  idle: IdleTimer;
}

function fetchInit(request: PreparedRequest, signal: AbortSignal): RequestInit {
  const runtime = request.tls
    ? tlsFetchInit(request.tls, request.serverName)
    : request.keepHost
      ? hostHeaderFetchInit()
      : {};
  return {
    method: request.method,
    headers: request.headers,
    redirect: "manual",
    signal,
    ...runtime,
  } as RequestInit;
}

async function refusal(response: Response, url: string): Promise<Refusal> {
  let body = "";
  try {
    body = (await response.text()).slice(0, 64 * 1024);
  } catch {
    // The status says enough.
  }
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body,
    url,
  };
}

/**
 * Opens bytes `from`-`to` (exclusive; open-ended when `to` is undefined, no Range header at all
 * from 0) of the job's blob. Resolves to a 200 or 206 answer; other final answers throw
 * {@link RefusedAnswer}, network failures the runtime's error after the retries.
 */
export async function openBody(
  channel: JobChannel,
  what: string,
  from: number,
  to?: number,
): Promise<OpenBody> {
  const range = to !== undefined ? { from, to } : { from };
  let request = await channel.ask({ kind: "open", ...range });
  let attempt = 0;
  let hops = 0;
  let rounds = 0;
  for (;;) {
    const idle = new IdleTimer(request.idleMs, what);
    const onCancel = () => idle.controller.abort(channel.signal.reason);
    channel.signal.addEventListener("abort", onCancel, { once: true });
    let response: Response;
    const started = Date.now();
    try {
      response = await idle.around(fetch(request.target, fetchInit(request, idle.controller.signal)));
    } catch (error) {
      channel.signal.removeEventListener("abort", onCancel);
      if (channel.signal.aborted) throw channel.signal.reason;
      const cause = idle.controller.signal.aborted ? idle.controller.signal.reason : error;
      if (attempt < MAX_RETRIES && isRetryableNetworkError(cause)) {
        await sleep(retryDelay(attempt++, undefined), channel.signal);
        request = await channel.ask({ kind: "open", ...range });
        continue;
      }
      throw cause;
    }
    channel.signal.removeEventListener("abort", onCancel);
    channel.debug([
      `< ${response.status} ${response.statusText} ${scrubUrl(request.url)} (${Date.now() - started} ms)`,
      ...headerLines(response.headers),
    ]);
    const location = response.headers.get("location");
    if (REDIRECTS.has(response.status) && location) {
      await response.body?.cancel().catch(() => {});
      request = await channel.ask({
        kind: "redirect",
        location,
        url: request.url,
        status: response.status,
        hops: ++hops,
        ...range,
      });
      continue;
    }
    if (response.status === 401 && request.toRegistry) {
      const challenge = response.headers.get("www-authenticate");
      await response.body?.cancel().catch(() => {});
      request = await channel.ask({
        kind: "unauthorized",
        challenge,
        ...(request.headers.Authorization ? { sent: request.headers.Authorization } : {}),
        rounds: ++rounds,
        ...range,
      });
      continue;
    }
    if (attempt < MAX_RETRIES && isRetryableStatus(response.status)) {
      const retryAfter = response.headers.get("retry-after");
      const asked = parseRetryAfter(retryAfter);
      if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
        await response.body?.cancel().catch(() => {});
        await sleep(retryDelay(attempt++, retryAfter), channel.signal);
        request = await channel.ask({ kind: "open", ...range });
        continue;
      }
    }
    if ((response.status === 200 || response.status === 206) && response.body) {
      // Cancelling the job now aborts the body read too.
      channel.signal.addEventListener("abort", () => idle.controller.abort(channel.signal.reason), {
        once: true,
      });
      return { response, idle };
    }
    throw new RefusedAnswer(await refusal(response, request.url));
  }
}
