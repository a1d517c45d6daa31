/**
 * A fault-injecting HTTP/1.1 proxy for tests. It listens on 127.0.0.1 and forwards every request to
 * the real registry (plain or TLS upstream), one request per connection (`Connection: close` both
 * ways, so each fault hits exactly one request). Rules pick requests by method and path regex and
 * inject one fault into the next `times` matching requests. Every request is recorded.
 *
 * Faults work on the raw sockets (node:net / node:tls), so a reset is a real reset, a truncated body
 * really announces more bytes than it sends, and a stall really sends nothing.
 */
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";

/** What to do to a matching request. */
export type Fault =
  /** Forward the request, send the response head and `afterBytes` of its body, then reset the connection. */
  | { kind: "reset"; afterBytes: number }
  /** Forward the head and `afterBytes` of the *request* body upstream, then reset both connections. */
  | { kind: "reset-request"; afterBytes: number }
  /** Answer with this status without asking the registry (500, 502, 503, 429...); JSON unless `headers` say. */
  | { kind: "status"; status: number; retryAfter?: string; body?: string; headers?: Record<string, string> }
  /** Send nothing for `ms` (the client should time out), then close the connection without an answer. */
  | { kind: "stall"; ms: number }
  /** Send the head and `afterBytes` of the body, then stall for `ms` and close. */
  | { kind: "stall-body"; afterBytes: number; ms: number }
  /** Send the head with the full Content-Length, then only `afterBytes` of the body and close cleanly (FIN). */
  | { kind: "truncate"; afterBytes: number }
  /** Flip (xor 0xff) the body byte at `at` (default: the middle); Content-Length stays right. */
  | { kind: "flip"; at?: number }
  /** Announce Content-Length = real length + `delta`, send the real body, close. */
  | { kind: "wrong-length"; delta: number }
  /** Answer `status` (default 307) with `Location: <to><path and query>` without asking the registry. */
  | { kind: "redirect"; to: string; status?: number }
  /** Wait `ms` before forwarding (widens windows for crash tests). */
  | { kind: "delay"; ms: number }
  /** Forward normally, but send the response body `chunk` bytes at a time with `ms` between chunks. */
  | { kind: "throttle"; chunk: number; ms: number }
  /** Replace the response body (and its Content-Length) with these bytes; status and headers kept. */
  | { kind: "replace-body"; body: Uint8Array; contentType?: string }
  /** Forward the request without its `Range` header (a server that ignores Range: 200, everything). */
  | { kind: "drop-range" };

export interface FaultRule {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matched against the request target (path and query). */
  path: RegExp;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  /** Let this many matching requests through untouched first (default 0). */
  skip?: number;
  /** Match only requests carrying this header (name in any case) with a value matching `value`. */
  header?: { name: string; value: RegExp };
  fault: Fault;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as the client sent them. */
  target: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The status the client saw (undefined when the connection was reset or stalled first). */
  status?: number;
  /** The fault injected, if any. */
  fault?: Fault["kind"];
  /** Milliseconds since the proxy started. */
  at: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` (or https when started with `tls`). */
  readonly url: string;
  /** `127.0.0.1:PORT`, for references. */
  readonly host: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Adds a rule; returns a function that reports how many times it fired. */
  addRule(rule: FaultRule): () => number;
  clearRules(): void;
  /** Requests whose method and target match. */
  matching(method: string | undefined, path: RegExp): RecordedRequest[];
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The real registry: `http://127.0.0.1:5000` or `https://...` (certificate not verified). */
  upstream: string;
  /** Serve TLS to the client with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

interface Head {
  /** `GET /v2/ HTTP/1.1` or `HTTP/1.1 200 OK`. */
  start: string;
  headers: [string, string][];
}

const CRLF2 = Buffer.from("\r\n\r\n");

function parseHead(raw: Buffer): Head {
  const lines = raw.toString("latin1").split("\r\n");
  const start = lines.shift() ?? "";
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { start, headers };
}

function header(head: Head, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

function setHeader(head: Head, name: string, value: string | undefined): void {
  const lower = name.toLowerCase();
  head.headers = head.headers.filter(([n]) => n.toLowerCase() !== lower);
  if (value !== undefined) head.headers.push([name, value]);
}

function serialize(head: Head): Buffer {
  return Buffer.from(
    `${head.start}\r\n${head.headers.map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n`,
    "latin1",
  );
}

/** Reads from a socket until the end of an HTTP head; returns the head and any bytes after it. */
function readHead(socket: net.Socket): Promise<{ head: Head; rest: Buffer } | null> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf(CRLF2);
      if (end === -1) {
        if (buffer.length > 1024 * 1024) finish(null);
        return;
      }
      finish({ head: parseHead(buffer.subarray(0, end)), rest: buffer.subarray(end + 4) });
    };
    const onEnd = () => finish(null);
    const finish = (value: { head: Head; rest: Buffer } | null) => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.off("close", onEnd);
      socket.pause();
      resolve(value);
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onEnd);
    socket.on("close", onEnd);
    socket.resume();
  });
}

/**
 * Tracks where an HTTP/1.1 body ends (Content-Length or chunked), counting payload bytes, and
 * de-chunks when asked. Feed it raw bytes; `done` turns true at the end of the body.
 */
class BodyFramer {
  done = false;
  payload = 0;
  readonly #chunked: boolean;
  #remaining: number;
  #state: "size" | "data" | "data-crlf" | "trailer" = "size";
  #line = "";
  readonly #keep: Buffer[] = [];
  readonly #untilClose: boolean;

  constructor(head: Head, isResponse: boolean, noBody: boolean) {
    this.#chunked = /chunked/i.test(header(head, "transfer-encoding") ?? "");
    const length = header(head, "content-length");
    this.#remaining = length === undefined ? 0 : Number(length);
    this.#untilClose = isResponse && !this.#chunked && length === undefined && !noBody;
    if (noBody || (!this.#chunked && this.#remaining === 0 && !this.#untilClose)) this.done = true;
  }

  /** Consumes raw bytes; returns how many of them belong to this body. */
  feed(raw: Buffer): number {
    if (this.done) return 0;
    if (this.#untilClose) {
      this.payload += raw.length;
      this.#keep.push(raw);
      return raw.length;
    }
    if (!this.#chunked) {
      const take = Math.min(raw.length, this.#remaining);
      this.#keep.push(raw.subarray(0, take));
      this.#remaining -= take;
      this.payload += take;
      if (this.#remaining === 0) this.done = true;
      return take;
    }
    let i = 0;
    while (i < raw.length && !this.done) {
      if (this.#state === "size" || this.#state === "trailer") {
        const byte = raw[i++]!;
        if (byte !== 0x0a) {
          this.#line += String.fromCharCode(byte);
          continue;
        }
        const line = this.#line.replace(/\r$/, "");
        this.#line = "";
        if (this.#state === "trailer") {
          if (line === "") this.done = true;
          continue;
        }
        const size = Number.parseInt(line.split(";")[0]!, 16);
        if (size === 0) this.#state = "trailer";
        else {
          this.#remaining = size;
          this.#state = "data";
        }
      } else if (this.#state === "data") {
        const take = Math.min(raw.length - i, this.#remaining);
        this.#keep.push(raw.subarray(i, i + take));
        this.payload += take;
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#state = "data-crlf";
      } else {
        const byte = raw[i++]!;
        if (byte === 0x0a) this.#state = "size";
      }
    }
    return i;
  }

  /** The body's payload so far (de-chunked). */
  get bytes(): Buffer {
    return Buffer.concat(this.#keep);
  }

  /** Called when the stream ends: a close-delimited body is complete then. */
  end(): void {
    if (this.#untilClose) this.done = true;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function reset(socket: net.Socket | undefined): void {
  if (!socket || socket.destroyed) return;
  const withReset = socket as net.Socket & { resetAndDestroy?: () => void };
  try {
    if (typeof withReset.resetAndDestroy === "function") withReset.resetAndDestroy();
    else socket.destroy();
  } catch {
    socket.destroy();
  }
}

/** Writes and waits for the socket to drain; a socket that breaks meanwhile just ends the wait. */
async function writeAll(socket: net.Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return;
  try {
    if (!socket.write(data)) {
      await Promise.race([once(socket, "drain"), once(socket, "close")]);
    }
  } catch {
    // `once` rejects on an 'error' event: the peer reset the connection, which faults do on purpose.
  }
}

function endSocket(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.end(() => resolve());
    setTimeout(resolve, 2000);
  });
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  307: "Temporary Redirect",
  302: "Found",
  301: "Moved Permanently",
  408: "Request Timeout",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const ERROR_CODE: Record<number, string> = {
  429: "TOOMANYREQUESTS",
  500: "UNKNOWN",
  502: "UNKNOWN",
  503: "UNAVAILABLE",
};

/** Starts the proxy in front of `options.upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const upstreamTls = upstream.protocol === "https:";
  const upstreamPort = Number(upstream.port || (upstreamTls ? 443 : 80));
  const rules: { rule: FaultRule; seen: number; fired: number }[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const began = Date.now();

  const pick = (method: string, target: string, head: Head): Fault | undefined => {
    for (const entry of rules) {
      const { rule } = entry;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!rule.path.test(target)) continue;
      if (rule.header && !rule.header.value.test(header(head, rule.header.name) ?? "")) continue;
      entry.seen++;
      if (entry.seen <= (rule.skip ?? 0)) continue;
      if (entry.fired >= (rule.times ?? 1)) continue;
      entry.fired++;
      return rule.fault;
    }
    return undefined;
  };

  const connectUpstream = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const socket = upstreamTls
        ? tls.connect({ host: upstream.hostname, port: upstreamPort, rejectUnauthorized: false })
        : net.connect({ host: upstream.hostname, port: upstreamPort });
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.once(upstreamTls ? "secureConnect" : "connect", () => resolve(socket));
      socket.once("error", reject);
      // Resets are what this proxy is for: later socket errors must never reach the test process.
      socket.on("error", () => {});
    });

  /** Reads the rest of the client's request body (so a synthetic answer is not met with EPIPE). */
  const drainRequest = async (client: net.Socket, head: Head, rest: Buffer, method: string) => {
    const framer = new BodyFramer(head, false, false);
    framer.feed(rest);
    if (framer.done || method === "GET" || method === "HEAD") return;
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        framer.feed(chunk);
        if (framer.done) finish();
      };
      const finish = () => {
        client.off("data", onData);
        client.off("end", finish);
        client.off("close", finish);
        client.pause();
        resolve();
      };
      client.on("data", onData);
      client.on("end", finish);
      client.on("close", finish);
      client.resume();
      setTimeout(finish, 5000);
    });
  };

  const answer = async (client: net.Socket, status: number, headers: [string, string][], body: Buffer) => {
    const head: Head = {
      start: `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}`,
      headers: [...headers, ["Content-Length", String(body.length)], ["Connection", "close"]],
    };
    await writeAll(client, Buffer.concat([serialize(head), body]));
    await endSocket(client);
  };

  const handle = async (client: net.Socket) => {
    const read = await readHead(client);
    if (!read) {
      client.destroy();
      return;
    }
    const { head, rest } = read;
    const [method = "", target = "/"] = head.start.split(" ");
    const record: RecordedRequest = {
      method,
      target,
      headers: Object.fromEntries(head.headers.map(([n, v]) => [n.toLowerCase(), v])),
      at: Date.now() - began,
    };
    requests.push(record);
    const fault = pick(method, target, head);
    if (fault) record.fault = fault.kind;

    if (fault?.kind === "status") {
      await drainRequest(client, head, rest, method);
      const own = Object.entries(fault.headers ?? {});
      // JSON unless the rule names its own Content-Type (one header, not two).
      const headers: [string, string][] = own.some(([n]) => n.toLowerCase() === "content-type")
        ? []
        : [["Content-Type", "application/json"]];
      if (fault.retryAfter !== undefined) headers.push(["Retry-After", fault.retryAfter]);
      for (const [n, v] of own) headers.push([n, v]);
      const code = ERROR_CODE[fault.status] ?? "UNKNOWN";
      const body =
        fault.body ??
        JSON.stringify({
          errors: [{ code, message: `injected ${fault.status} by the fault proxy`, detail: null }],
        });
      record.status = fault.status;
      await answer(client, fault.status, headers, Buffer.from(method === "HEAD" ? "" : body));
      return;
    }
    if (fault?.kind === "redirect") {
      await drainRequest(client, head, rest, method);
      const status = fault.status ?? 307;
      record.status = status;
      await answer(
        client,
        status,
        [["Location", `${fault.to.replace(/\/$/, "")}${target}`]],
        Buffer.alloc(0),
      );
      return;
    }
    if (fault?.kind === "stall") {
      await sleep(fault.ms);
      client.destroy();
      return;
    }
    if (fault?.kind === "delay") await sleep(fault.ms);

    let server: net.Socket;
    try {
      server = await connectUpstream();
    } catch {
      record.status = 502;
      await answer(client, 502, [], Buffer.from("upstream unreachable"));
      return;
    }
    // Request: same head with Connection: close, then the body bytes as they come.
    if (fault?.kind === "drop-range") setHeader(head, "Range", undefined);
    setHeader(head, "Connection", "close");
    setHeader(head, "Keep-Alive", undefined);
    // Host stays the client's view (the proxy): the registry builds upload Location URLs from it.
    await writeAll(server, serialize(head));
    const requestFramer = new BodyFramer(head, false, false);
    let requestSent = 0;
    const forwardRequest = async (chunk: Buffer) => {
      requestFramer.feed(chunk);
      const part = chunk;
      if (fault?.kind === "reset-request" && requestSent + part.length > fault.afterBytes) {
        await writeAll(server, part.subarray(0, Math.max(0, fault.afterBytes - requestSent)));
        reset(server);
        reset(client);
        return false;
      }
      requestSent += part.length;
      await writeAll(server, part);
      return true;
    };
    if (rest.length > 0 && !(await forwardRequest(rest))) return;
    if (!requestFramer.done) {
      client.on("data", (chunk: Buffer) => {
        client.pause();
        forwardRequest(chunk).then(
          (go) => {
            if (go) client.resume();
          },
          () => reset(server),
        );
      });
      client.resume();
    }
    client.on("error", () => reset(server));
    client.on("close", () => {
      if (!server.destroyed && !record.status) server.destroy();
    });

    const response = await readHead(server);
    if (!response) {
      reset(client);
      return;
    }
    const responseHead = response.head;
    record.status = Number(responseHead.start.split(" ")[1]);
    setHeader(responseHead, "Connection", "close");
    setHeader(responseHead, "Keep-Alive", undefined);
    const noBody = method === "HEAD" || record.status === 204 || record.status === 304;

    const bodyFault =
      fault &&
      ["reset", "stall-body", "truncate", "flip", "wrong-length", "throttle", "replace-body"].includes(
        fault.kind,
      );
    if (!bodyFault || noBody) {
      // Pass-through: raw bytes, whatever the framing.
      await writeAll(client, serialize(responseHead));
      if (response.rest.length > 0) await writeAll(client, response.rest);
      server.on("data", (chunk: Buffer) => {
        if (!client.write(chunk)) {
          server.pause();
          client.once("drain", () => server.resume());
        }
      });
      server.on("end", () => client.end());
      server.on("error", () => reset(client));
      server.resume();
      return;
    }

    // Body faults: collect the whole (de-chunked) body first; test content is small.
    const framer = new BodyFramer(responseHead, true, false);
    framer.feed(response.rest);
    if (!framer.done) {
      await new Promise<void>((resolve) => {
        server.on("data", (chunk: Buffer) => {
          framer.feed(chunk);
          if (framer.done) resolve();
        });
        server.on("end", () => {
          framer.end();
          resolve();
        });
        server.on("close", () => resolve());
        server.on("error", () => resolve());
        server.resume();
      });
    }
    server.destroy();
    let body = framer.bytes;
    setHeader(responseHead, "Transfer-Encoding", undefined);
    setHeader(responseHead, "Content-Length", String(body.length));

    switch (fault!.kind) {
      case "reset": {
        await writeAll(client, Buffer.concat([serialize(responseHead), body.subarray(0, fault.afterBytes)]));
        await sleep(20);
        reset(client);
        return;
      }
      case "stall-body": {
        await writeAll(client, Buffer.concat([serialize(responseHead), body.subarray(0, fault.afterBytes)]));
        await sleep(fault.ms);
        client.destroy();
        return;
      }
      case "truncate": {
        await writeAll(client, Buffer.concat([serialize(responseHead), body.subarray(0, fault.afterBytes)]));
        await endSocket(client);
        return;
      }
      case "flip": {
        if (body.length > 0) {
          body = Buffer.from(body);
          const at = Math.min(fault.at ?? Math.floor(body.length / 2), body.length - 1);
          body[at] = body[at]! ^ 0xff;
        }
        break;
      }
      case "wrong-length": {
        setHeader(responseHead, "Content-Length", String(Math.max(0, body.length + fault.delta)));
        break;
      }
      case "replace-body": {
        body = Buffer.from(fault.body);
        setHeader(responseHead, "Content-Length", String(body.length));
        if (fault.contentType) setHeader(responseHead, "Content-Type", fault.contentType);
        break;
      }
      case "throttle": {
        await writeAll(client, serialize(responseHead));
        for (let at = 0; at < body.length && !client.destroyed; at += fault.chunk) {
          await writeAll(client, body.subarray(at, at + fault.chunk));
          await sleep(fault.ms);
        }
        await endSocket(client);
        return;
      }
    }
    await writeAll(client, Buffer.concat([serialize(responseHead), body]));
    await endSocket(client);
  };

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    handle(socket).catch(() => reset(socket));
  };
  const listener = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onConnection)
    : net.createServer(onConnection);
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const port = (listener.address() as net.AddressInfo).port;

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    addRule(rule) {
      const entry = { rule, seen: 0, fired: 0 };
      rules.push(entry);
      return () => entry.fired;
    },
    clearRules() {
      rules.length = 0;
    },
    matching(method, path) {
      return requests.filter((r) => (!method || r.method === method) && path.test(r.target));
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

export interface OtherHostRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
}

export interface OtherHost {
  readonly url: string;
  readonly requests: OtherHostRequest[];
  stop(): Promise<void>;
}

/**
 * A second small server on 127.0.0.1 for redirect tests: records each request's headers (so a
 * test can assert that no Authorization header arrived), and serves the same path from the real
 * registry, authenticating there itself with `upstreamAuthorization` (e.g. `Basic ...`).
 */
export async function startOtherHost(options: {
  upstream: string;
  upstreamAuthorization?: string;
  /** Fetches `target` (path and query) from the registry instead (e.g. a harness fetch that mints tokens). */
  fetchUpstream?: (target: string, init: RequestInit) => Promise<Response>;
  tls?: { key: string; cert: string };
}): Promise<OtherHost> {
  const requests: OtherHostRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(options.tls ? { tls: options.tls } : {}),
    async fetch(request) {
      const url = new URL(request.url);
      const target = url.pathname + url.search;
      requests.push({
        method: request.method,
        target,
        headers: Object.fromEntries([...request.headers.entries()].map(([n, v]) => [n.toLowerCase(), v])),
      });
      const headers: Record<string, string> = {};
      if (options.upstreamAuthorization) headers.Authorization = options.upstreamAuthorization;
      const range = request.headers.get("range");
      if (range) headers.Range = range;
      const answer = options.fetchUpstream
        ? await options.fetchUpstream(target, { method: request.method, headers })
        : await fetch(options.upstream.replace(/\/$/, "") + target, {
            method: request.method,
            headers,
            tls: { rejectUnauthorized: false },
          } as RequestInit);
      const out = new Headers();
      for (const name of [
        "content-type",
        "content-length",
        "docker-content-digest",
        "content-range",
        "etag",
      ]) {
        const value = answer.headers.get(name);
        if (value !== null) out.set(name, value);
      }
      return new Response(request.method === "HEAD" ? null : answer.body, {
        status: answer.status,
        headers: out,
      });
    },
  });
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${server.port}`,
    requests,
    async stop() {
      server.stop(true);
    },
  };
}
