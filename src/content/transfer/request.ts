/**
 * Worker side of a blob request: sends what the main thread prepared, and comes back to it for
 * every redirect (it decides where credentials may go) and every 401 (it owns the tokens).
 * Network failures and 408/429/5xx answers are retried here with the same backoff as on the
 * main thread; silence longer than the idle timeout gives the connection up.
 */
import { SkiffError } from "../../errors.ts";
import { hostHeaderFetchInit, tlsFetchInit } from "../../runtime/index.ts";
import { socketBodies } from "../../runtime/transfer.ts";
import { headerLines, scrubUrl } from "../registry/debug.ts";
import { isRetryableNetworkError } from "../registry/errors.ts";
import { IdleWatch } from "../registry/idle.ts";
import {
  isRetryableStatus,
  MAX_RETRIES,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelay,
  sleep,
} from "../registry/retry.ts";
import type { JobChannel } from "./channel.ts";
import { type Answer, fromResponse, get } from "./http1.ts";
import type { PreparedRequest, Refusal } from "./protocol.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A final answer that is not the blob (404, 403...): the main thread makes the error from it. */
export class RefusedAnswer extends Error {
  constructor(readonly refusal: Refusal) {
    super(`${refusal.status} ${refusal.statusText}`);
  }
}

/**
 * An open blob body: the answer (200 or 206), the idle watch to read it under (`touch` it per
 * chunk, `stop` it at the end), and the signal it aborts (its reason says why).
 */
export interface OpenBody {
  answer: Answer;
  watch: IdleWatch;
  signal: AbortSignal;
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

async function refusal(answer: Answer, url: string): Promise<Refusal> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  await answer
    .pipe((chunk) => {
      chunks.push(chunk.slice(0, 64 * 1024 - total));
      total += chunks[chunks.length - 1]!.byteLength;
      return total >= 64 * 1024;
    })
    .catch(() => {
      // The status says enough.
    });
  const body = new TextDecoder().decode(Buffer.concat(chunks));
  return { status: answer.status, statusText: answer.statusText, headers: [...answer.headers], body, url };
}

/** Sends a prepared GET over plain sockets where that applies, else with `fetch`. */
async function send(request: PreparedRequest, signal: AbortSignal): Promise<Answer> {
  if (request.method === "GET" && socketBodies()) return get(request, signal);
  return fromResponse(await fetch(request.target, fetchInit(request, signal)));
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
    const controller = new AbortController();
    const watch = new IdleWatch(request.idleMs, () =>
      controller.abort(new SkiffError("NETWORK", `${what} sent nothing for ${request.idleMs / 1000} s`)),
    );
    const onCancel = () => controller.abort(channel.signal.reason);
    channel.signal.addEventListener("abort", onCancel, { once: true });
    let response: Answer;
    const started = Date.now();
    try {
      response = await watch.around(send(request, controller.signal));
    } catch (error) {
      watch.stop();
      channel.signal.removeEventListener("abort", onCancel);
      if (channel.signal.aborted) throw channel.signal.reason;
      const cause = controller.signal.aborted ? controller.signal.reason : error;
      if (attempt < MAX_RETRIES && isRetryableNetworkError(cause)) {
        await sleep(retryDelay(attempt++, undefined), channel.signal);
        request = await channel.ask({ kind: "open", ...range });
        continue;
      }
      throw cause;
    }
    channel.debug([
      `< Response #${request.id}: ${response.status} ${response.statusText} ${scrubUrl(request.url)} (${Date.now() - started} ms)`,
      ...headerLines("<", response.headers),
    ]);
    // The body is read under the same idle watch, and cancelling the job aborts it.
    if (response.status === 200 || response.status === 206) {
      return { answer: response, watch, signal: controller.signal };
    }
    const done = async () => {
      await response.cancel();
      watch.stop();
      channel.signal.removeEventListener("abort", onCancel);
    };
    const location = response.headers.get("location");
    if (REDIRECTS.has(response.status) && location) {
      await done();
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
      // The answer's words go into the error when the registry refuses for good.
      const refused = await refusal(response, request.url);
      await done();
      request = await channel.ask({
        kind: "unauthorized",
        challenge: response.headers.get("www-authenticate"),
        statusText: refused.statusText,
        body: refused.body,
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
        await done();
        await sleep(retryDelay(attempt++, retryAfter), channel.signal);
        request = await channel.ask({ kind: "open", ...range });
        continue;
      }
    }
    const refused = await refusal(response, request.url);
    await done();
    throw new RefusedAnswer(refused);
  }
}
