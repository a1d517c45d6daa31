/**
 * The registry transport against scripted HTTP servers in this process: redirects, header
 * forwarding, auth flows, retries, timeouts, --resolve and resumed downloads. (The real registry is
 * exercised in tests/e2e/registry-*.test.ts.)
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { clientFor, RegistryClient } from "../../src/content/registry/client.ts";
import { isLocalhost, parseHeaderFlag, parseResolve } from "../../src/content/registry/hosts.ts";
import { RegistryRepository } from "../../src/content/registry/repository.ts";
import { readAll } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import { makeTlsFiles } from "../harness/certs.ts";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

interface Scripted {
  port: number;
  host: string;
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

const servers: Scripted[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<Scripted> {
  const seen: Scripted["seen"] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      handler(req, res, Buffer.concat(chunks));
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  const scripted: Scripted = {
    port,
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
  servers.push(scripted);
  return scripted;
}

function failure(promise: Promise<unknown>): Promise<SkiffError> {
  return promise.then(
    () => {
      throw new Error("expected a SkiffError");
    },
    (error) => {
      expect(error).toBeInstanceOf(SkiffError);
      return error as SkiffError;
    },
  );
}

const ok = (res: http.ServerResponse, body = "{}") => {
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
};

describe("flag parsing", () => {
  test("--resolve host:port:address[:port]", () => {
    expect(parseResolve("reg.example:443:10.0.0.5")).toEqual({
      host: "reg.example",
      port: 443,
      address: "10.0.0.5",
      addressPort: 443,
    });
    expect(parseResolve("reg.example:443:127.0.0.1:8443")).toEqual({
      host: "reg.example",
      port: 443,
      address: "127.0.0.1",
      addressPort: 8443,
    });
    expect(parseResolve("Reg.Example:5000:[::1]:6000")).toEqual({
      host: "reg.example",
      port: 5000,
      address: "[::1]",
      addressPort: 6000,
    });
    for (const bad of [
      "reg.example",
      "reg.example:443",
      "reg.example:x:1.2.3.4",
      "reg:99999:1.2.3.4",
      ":443:1.2.3.4",
    ]) {
      expect(() => parseResolve(bad)).toThrow("failed to parse resolve flag");
    }
  });

  test("-H 'Name: value': the value as given after the first colon, as ORAS keeps it", () => {
    expect(parseHeaderFlag("X-Trace: a: b")).toEqual(["X-Trace", " a: b"]);
    expect(parseHeaderFlag("Foo:bar")).toEqual(["Foo", "bar"]);
    expect(() => parseHeaderFlag("no colon")).toThrow("invalid header");
    expect(() => parseHeaderFlag("Bad Name: v")).toThrow("invalid header");
  });

  test("plain HTTP is automatic for localhost only", () => {
    expect(isLocalhost("localhost")).toBe(true);
    expect(isLocalhost("localhost:5000")).toBe(true);
    expect(isLocalhost("127.0.0.1:5000")).toBe(false);
    expect(isLocalhost("localhost.example:5000")).toBe(false);
    expect(new RegistryClient("localhost:5000", {}).baseUrl.href).toBe("http://localhost:5000/");
    expect(new RegistryClient("127.0.0.1:5000", {}).baseUrl.href).toBe("https://127.0.0.1:5000/");
    expect(new RegistryClient("127.0.0.1:5000", { plainHttp: true }).baseUrl.href).toBe(
      "http://127.0.0.1:5000/",
    );
    expect(new RegistryClient("docker.io", {}).baseUrl.host).toBe("registry-1.docker.io");
  });
});

describe("redirects", () => {
  test("Authorization and -H headers go to the registry, never to the host it redirects to", async () => {
    const other = await serve((_req, res) => ok(res, "blob"));
    const registry = await serve((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="r"' });
        res.end();
        return;
      }
      res.writeHead(307, { Location: `http://${other.host}/storage/blob?sig=abc` });
      res.end();
    });
    const client = new RegistryClient(registry.host, {
      plainHttp: true,
      username: "u",
      password: "pw",
      headers: ["X-Tenant: t1"],
    });
    const response = await client.send({ method: "GET", url: "/v2/a/blobs/sha256:x", scopes: [] });
    expect(await response.text()).toBe("blob");
    const toRegistry = registry.seen.at(-1)!;
    expect(toRegistry.headers.authorization).toStartWith("Basic ");
    expect(toRegistry.headers["x-tenant"]).toBe("t1");
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
    expect(other.seen[0]!.headers["x-tenant"]).toBeUndefined();
    expect(other.seen[0]!.url).toBe("/storage/blob?sig=abc");
  });

  test("a redirect from HTTPS to plain HTTP is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-tls-unit-"));
    dirs.push(dir);
    const files = makeTlsFiles(dir);
    const plain = await serve((_req, res) => ok(res));
    const secure = await serve(
      (_req, res) => {
        res.writeHead(302, { Location: `http://${plain.host}/x` });
        res.end();
      },
      { key: readFileSync(files.keyFile, "utf8"), cert: readFileSync(files.certFile, "utf8") },
    );
    const client = new RegistryClient(secure.host, { caFile: files.caFile });
    const error = await failure(client.send({ method: "GET", url: "/v2/a/blobs/sha256:x", scopes: [] }));
    expect(error.message).toContain("refusing to leave HTTPS");
    expect(plain.seen).toHaveLength(0);
    // Without the CA the certificate does not verify, with the --ca-file hint.
    const untrusted = new RegistryClient(secure.host, {});
    const tlsError = await failure(untrusted.send({ method: "GET", url: "/v2/", scopes: [] }));
    expect(tlsError.code).toBe("TLS");
    expect(tlsError.hint).toContain("--ca-file");
  });
});

describe("authentication", () => {
  test("bearer: token fetched with Basic credentials, cached per scope, covering smaller requests", async () => {
    let tokens = 0;
    const auth = await serve((req, res) => {
      tokens++;
      const url = new URL(req.url!, "http://x");
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from("me:pw").toString("base64")}`);
      ok(res, JSON.stringify({ token: `T-${url.searchParams.getAll("scope").join("+")}`, expires_in: 300 }));
    });
    const registry = await serve((req, res) => {
      const scope = req.method === "GET" ? "repository:a:pull" : "repository:a:pull,push";
      if (!req.headers.authorization?.startsWith("Bearer T-")) {
        res.writeHead(401, {
          "WWW-Authenticate": `Bearer realm="http://${auth.host}/token",service="svc",scope="${scope}"`,
        });
        res.end();
        return;
      }
      ok(res);
    });
    const client = new RegistryClient(registry.host, { plainHttp: true, username: "me", password: "pw" });
    const send = (method: "GET" | "PUT", scopes: string[]) =>
      client.send({ method, url: "/v2/a/manifests/x", scopes, body: method === "PUT" ? "{}" : undefined });
    expect((await send("GET", ["repository:a:pull"])).status).toBe(200);
    expect((await send("GET", ["repository:a:pull"])).status).toBe(200);
    expect(tokens).toBe(1);
    expect((await send("PUT", ["repository:a:pull,push"])).status).toBe(200);
    expect(tokens).toBe(2);
    // The push token covers pulls.
    expect((await send("GET", ["repository:a:pull"])).status).toBe(200);
    expect(tokens).toBe(2);
    expect(auth.seen[0]!.url).toBe("/token?service=svc&scope=repository%3Aa%3Apull");
  });

  test("identity tokens: OAuth2 refresh_token grant by POST", async () => {
    const auth = await serve((req, res, body) => {
      const form = new URLSearchParams(body.toString());
      expect(req.method).toBe("POST");
      expect(form.get("grant_type")).toBe("refresh_token");
      expect(form.get("refresh_token")).toBe("refresh-123");
      expect(form.get("service")).toBe("svc");
      expect(form.get("scope")).toBe("repository:a:pull");
      ok(res, JSON.stringify({ access_token: "AT" }));
    });
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== "Bearer AT") {
        res.writeHead(401, { "WWW-Authenticate": `Bearer realm="http://${auth.host}/t",service="svc"` });
        res.end();
        return;
      }
      ok(res);
    });
    const client = new RegistryClient(registry.host, { plainHttp: true, identityToken: "refresh-123" });
    expect(
      (await client.send({ method: "GET", url: "/v2/a/tags/list", scopes: ["repository:a:pull"] })).status,
    ).toBe(200);
    expect(auth.seen).toHaveLength(1);
  });

  test("a refused fresh token is final: a clear error, no endless loop", async () => {
    const auth = await serve((_req, res) => ok(res, JSON.stringify({ token: "weak" })));
    const registry = await serve((_req, res) => {
      res.writeHead(401, {
        "WWW-Authenticate": `Bearer realm="http://${auth.host}/t",service="svc",scope="repository:a:pull,push",error="insufficient_scope"`,
      });
      res.end();
    });
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const error = await failure(
      client.send({
        method: "PUT",
        url: "/v2/a/manifests/x",
        body: "{}",
        scopes: ["repository:a:pull,push"],
      }),
    );
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("anonymous access does not grant repository:a:pull,push");
    expect(error.hint).toContain(`skiff login ${registry.host}`);
    expect(registry.seen.length).toBeLessThanOrEqual(3);
  });

  test("--debug shows the flow without any secret", async () => {
    const registry = await serve((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="r"', "Set-Cookie": "sid=cookie-secret" });
        res.end();
        return;
      }
      ok(res);
    });
    const lines: string[] = [];
    const client = new RegistryClient(registry.host, {
      plainHttp: true,
      username: "me",
      password: "hunter2-pw",
      headers: ["X-Api-Key: key-secret-1"],
      debug: (line) => lines.push(line),
    });
    await client.send({ method: "GET", url: "/v2/", scopes: [] });
    const text = lines.join("\n");
    expect(text).toContain(`> Request #`);
    expect(text).toMatch(new RegExp(`> Request #\\d+: GET http://${registry.host}/v2/\n`));
    expect(text).toMatch(/< Response #\d+: 401 Unauthorized /);
    expect(text).toContain('"Authorization": "Basic *****"');
    for (const secret of [
      "hunter2-pw",
      Buffer.from("me:hunter2-pw").toString("base64"),
      "cookie-secret",
      "key-secret-1",
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("retries", () => {
  test("503 then 429 with Retry-After, then success: 3 attempts, the wait honored", async () => {
    let n = 0;
    const registry = await serve((_req, res) => {
      n++;
      if (n === 1) res.writeHead(503).end();
      else if (n === 2) res.writeHead(429, { "Retry-After": "1" }).end();
      else ok(res);
    });
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const started = Date.now();
    expect((await client.send({ method: "GET", url: "/v2/", scopes: [] })).status).toBe(200);
    expect(n).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 + 100);
  });

  test("gives up after 5 retries and returns the last answer", async () => {
    const registry = await serve((_req, res) => res.writeHead(500).end("down"));
    const client = new RegistryClient(registry.host, { plainHttp: true });
    // Short backoff steps: the six attempts are what is tested, not the waits between them.
    process.env.SKIFF_RETRY_BACKOFF_MS = "10";
    let response: Response;
    try {
      response = await client.send({ method: "GET", url: "/v2/a/tags/list", scopes: [] });
    } finally {
      delete process.env.SKIFF_RETRY_BACKOFF_MS;
    }
    expect(response.status).toBe(500);
    expect(registry.seen).toHaveLength(6);
    const error = await client.fail(response, { repository: "a", what: "tags" });
    expect(error.message).toBe(
      `${registry.host}/a answered 500 Internal Server Error for tags: Error response from registry: down`,
    );
  }, 20_000);

  test("a stream body is sent once: no retry", async () => {
    const registry = await serve((_req, res) => res.writeHead(503).end());
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(10));
        c.close();
      },
    });
    const response = await client.send({
      method: "PATCH",
      url: "/v2/a/blobs/uploads/x",
      body,
      scopes: [],
      headers: { "Content-Length": "10" },
    });
    expect(response.status).toBe(503);
    expect(registry.seen).toHaveLength(1);
  });

  test("a registry that stops answering times out (SKIFF_HTTP_TIMEOUT), then the retries give up", async () => {
    const registry = await serve(() => {
      // never answers
    });
    process.env.SKIFF_HTTP_TIMEOUT = "0.3";
    try {
      const client = new RegistryClient(registry.host, { plainHttp: true });
      const error = await failure(client.send({ method: "GET", url: "/v2/", scopes: [], retry: false }));
      expect(error.code).toBe("NETWORK");
      expect(error.message).toContain("sent nothing for 0.3 s");
    } finally {
      delete process.env.SKIFF_HTTP_TIMEOUT;
    }
  });
});

describe("--resolve", () => {
  test("connects to the address while the Host header keeps the registry name", async () => {
    const registry = await serve((_req, res) => ok(res));
    const client = clientFor("reg.test:5000", {
      plainHttp: true,
      resolve: [`reg.test:5000:127.0.0.1:${registry.port}`],
    });
    expect((await client.send({ method: "GET", url: "/v2/", scopes: [] })).status).toBe(200);
    expect(registry.seen[0]!.headers.host).toBe("reg.test:5000");
  });
});

describe("blob downloads", () => {
  const blob = new Uint8Array(256 * 1024).map((_, i) => (i * 7) % 251);
  const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
  const desc = { mediaType: "application/octet-stream", digest, size: blob.byteLength };

  test("a connection broken mid-body resumes with Range from the bytes already passed", async () => {
    let first = true;
    const registry = await serve((req, res) => {
      const range = /bytes=(\d+)-/.exec(req.headers.range ?? "");
      if (first) {
        first = false;
        res.writeHead(200, { "Content-Length": blob.byteLength });
        res.write(blob.subarray(0, 100_000));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      const start = Number(range?.[1] ?? 0);
      res.writeHead(206, {
        "Content-Length": blob.byteLength - start,
        "Content-Range": `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`,
      });
      res.end(blob.subarray(start));
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const bytes = await readAll(await repo.fetch(desc), blob.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(blob))).toBe(true);
    expect(registry.seen).toHaveLength(2);
    expect(Number(/bytes=(\d+)-/.exec(registry.seen[1]!.headers.range!)![1])).toBeGreaterThan(0);
  });

  test("a server without Range support restarts from scratch; the bytes passed are skipped", async () => {
    let first = true;
    const registry = await serve((_req, res) => {
      res.writeHead(200, { "Content-Length": blob.byteLength });
      if (first) {
        first = false;
        res.write(blob.subarray(0, 70_000));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      res.end(blob);
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const bytes = await readAll(await repo.fetch(desc), blob.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(blob))).toBe(true);
  });

  test("bytes that do not match the digest error the stream; a wrong Content-Length fails at once", async () => {
    const bad = new Uint8Array(blob);
    bad[1000] = (bad[1000] ?? 0) ^ 0xff;
    const registry = await serve((req, res) => {
      if (req.url!.includes("short")) {
        res.writeHead(200, { "Content-Length": 10 });
        res.end(bad.subarray(0, 10));
        return;
      }
      res.writeHead(200, { "Content-Length": bad.byteLength });
      res.end(bad);
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const error = await failure(repo.fetch(desc).then((s) => readAll(s, blob.byteLength)));
    expect(error.code).toBe("DIGEST_MISMATCH");
    const short = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "short");
    const sizeError = await failure(short.fetch(desc));
    expect(sizeError.code).toBe("SIZE_MISMATCH");
    expect(sizeError.message).toContain("announces 10 bytes");
  });
});

describe("manifests", () => {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: `sha256:${"4".repeat(64)}`, size: 2 },
    layers: [],
  });
  const digest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;

  test("a body whose mediaType contradicts Content-Type is refused", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, {
        "Content-Type": "application/vnd.oci.image.index.v1+json",
        "Docker-Content-Digest": digest,
      });
      res.end(manifest);
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const error = await failure(repo.resolve("v1"));
    expect(error.code).toBe("INVALID_MANIFEST");
    expect(error.message).toContain("served as");
  });

  test("bytes that do not hash to the digest asked for are refused", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" });
      res.end(manifest.replace("[]", "[ ]"));
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const error = await failure(
      repo.fetch({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: manifest.length }),
    );
    expect(error.code).toMatch(/DIGEST_MISMATCH|SIZE_MISMATCH/);
  });

  test("a Docker-Content-Digest that disagrees with the bytes is refused", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, {
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        "Docker-Content-Digest": `sha256:${"0".repeat(64)}`,
      });
      res.end(manifest);
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    const error = await failure(repo.resolve("v1"));
    expect(error.code).toBe("DIGEST_MISMATCH");
  });

  test("manifests over 4 MiB are refused before reading them", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, {
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        "Content-Length": 5 * 1024 * 1024,
      });
      res.end(Buffer.alloc(5 * 1024 * 1024, 32));
    });
    const repo = new RegistryRepository(new RegistryClient(registry.host, { plainHttp: true }), "a");
    expect((await failure(repo.getManifest("big"))).code).toBe("TOO_LARGE");
  });
});
