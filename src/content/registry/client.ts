/**
 * The HTTP side of one registry: base URL (HTTPS, or plain HTTP for `localhost` and with
 * `--plain-http`), TLS settings, `--resolve` address overrides, `-H` headers sent only to this
 * registry, authorization from challenges, retries with backoff, redirects followed by hand (so
 * `Authorization` never reaches another host and https -> http is refused), idle timeouts and
 * `--debug` lines with secrets scrubbed.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import { hostHeaderFetchInit, type TlsSettings, tlsFetchInit } from "../../runtime/index.ts";
import { VERSION } from "../../version.ts";
import type { RemoteSettings } from "../open.ts";
import type { PreparedRequest } from "../transfer/protocol.ts";
import { readAll } from "../verify.ts";
import { Authorizer } from "./auth.ts";
import { type Credential, credentialsFromConfigs, defaultConfigPath, hasSecret } from "./credentials.ts";
import { headerLines, scrubSecrets, scrubUrl } from "./debug.ts";
import { type ErrorContext, isRetryableNetworkError, networkError, registryError } from "./errors.ts";
import {
  isRetryableStatus,
  MAX_RETRIES,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelay,
  sleep,
} from "./retry.ts";

export type Method = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

/** One request to the registry. */
export interface RequestSpec {
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
}

/** How long a connection may stay silent (no request or response bytes) before it is given up. */
export function idleTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const text = env.SKIFF_HTTP_TIMEOUT;
  const seconds = text === undefined ? Number.NaN : Number(text);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/** A `--resolve host:port:address[:port]` entry. */
export interface ResolveEntry {
  host: string;
  port: number;
  address: string;
  addressPort: number;
}

/** Parses `--resolve host:port:address[:port]` (IPv6 addresses in brackets). */
export function parseResolve(text: string): ResolveEntry {
  const bad = () =>
    new SkiffError(
      "USAGE",
      `invalid --resolve "${text}": expected host:port:address[:port]`,
      "e.g. --resolve registry.example:443:10.0.0.5",
    );
  const match = /^([^:[\]]+|\[[0-9a-fA-F:.]+\]):(\d{1,5}):(.+)$/.exec(text);
  if (!match) throw bad();
  const host = match[1]!.toLowerCase();
  const port = Number(match[2]);
  const rest = match[3]!;
  let address: string;
  let addressPort = port;
  const bracket = /^(\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/.exec(rest);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2]) addressPort = Number(bracket[2]);
  } else {
    const parts = rest.split(":");
    if (parts.length === 1) address = rest;
    else if (parts.length === 2 && /^\d{1,5}$/.test(parts[1]!)) {
      address = parts[0]!;
      addressPort = Number(parts[1]);
    } else if (parts.length > 2) address = `[${rest}]`;
    else throw bad();
  }
  if (address === "" || port < 1 || port > 65535 || addressPort < 1 || addressPort > 65535) throw bad();
  return { host, port, address, addressPort };
}

/** Parses `-H 'Name: value'`. */
export function parseHeaderFlag(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new SkiffError("USAGE", `invalid header "${text}": expected 'Name: value'`);
  }
  return [name, text.slice(colon + 1).trim()];
}

/** True when skiff talks plain HTTP to `registry` by itself: `localhost` and `localhost:PORT` (like ORAS). */
export function isLocalhost(registry: string): boolean {
  return registry === "localhost" || /^localhost:\d+$/.test(registry);
}

/** The host skiff connects to for a registry name (Docker Hub's API lives on registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

/** `host:port` of a URL with the default port spelled out, for same-host checks. */
function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || defaultPort(url.protocol)}`;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Everything about one registry host: shared by all repositories of it opened with the same settings. */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: URL;
  readonly authorizer: Authorizer;
  private readonly tls: TlsSettings;
  /** Other hosts (token servers, object storage) get the trust settings but not the client certificate. */
  private readonly trust: TlsSettings;
  private readonly tlsInits = new Map<string, Record<string, unknown>>();
  private readonly resolves: ResolveEntry[];
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
    const tls: TlsSettings = {};
    if (settings.caFile) tls.ca = readText(settings.caFile, "CA file");
    if (settings.certFile) tls.cert = readText(settings.certFile, "certificate file");
    if (settings.keyFile) tls.key = readText(settings.keyFile, "key file");
    if (Boolean(settings.certFile) !== Boolean(settings.keyFile)) {
      throw new SkiffError("USAGE", "--cert-file and --key-file go together (mutual TLS needs both)");
    }
    if (settings.insecure) tls.insecure = true;
    this.tls = tls;
    const { cert: _cert, key: _key, ...trust } = tls;
    this.trust = trust;
    this.resolves = (settings.resolve ?? []).map(parseResolve);
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
    const s = this.settings;
    let found: Credential | undefined;
    if (s.identityToken) found = { identityToken: s.identityToken, source: "--identity-token" };
    else if (s.password !== undefined && s.username === undefined) {
      // A password without a user name is an identity token (as in ORAS).
      found = { identityToken: s.password, source: "--password" };
    } else if (s.username !== undefined) {
      if (s.password === undefined) {
        throw new SkiffError("USAGE", "--username needs a password: pass -p/--password or --password-stdin");
      }
      found = { username: s.username, password: s.password, source: "--username/--password" };
    } else {
      const paths =
        s.registryConfigs && s.registryConfigs.length > 0 ? s.registryConfigs : [defaultConfigPath()];
      found = credentialsFromConfigs(paths, this.registry);
    }
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

  private isRegistryHost(url: URL): boolean {
    return hostKey(url) === hostKey(this.baseUrl);
  }

  /** Where to connect for `url` after `--resolve`: the address, the `Host` to send, the TLS server name. */
  private address(url: URL): { target: URL; host?: string; serverName?: string } {
    const port = Number(url.port || defaultPort(url.protocol));
    const entry = this.resolves.find((r) => r.host === url.hostname.toLowerCase() && r.port === port);
    if (!entry) return { target: url };
    const target = new URL(url.href);
    target.hostname = entry.address;
    target.port = String(entry.addressPort);
    // With --resolve the URL holds an address, but the certificate must still carry the name.
    return {
      target,
      host: url.port ? `${url.hostname}:${url.port}` : url.hostname,
      serverName: url.hostname,
    };
  }

  /** The fetch URL and extra init for `url` after `--resolve` and TLS settings. */
  private route(url: URL): { target: URL; init: Record<string, unknown>; host?: string } {
    const { target, host, serverName } = this.address(url);
    const init =
      url.protocol === "https:"
        ? this.tlsInit(this.isRegistryHost(url), serverName)
        : host
          ? hostHeaderFetchInit()
          : {};
    return host ? { target, init, host } : { target, init };
  }

  /** TLS `fetch` options, made on first use: a setting the runtime cannot apply fails only the requests that need it. */
  private tlsInit(registryHost: boolean, serverName?: string): Record<string, unknown> {
    const key = `${registryHost}:${serverName ?? ""}`;
    let init = this.tlsInits.get(key);
    if (!init) {
      init = tlsFetchInit(registryHost ? this.tls : this.trust, serverName);
      this.tlsInits.set(key, init);
    }
    return init;
  }

  /** The headers of a request to `url`: `-H` headers and authorization only for the registry's host. */
  private headersFor(
    url: URL,
    specHeaders: Record<string, string> | undefined,
    authorization: string | undefined,
    hasBody: boolean,
  ): Record<string, string> {
    const headers: Record<string, string> = {
      "User-Agent": `skiff/${VERSION}`,
      "Accept-Encoding": "identity",
    };
    const toRegistry = this.isRegistryHost(url);
    if (toRegistry) {
      for (const [name, value] of this.extraHeaders) headers[name] = value;
      if (authorization) headers.Authorization = authorization;
    }
    for (const [name, value] of Object.entries(specHeaders ?? {})) {
      if (!toRegistry && /^authorization$/i.test(name)) continue;
      headers[name] = value;
    }
    if (!hasBody) delete headers["Content-Type"];
    return headers;
  }

  /**
   * One request for a transfer worker to send (content/transfer): the address to connect to, the
   * headers {@link send} would put on it with the current authorization, and the TLS settings.
   * The caller follows redirects and answers 401s by asking again.
   */
  async prepare(spec: Pick<RequestSpec, "method" | "url" | "headers" | "scopes">): Promise<PreparedRequest> {
    const url = this.url(spec.url);
    const toRegistry = this.isRegistryHost(url);
    const authorization = toRegistry ? await this.authorizer.header(spec.scopes) : undefined;
    const headers = this.headersFor(url, spec.headers, authorization, spec.method === "PUT");
    const { target, host, serverName } = this.address(url);
    if (host) headers.Host = host;
    this.debug([`> ${spec.method} ${scrubUrl(url.href)}`, ...headerLines(headers)]);
    return {
      method: spec.method === "PUT" ? "PUT" : "GET",
      target: target.href,
      url: url.href,
      headers,
      ...(url.protocol === "https:" ? { tls: toRegistry ? this.tls : this.trust } : {}),
      ...(serverName ? { serverName } : {}),
      ...(host && url.protocol !== "https:" ? { keepHost: true } : {}),
      toRegistry,
      idleMs: this.timeoutMs,
    };
  }

  /**
   * Sends one request through redirects: `Authorization` and `-H` headers only to the registry's
   * host, an https -> http redirect refused, a stream body never sent twice.
   */
  private async sendFollowing(
    spec: RequestSpec,
    authorization: string | undefined,
    signal: AbortSignal,
    watch: IdleWatch,
  ): Promise<{ response: Response; url: URL }> {
    let url = this.url(spec.url);
    let method: Method = spec.method;
    let body = spec.body;
    for (let hop = 0; ; hop++) {
      const headers = this.headersFor(url, spec.headers, authorization, body !== undefined);
      const { target, init, host } = this.route(url);
      if (host) headers.Host = host;
      let sendBody: BodyInit | undefined;
      if (body instanceof ReadableStream) sendBody = watchStream(body, watch);
      else if (body !== undefined) sendBody = body as BodyInit;
      this.debug([`> ${method} ${scrubUrl(url.href)}`, ...headerLines(headers)]);
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
        `< ${response.status} ${response.statusText} ${scrubUrl(url.href)} (${Date.now() - started} ms)`,
        ...headerLines(response.headers),
      ]);
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || !location || method === "POST" || method === "PATCH") {
        return { response, url };
      }
      if (hop >= MAX_REDIRECTS) {
        throw new SkiffError("REGISTRY", `${this.registry} redirected more than ${MAX_REDIRECTS} times`);
      }
      await response.body?.cancel().catch(() => {});
      const next = new URL(location, url);
      if (url.protocol === "https:" && next.protocol !== "https:") {
        throw new SkiffError(
          "REGISTRY",
          `${this.registry} redirected ${scrubUrl(url.href)} to ${scrubUrl(next.href)}: refusing to leave HTTPS`,
        );
      }
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new SkiffError(
          "REGISTRY",
          `${this.registry} redirected to an unsupported URL ${scrubUrl(next.href)}`,
        );
      }
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method !== "HEAD")
      ) {
        if (method !== "GET" && method !== "HEAD") body = undefined;
        if (method !== "HEAD") method = "GET";
      } else if (body instanceof ReadableStream) {
        throw new SkiffError(
          "REGISTRY",
          `${this.registry} redirected an upload (${response.status}); skiff cannot send a stream twice`,
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
    let scopes = spec.scopes;
    let authRounds = 0;
    for (let attempt = 0; ; ) {
      const toRegistry = this.isRegistryHost(this.url(spec.url));
      const authorization = toRegistry ? await this.authorizer.header(scopes) : undefined;
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
        ({ response } = await (spec.body instanceof Blob ? sent : watch.around(sent)));
      } catch (error) {
        stop();
        if (spec.signal?.aborted) throw spec.signal.reason ?? error;
        const reason = controller.signal.aborted ? controller.signal.reason : undefined;
        // Our own idle timeout (the abort reason) is a network failure to retry, not a final error.
        if (error instanceof SkiffError && error !== reason) throw error;
        const cause = reason instanceof SkiffError ? reason : error;
        if (retry && attempt < MAX_RETRIES && isRetryableNetworkError(cause)) {
          const delay = retryDelay(attempt, undefined);
          this.debug([
            `* ${spec.method} ${scrubUrl(this.url(spec.url).href)} failed (${describe(cause)}); retry in ${delay} ms`,
          ]);
          await sleep(delay, spec.signal);
          attempt++;
          continue;
        }
        throw networkError(cause, this.registry, this.https);
      }
      if (response.status === 401 && toRegistry && spec.authenticate !== false) {
        const challenge = response.headers.get("www-authenticate");
        const next = authRounds < 2 ? this.authorizer.challenge(challenge, scopes, authorization) : undefined;
        if (next && replayable) {
          await response.body?.cancel().catch(() => {});
          stop();
          scopes = next;
          authRounds++;
          continue;
        }
        if (authorization?.startsWith("Bearer ")) {
          await response.body?.cancel().catch(() => {});
          stop();
          throw this.authorizer.refusedError(scopes, challenge);
        }
      }
      if (retry && attempt < MAX_RETRIES && isRetryableStatus(response.status)) {
        const retryAfter = response.headers.get("retry-after");
        const asked = parseRetryAfter(retryAfter);
        if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
          await response.body?.cancel().catch(() => {});
          stop();
          const delay = retryDelay(attempt, retryAfter);
          this.debug([
            `* ${response.status} for ${spec.method} ${scrubUrl(this.url(spec.url).href)}; retry in ${delay} ms`,
          ]);
          await sleep(delay, spec.signal);
          attempt++;
          continue;
        }
      }
      if (!response.body || spec.method === "HEAD") {
        stop();
        return response;
      }
      return rewrap(response, watchedBody(response.body.getReader(), watch, stop));
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
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(spec);
      if (response.status !== 200) return { response };
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      if (Number.isFinite(length) && length > limit) {
        await response.body?.cancel().catch(() => {});
        throw new SkiffError("TOO_LARGE", `${what} is ${length} bytes, over the ${limit}-byte limit`);
      }
      if (!response.body) return { response, bytes: new Uint8Array() };
      try {
        return { response, bytes: await readAll(response.body, limit, what) };
      } catch (error) {
        if (error instanceof SkiffError && error.code !== "NETWORK") throw error;
        if (attempt < MAX_RETRIES && isRetryableNetworkError(error)) {
          const delay = retryDelay(attempt, undefined);
          this.debug([`* reading ${what} failed (${describe(error)}); retry in ${delay} ms`]);
          await sleep(delay, spec.signal);
          continue;
        }
        throw networkError(error, this.registry, this.https);
      }
    }
  }

  /** The SkiffError for a failed response (its body read, capped, and scrubbed of secrets). */
  async fail(
    response: Response,
    context: Omit<ErrorContext, "registry" | "hadCredentials">,
  ): Promise<SkiffError> {
    let text = "";
    try {
      text = await readCapped(response, 64 * 1024);
    } catch {
      // The status says enough.
    }
    const error = registryError(
      response.status,
      response.statusText,
      this.scrub(text),
      { ...context, registry: this.registry, hadCredentials: this.authorizer.sendsCredentials() },
      response.headers.get("retry-after"),
    );
    return error;
  }

  /** GET /v2/: reachable and (with credentials) authorized. Returns the final status. */
  async ping(): Promise<number> {
    const response = await this.send({ method: "GET", url: "/v2/", scopes: [] });
    await response.body?.cancel().catch(() => {});
    return response.status;
  }

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
    const headers = { ...init.headers };
    const authorization = headers.Authorization;
    delete headers.Authorization;
    const response = await this.sendRaw(url, init.method, headers, init.body, authorization);
    return response;
  }

  /** A request outside the registry API (the token endpoint): redirects, retries, debug; no registry auth. */
  private async sendRaw(
    url: URL,
    method: "GET" | "POST",
    headers: Record<string, string>,
    body: string | undefined,
    authorization: string | undefined,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let current = url;
      let response: Response | undefined;
      try {
        for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
          const sendHeaders: Record<string, string> = {
            ...headers,
            "User-Agent": `skiff/${VERSION}`,
            "Accept-Encoding": "identity",
          };
          // The token endpoint gets the credentials; a redirect elsewhere does not.
          if (authorization && (hop === 0 || hostKey(current) === hostKey(url))) {
            sendHeaders.Authorization = authorization;
          }
          const { target, init, host } = this.route(current);
          if (host) sendHeaders.Host = host;
          this.debug([`> ${method} ${scrubUrl(current.href)}`, ...headerLines(sendHeaders)]);
          response = await fetch(target, {
            method,
            headers: sendHeaders,
            body,
            redirect: "manual",
            signal: AbortSignal.timeout(this.timeoutMs),
            ...init,
          } as RequestInit);
          this.debug([
            `< ${response.status} ${response.statusText} ${scrubUrl(current.href)}`,
            ...headerLines(response.headers),
          ]);
          const location = response.headers.get("location");
          if (!REDIRECTS.has(response.status) || !location) break;
          await response.body?.cancel().catch(() => {});
          const next = new URL(location, current);
          if (current.protocol === "https:" && next.protocol !== "https:") {
            throw new SkiffError(
              "REGISTRY",
              `the token endpoint of ${this.registry} redirected to plain HTTP: refused`,
            );
          }
          current = next;
        }
      } catch (error) {
        if (error instanceof SkiffError) throw error;
        if (attempt < MAX_RETRIES && isRetryableNetworkError(error)) {
          await sleep(retryDelay(attempt, undefined));
          continue;
        }
        throw networkError(error, `${this.registry} (token endpoint ${url.host})`, url.protocol === "https:");
      }
      if (response && attempt < MAX_RETRIES && isRetryableStatus(response.status)) {
        await response.body?.cancel().catch(() => {});
        await sleep(retryDelay(attempt, response.headers.get("retry-after")));
        continue;
      }
      return response!;
    }
  }
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ?? e?.message ?? String(error);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SkiffError("INVALID_INPUT", `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** A Response with the same status and headers and another body. */
function rewrap(response: Response, body: ReadableStream<Uint8Array>): Response {
  const out = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  return out;
}

/**
 * Notices silence: while something waits on the network (`around`), more than `timeoutMs` without
 * activity (`touch`) calls `onIdle`. Waiting on a slow consumer is not silence.
 */
class IdleWatch {
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
function watchedBody(
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
function watchStream(stream: ReadableStream<Uint8Array>, watch: IdleWatch): ReadableStream<Uint8Array> {
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

/** Reads at most `limit` bytes of a response body as text. */
export async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(Math.min(total, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
    if (offset >= bytes.byteLength) break;
  }
  return new TextDecoder().decode(bytes);
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
