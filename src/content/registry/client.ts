/**
 * The HTTP side of one registry: base URL (HTTPS, or plain HTTP for `localhost` and with
 * `--plain-http`), `-H` headers sent only to this registry, authorization from challenges,
 * redirects followed by hand (redirects.ts: `Authorization` never reaches another host, https ->
 * http is refused) and `--debug` lines with secrets scrubbed; routes.ts says where each request
 * connects (`--resolve`, TLS settings).
 * Every request, token requests included, goes through {@link RegistryClient.send}: one place
 * builds its headers, one retry loop (retry.ts) and one idle watch (idle.ts) govern it.
 */
import { SkiffError } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import type { RemoteSettings } from "../open.ts";
import type { PreparedRequest } from "../transfer/protocol.ts";
import { readAll } from "../verify.ts";
import { Authorizer } from "./auth.ts";
import { type Credential, credentialFor, hasSecret } from "./credentials.ts";
import { headerLines, nextRequestId, scrubSecrets, scrubUrl } from "./debug.ts";
import {
  type ErrorContext,
  isRetryableNetworkError,
  isTlsProtocolError,
  networkError,
  readCapped,
  registryAnswer,
  registryError,
} from "./errors.ts";
import { apiHost, hostKey, isLocalhost, parseHeaderFlag } from "./hosts.ts";
import { IdleWatch, idleTimeoutMs, watchedBody, watchedUpload } from "./idle.ts";
import { REDIRECT_STATUSES, redirectTarget } from "./redirects.ts";
import { answersPlainHttp, headRefusalWithBody } from "./refusals.ts";
import { isRetryableStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, retrying } from "./retry.ts";
import { Routes } from "./routes.ts";

type Method = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

/** One request to the registry. */
interface RequestSpec {
  method: Method;
  /** A path (`/v2/...`, with query) on the registry, or an absolute URL (an upload `Location`). */
  url: string;
  headers?: Record<string, string>;
  /**
   * Bytes (or a file: runtime/transfer.ts `fileBody`) can be sent again (retries, auth, 307); a
   * stream is sent once.
   */
  body?: Uint8Array | string | Blob | ReadableStream<Uint8Array>;
  /** Token scopes the request needs (`repository:NAME:pull`). */
  scopes: readonly string[];
  /** Retry on network errors and 408/429/5xx; default: true unless the body is a stream. */
  retry?: boolean;
  /** Aborts the request (and its response body). */
  signal?: AbortSignal;
  /** Answer a 401 challenge by authenticating and sending again (default true). */
  authenticate?: boolean;
  /**
   * A request outside the registry API (a token endpoint): no registry authorization or `-H`
   * headers; `authorization` goes to its host only; errors name it `name`.
   */
  endpoint?: { name: string; authorization?: string };
}

/** Everything about one registry host: shared by all repositories of it opened with the same settings. */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: URL;
  readonly authorizer: Authorizer;
  private readonly routes: Routes;
  /** Responses to a refused HEAD that carry the body of the same request as GET (refusals.ts). */
  private readonly refusedHeads = new WeakSet<Response>();
  private readonly extraHeaders: [string, string][];
  private readonly debugLine: ((line: string) => void) | undefined;
  private readonly secrets: string[] = [];
  private readonly timeoutMs: number;

  constructor(
    registry: string,
    readonly settings: RemoteSettings,
  ) {
    this.registry = registry;
    const plain = settings.plainHttp ?? isLocalhost(registry);
    this.baseUrl = new URL(`${plain ? "http" : "https"}://${apiHost(registry)}`);
    this.routes = new Routes(settings, this.baseUrl);
    this.extraHeaders = (settings.headers ?? []).map(parseHeaderFlag);
    this.debugLine = settings.debug;
    for (const secret of [settings.password, settings.identityToken]) if (secret) this.secrets.push(secret);
    for (const [name, value] of this.extraHeaders) {
      if (/auth|token|key|secret|cookie|password/i.test(name) && value) this.secrets.push(value);
    }
    this.timeoutMs = idleTimeoutMs();
    this.authorizer = new Authorizer({
      registry,
      credential: () => this.lookupCredential(),
      tokenRequest: (url, init) => this.tokenRequest(url, init),
    });
  }

  /** True when the registry is spoken to over TLS. */
  get https(): boolean {
    return this.baseUrl.protocol === "https:";
  }

  private lookupCredential(): Credential | undefined {
    const found = credentialFor(this.settings, this.registry);
    if (found?.password) this.secrets.push(found.password);
    if (found?.identityToken) this.secrets.push(found.identityToken);
    return hasSecret(found) ? found : undefined;
  }

  /** Secrets known to this client, to scrub from anything printed. */
  scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }

  /** The URL of a registry path. */
  url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  private debug(lines: string[]): void {
    if (!this.debugLine) return;
    this.debugLine(this.scrub(lines.join("\n")));
  }

  /**
   * A GET for a transfer worker to send (content/transfer): the address to connect to, the headers
   * {@link send} would put on it with the current authorization, and the TLS settings. The caller
   * follows redirects and answers 401s by asking again.
   */
  async prepare(spec: Pick<RequestSpec, "url" | "headers" | "scopes">): Promise<PreparedRequest> {
    const url = this.url(spec.url);
    const toRegistry = this.routes.isRegistryHost(url);
    const authorization = toRegistry ? await this.authorizer.header(spec.scopes) : undefined;
    const headers = this.headersFor({ ...spec, method: "GET" }, url, authorization, 0);
    const { target, host, serverName } = this.routes.address(url);
    if (host) headers.Host = host;
    const id = nextRequestId();
    this.debug([`> Request #${id}: GET ${scrubUrl(url.href)}`, ...headerLines(">", headers)]);
    return {
      id,
      method: "GET",
      target: target.href,
      url: url.href,
      headers,
      ...(url.protocol === "https:" ? { tls: this.routes.tlsFor(url) } : {}),
      ...(serverName ? { serverName } : {}),
      ...(host && url.protocol !== "https:" ? { keepHost: true } : {}),
      toRegistry,
      idleMs: this.timeoutMs,
    };
  }

  /** The headers of one hop of `spec` to `url`: the one place a request gets its authorization. */
  private headersFor(spec: RequestSpec, url: URL, authorization: string | undefined, hop: number) {
    const headers: Record<string, string> = {
      "User-Agent": `skiff/${VERSION}`,
      "Accept-Encoding": "identity",
    };
    const toRegistry = !spec.endpoint && this.routes.isRegistryHost(url);
    if (toRegistry) for (const [name, value] of this.extraHeaders) headers[name] = value;
    for (const [name, value] of Object.entries(spec.headers ?? {})) {
      if (!toRegistry && /^authorization$/i.test(name)) continue;
      headers[name] = value;
    }
    // Registry credentials only to the registry; an endpoint's only to its own host.
    const own = spec.endpoint ? hop === 0 || hostKey(url) === hostKey(this.url(spec.url)) : toRegistry;
    if (authorization && own) headers.Authorization = authorization;
    if (spec.body === undefined) delete headers["Content-Type"];
    return headers;
  }

  /**
   * Sends one request through redirects: credentials only where {@link headersFor} allows, an
   * https -> http redirect refused, a stream body never sent twice.
   */
  private async sendFollowing(
    spec: RequestSpec,
    authorization: string | undefined,
    signal: AbortSignal,
    watch: IdleWatch,
  ): Promise<Response> {
    const who = spec.endpoint?.name ?? this.registry;
    let url = this.url(spec.url);
    let method: Method = spec.method;
    let body = spec.body;
    for (let hop = 0; ; hop++) {
      const headers = this.headersFor({ ...spec, body }, url, authorization, hop);
      const { target, init, host } = this.routes.route(url);
      if (host) headers.Host = host;
      let sendBody: BodyInit | undefined;
      if (body instanceof ReadableStream) sendBody = watchedUpload(body, watch);
      else if (body !== undefined) sendBody = body as BodyInit;
      const id = nextRequestId();
      this.debug([`> Request #${id}: ${method} ${scrubUrl(url.href)}`, ...headerLines(">", headers)]);
      const started = Date.now();
      const response = await fetch(target, {
        method,
        headers,
        body: sendBody,
        redirect: "manual",
        signal,
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
        ...init,
      } as RequestInit);
      this.debug([
        `< Response #${id}: ${response.status} ${response.statusText} ${scrubUrl(url.href)} (${Date.now() - started} ms)`,
        ...headerLines("<", response.headers),
      ]);
      const location = response.headers.get("location");
      const writes = !spec.endpoint && (method === "POST" || method === "PATCH");
      if (!REDIRECT_STATUSES.has(response.status) || !location || writes) return response;
      await response.body?.cancel().catch(() => {});
      const next = redirectTarget(who, url, location, hop);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method !== "HEAD")
      ) {
        if (method !== "GET" && method !== "HEAD") body = undefined;
        if (method !== "HEAD") method = "GET";
      } else if (body instanceof ReadableStream) {
        throw new SkiffError(
          "REGISTRY",
          `${who} redirected an upload (${response.status}); skiff cannot send a stream twice`,
        );
      }
      url = next;
    }
  }

  /**
   * Sends a request with authorization, retries and redirects; returns the final response, whatever
   * its status (see {@link RegistryClient.fail}). Network errors become SkiffErrors. The response
   * body is watched: a read that waits longer than the idle timeout errors it.
   */
  async send(spec: RequestSpec): Promise<Response> {
    const replayable = !(spec.body instanceof ReadableStream);
    const retry = spec.retry ?? replayable;
    const url = this.url(spec.url);
    const endpoint = spec.endpoint;
    const toRegistry = !endpoint && this.routes.isRegistryHost(url);
    let scopes = spec.scopes;
    let authRounds = 0;
    /** One exchange, with its 401 rounds: the response, or the error to judge. */
    const attempt = async (): Promise<Response> => {
      for (;;) {
        const authorization = endpoint
          ? endpoint.authorization
          : toRegistry
            ? await this.authorizer.header(scopes)
            : undefined;
        const controller = new AbortController();
        const onAbort = () => controller.abort(spec.signal?.reason);
        spec.signal?.addEventListener("abort", onAbort, { once: true });
        const watch = new IdleWatch(this.timeoutMs, () =>
          controller.abort(
            new SkiffError("NETWORK", `${this.registry} sent nothing for ${this.timeoutMs / 1000} s`),
          ),
        );
        const stop = () => {
          watch.stop();
          spec.signal?.removeEventListener("abort", onAbort);
        };
        let response: Response;
        try {
          const sent = this.sendFollowing(spec, authorization, controller.signal, watch);
          // A file body goes out without passing JavaScript, so its progress cannot be watched:
          // the idle timeout starts with the answer (a dead peer still fails the connection in TCP).
          response = await (spec.body instanceof Blob ? sent : watch.around(sent));
        } catch (error) {
          stop();
          if (spec.signal?.aborted) throw spec.signal.reason ?? error;
          const reason = controller.signal.aborted ? controller.signal.reason : undefined;
          // Our own idle timeout (the abort reason) is a network failure to retry, not a final error.
          if (error instanceof SkiffError && error !== reason) throw new Final(error);
          throw reason instanceof SkiffError ? reason : error;
        }
        if (response.status === 401 && toRegistry && spec.authenticate !== false) {
          const challenge = response.headers.get("www-authenticate");
          const next =
            authRounds < 2 ? this.authorizer.challenge(challenge, scopes, authorization) : undefined;
          if (next && replayable) {
            await response.body?.cancel().catch(() => {});
            stop();
            scopes = next;
            authRounds++;
            continue;
          }
          const unanswerable = authorization === undefined ? this.authorizer.basicUnanswerable() : undefined;
          if (unanswerable) {
            await response.body?.cancel().catch(() => {});
            stop();
            throw new Final(unanswerable);
          }
          if (authorization?.startsWith("Bearer ")) {
            const answer = registryAnswer(
              response.status,
              response.statusText,
              await this.bodyText(response),
            );
            stop();
            throw new Final(this.authorizer.refusedError(scopes, challenge, answer));
          }
        }
        if (spec.method === "HEAD" && toRegistry && (response.status === 401 || response.status === 403)) {
          try {
            const get: RequestSpec = { ...spec, method: "GET" };
            const answered = await headRefusalWithBody(response, () =>
              this.sendFollowing(get, authorization, controller.signal, watch),
            );
            if (!answered) return response;
            this.refusedHeads.add(answered);
            return answered;
          } finally {
            stop();
          }
        }
        if (!response.body || spec.method === "HEAD") {
          stop();
          return response;
        }
        return rewrap(response, watchedBody(response.body.getReader(), watch, stop));
      }
    };
    const what = `${spec.method} ${scrubUrl(url.href)}`;
    try {
      return await retrying(attempt, {
        again: (outcome) => {
          if (!retry || spec.signal?.aborted) return undefined;
          if ("error" in outcome) {
            return outcome.error instanceof Final || !isRetryableNetworkError(outcome.error)
              ? undefined
              : { retryAfter: null };
          }
          const response = outcome.value;
          if (!isRetryableStatus(response.status)) return undefined;
          const retryAfter = response.headers.get("retry-after");
          const asked = parseRetryAfter(retryAfter);
          return asked === undefined || asked <= MAX_RETRY_AFTER_MS ? { retryAfter } : undefined;
        },
        onRetry: async (outcome, delay) => {
          if ("value" in outcome) {
            await outcome.value.body?.cancel().catch(() => {});
            this.debug([`* ${outcome.value.status} for ${what}; retry in ${delay} ms`]);
          } else this.debug([`* ${what} failed (${describe(outcome.error)}); retry in ${delay} ms`]);
        },
        ...(spec.signal ? { signal: spec.signal } : {}),
      });
    } catch (error) {
      if (error instanceof Final) throw error.error;
      if (spec.signal?.aborted) throw error;
      const https = url.protocol === "https:";
      const plain = https && isTlsProtocolError(error) ? await answersPlainHttp(this.routes, url) : false;
      throw networkError(error, endpoint?.name ?? this.registry, https, plain);
    }
  }

  /**
   * Sends a GET and, when it answers 200, reads the whole body (at most `limit` bytes, else
   * TOO_LARGE). A body that breaks off is asked for again, like a failed request. Other statuses
   * come back unread (for {@link RegistryClient.fail}).
   */
  async sendForBytes(
    spec: RequestSpec,
    limit: number,
    what: string,
  ): Promise<{ response: Response; bytes?: Uint8Array }> {
    const attempt = async (): Promise<{ response: Response; bytes?: Uint8Array }> => {
      // send has retried already: only a body that breaks off is asked for again here.
      const response = await this.send(spec).catch((error: unknown) => Promise.reject(new Final(error)));
      if (response.status !== 200) return { response };
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      if (Number.isFinite(length) && length > limit) {
        await response.body?.cancel().catch(() => {});
        throw new SkiffError("TOO_LARGE", `${what} is ${length} bytes, over the ${limit}-byte limit`);
      }
      if (!response.body) return { response, bytes: new Uint8Array() };
      return { response, bytes: await readAll(response.body, limit, what) };
    };
    try {
      return await retrying(attempt, {
        again: (outcome) =>
          "error" in outcome &&
          !(outcome.error instanceof Final) &&
          !(outcome.error instanceof SkiffError && outcome.error.code !== "NETWORK") &&
          isRetryableNetworkError(outcome.error)
            ? { retryAfter: null }
            : undefined,
        onRetry: (outcome, delay) => {
          if ("error" in outcome) {
            this.debug([`* reading ${what} failed (${describe(outcome.error)}); retry in ${delay} ms`]);
          }
        },
        ...(spec.signal ? { signal: spec.signal } : {}),
      });
    } catch (error) {
      if (error instanceof Final) throw error.error;
      throw networkError(error, this.registry, this.https);
    }
  }

  /** The SkiffError for a failed response (its body read, capped, and scrubbed of secrets). */
  async fail(
    response: Response,
    context: Omit<ErrorContext, "registry" | "hadCredentials">,
  ): Promise<SkiffError> {
    const error = registryError(
      response.status,
      response.statusText,
      await this.bodyText(response),
      { ...context, registry: this.registry, hadCredentials: this.authorizer.sendsCredentials() },
      response.headers.get("retry-after"),
      // A refused HEAD says its status as ORAS's HEAD requests do, then the registry's words.
      this.refusedHeads.has(response),
    );
    return error;
  }

  /** The body of a failed response, capped and scrubbed of secrets; empty when it cannot be read. */
  private async bodyText(response: Response): Promise<string> {
    try {
      return this.scrub(await readCapped(response, 64 * 1024));
    } catch {
      return ""; // The status says enough.
    }
  }

  /** GET /v2/: reachable and (with credentials) authorized. Returns the final status. */
  async ping(): Promise<number> {
    const response = await this.send({ method: "GET", url: "/v2/", scopes: [] });
    await response.body?.cancel().catch(() => {});
    return response.status;
  }

  /** A request to a token endpoint: through {@link send}, with its own credentials only. */
  private async tokenRequest(
    url: URL,
    init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string },
  ): Promise<Response> {
    if (url.protocol === "http:" && this.https && init.headers.Authorization) {
      throw new SkiffError(
        "REGISTRY",
        `${this.registry} asks for credentials at a plain HTTP token endpoint (${url.host}): refusing to send them unencrypted`,
      );
    }
    const { Authorization: authorization, ...headers } = init.headers;
    const name = `${this.registry} (token endpoint ${url.host})`;
    return this.send({
      method: init.method,
      url: url.href,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      scopes: [],
      endpoint: authorization ? { name, authorization } : { name },
    });
  }
}

/** An error that ends a request at once: a verdict, not a failure worth another attempt. */
class Final extends Error {
  constructor(readonly error: unknown) {
    super(String(error));
  }
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ?? e?.message ?? String(error);
}

/** A Response with the same status and headers and another body. */
function rewrap(response: Response, body: ReadableStream<Uint8Array>): Response {
  const { status, statusText, headers } = response;
  return new Response(body, { status, statusText, headers });
}

const clients = new Map<string, RegistryClient>();

/**
 * The client for a registry and settings: one per process, so repositories of the same registry
 * share the ping, the credentials lookup and the token cache.
 */
export function clientFor(registry: string, settings: RemoteSettings): RegistryClient {
  const { debug, ...rest } = settings;
  const key = JSON.stringify([registry, rest, Boolean(debug)]);
  let client = clients.get(key);
  if (!client) {
    client = new RegistryClient(registry, settings);
    clients.set(key, client);
  }
  return client;
}
