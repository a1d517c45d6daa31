/**
 * Starts Debian's `docker-registry` (the CNCF distribution registry, 2.8.x, without the referrers
 * API) on a free 127.0.0.1 port with its own temporary storage, in one of four modes:
 *
 *   plain  HTTP, no auth
 *   basic  HTTP, htpasswd (bcrypt) basic auth
 *   tls    HTTPS with a CA and server certificate made by the harness, no auth
 *   token  HTTP, bearer tokens from a token endpoint in the test process (see token-server.ts)
 *
 * `options.tls` adds HTTPS to basic and token mode too. Every registry is stopped by PID in `stop()`,
 * and any that is still running is killed when the test process exits (also after a failure).
 *
 * In a test file, `useRegistries(["plain", "token"])` starts one registry per mode once for the file
 * and stops them after it.
 */

import { afterAll, beforeAll } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeSigningKey, makeTlsFiles } from "./certs.ts";
import { removeTmpDir, tmpDir, trackChild } from "./cleanup.ts";
import {
  type AccessEntry,
  startTokenAuthority,
  type TokenAuthority,
  type TokenAuthorityOptions,
} from "./token-server.ts";

export type RegistryMode = "plain" | "basic" | "tls" | "token";

/**
 * A distribution registry with the OCI referrers API (oras-project/distribution, the one ORAS's CI
 * uses), for tests of referrers behaviour; `SKIFF_REFERRERS_REGISTRY` overrides the path. Tests that
 * need it skip, saying why, when it is absent (see {@link referrersRegistryMissing}).
 */
export const REFERRERS_REGISTRY =
  process.env.SKIFF_REFERRERS_REGISTRY ?? "/work/shared/oras-e2e/bin/oras-distribution";

/** Why a registry with the referrers API cannot be started here, or undefined when it can. */
export function referrersRegistryMissing(): string | undefined {
  return existsSync(REFERRERS_REGISTRY)
    ? undefined
    : `no registry with the referrers API at ${REFERRERS_REGISTRY} (set SKIFF_REFERRERS_REGISTRY)`;
}
export const REGISTRY_MODES: readonly RegistryMode[] = ["plain", "basic", "tls", "token"];

export interface RegistryOptions {
  /** User for basic and token modes (default `skiff`). */
  username?: string;
  /** Password for basic and token modes (default: random). */
  password?: string;
  /** Serve HTTPS with a harness-made CA in any mode (always on in `tls` mode). */
  tls?: boolean;
  /** Token mode: lifetime, anonymous access and grant policy of the token endpoint. */
  token?: TokenAuthorityOptions;
  /** How long to wait for `GET /v2/` to answer (default 15 s). */
  startTimeoutMs?: number;
  /** The registry program (default `docker-registry`), e.g. {@link REFERRERS_REGISTRY}. */
  server?: string;
}

export interface RegistryFetchInit extends RequestInit {
  /** Send the harness's credentials (Basic header, or a token granting everything). Default true. */
  auth?: boolean;
}

/** The name some tests use for {@link RegistryHandle}. */
export type RunningRegistry = RegistryHandle;

export interface RegistryHandle {
  mode: RegistryMode;
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  tls: boolean;
  /** Credentials in basic and token modes. */
  username?: string;
  password?: string;
  /** With TLS: the CA certificate (file and PEM text) that verifies the server certificate. */
  caFile?: string;
  caPem?: string;
  /** With TLS: a directory holding only `ca.crt` (for `skopeo --dest-cert-dir`). */
  certDir?: string;
  /** Token mode: the token endpoint, its recorded requests and issued tokens. */
  token?: TokenAuthority;
  /** `localhost:PORT`: the same registry under the name ORAS-style clients reach over plain HTTP. */
  localhost: string;
  /** The registry's temp dir (config, storage, certs); removed by `stop()`. */
  dir: string;
  /** The filesystem driver's root directory (`docker/registry/v2/...` lives under it). */
  storage: string;
  configFile: string;
  pid: number;
  /** `host/repository[:tag|@digest]`; `tagOrDigest` starting with `sha256:` (or any `alg:`) gives `@`. */
  ref(repository: string, tagOrDigest?: string): string;
  /**
   * `fetch` against this registry: `path` is `/v2/...`; the CA is trusted and, unless `auth: false`,
   * the request carries the right credentials (token mode: a token for everything the path needs).
   */
  fetch(path: string, init?: RegistryFetchInit): Promise<Response>;
  /** skopeo flags for this registry as source (`src`) or destination (`dest`). */
  skopeoFlags(side: "src" | "dest"): string[];
  /**
   * Copies `source` (any skopeo transport, e.g. `oci:/path/layout:tag`) to `repository:tag` here.
   * Asynchronous, so the in-process token server can answer skopeo meanwhile.
   */
  seed(source: string, reference: string): Promise<void>;
  /** What the registry printed (warnings and errors only). */
  logs(): string;
  stop(): Promise<void>;
}

/** Minimal YAML writer for the registry config: nested maps, lists, strings, numbers and booleans. */
function toYaml(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    return value.map((item) => `\n${indent}- ${toYaml(item, `${indent}  `).trimStart()}`).join("");
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => {
        const nested = item !== null && typeof item === "object";
        return `\n${indent}${key}:${nested ? toYaml(item, `${indent}  `) : ` ${toYaml(item)}`}`;
      })
      .join("");
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The scope a registry path needs, for minting a harness token in {@link RegistryHandle.fetch}. */
function accessFor(path: string): AccessEntry[] {
  const pathname = path.split("?")[0] ?? path;
  if (pathname.startsWith("/v2/_catalog")) return [{ type: "registry", name: "catalog", actions: ["*"] }];
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\//.exec(pathname);
  return match ? [{ type: "repository", name: match[1]!, actions: ["pull", "push", "delete"] }] : [];
}

function registryEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // REGISTRY_* variables override the config file; never let the caller's environment in.
    if (value !== undefined && !name.startsWith("REGISTRY_")) env[name] = value;
  }
  return env;
}

const OUTPUT_LIMIT = 64 * 1024;

/** Starts one registry; see the module comment for the modes. */
export async function startRegistry(
  mode: RegistryMode,
  options: RegistryOptions = {},
): Promise<RegistryHandle> {
  const dir = tmpDir(`skiff-registry-${mode}-`);
  try {
    return await startIn(dir, mode, options);
  } catch (error) {
    removeTmpDir(dir);
    throw error;
  }
}

async function startIn(dir: string, mode: RegistryMode, options: RegistryOptions): Promise<RegistryHandle> {
  const storage = join(dir, "storage");
  mkdirSync(storage);
  const useTls = mode === "tls" || options.tls === true;
  const withCredentials = mode === "basic" || mode === "token";
  const username = withCredentials ? (options.username ?? "skiff") : undefined;
  const password = withCredentials ? (options.password ?? `pw-${randomBytes(6).toString("hex")}`) : undefined;
  const tlsFiles = useTls ? makeTlsFiles(join(dir, "tls")) : undefined;

  let auth: Record<string, unknown> | undefined;
  let token: TokenAuthority | undefined;
  if (mode === "basic") {
    const htpasswdFile = join(dir, "htpasswd");
    const result = spawnSync("htpasswd", ["-B", "-b", "-c", htpasswdFile, username!, password!], {
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`htpasswd failed: ${result.error?.message ?? result.stderr}`);
    auth = { htpasswd: { realm: "skiff-test", path: htpasswdFile } };
  } else if (mode === "token") {
    const key = makeSigningKey(join(dir, "token"));
    token = await startTokenAuthority({
      key,
      service: "skiff-test-registry",
      issuer: "skiff-test-issuer",
      username: username!,
      password: password!,
      options: options.token,
    });
    auth = {
      token: {
        realm: token.realm,
        service: token.service,
        issuer: token.issuer,
        rootcertbundle: key.certFile,
      },
    };
  }

  const configFile = join(dir, "config.yml");
  const caFetch: BunFetchRequestInit = tlsFiles ? { tls: { ca: tlsFiles.caPem } } : {};
  let child: ChildProcess | undefined;
  let output = "";
  let port = 0;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  // A port found free can be taken before the registry binds it; then try another one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const config = {
      version: 0.1,
      log: { level: "error", formatter: "text", accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: storage },
        delete: { enabled: true },
        cache: { blobdescriptor: "inmemory" },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `127.0.0.1:${port}`,
        secret: randomBytes(16).toString("hex"),
        tls: tlsFiles ? { certificate: tlsFiles.certFile, key: tlsFiles.keyFile } : undefined,
        headers: { "X-Content-Type-Options": ["nosniff"] },
      },
      auth,
    };
    writeFileSync(configFile, `${toYaml(config).trimStart()}\n`);
    output = "";
    const started = spawn(options.server ?? "docker-registry", ["serve", configFile], {
      cwd: dir,
      env: registryEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    trackChild(started);
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    };
    started.stdout?.on("data", collect);
    started.stderr?.on("data", collect);
    const spawnError = new Promise<Error>((resolve) => started.once("error", resolve));

    const up = await waitUntilAnswering(`${useTls ? "https" : "http"}://127.0.0.1:${port}/v2/`, caFetch, {
      child: started,
      spawnError,
      deadline,
    });
    if (up === true) break;
    started.kill("SIGKILL");
    const portTaken = /address already in use/i.test(output);
    if (up instanceof Error || !portTaken || attempt >= 5 || Date.now() > deadline) {
      await token?.stop();
      throw up instanceof Error ? up : new Error(`docker-registry (${mode}) did not start: ${up}\n${output}`);
    }
  }

  const host = `127.0.0.1:${port}`;
  const url = `${useTls ? "https" : "http"}://${host}`;
  const running = child;
  let stopped = false;

  const handle: RegistryHandle = {
    mode,
    host,
    port,
    url,
    tls: useTls,
    username,
    password,
    caFile: tlsFiles?.caFile,
    caPem: tlsFiles?.caPem,
    certDir: tlsFiles?.certDir,
    token,
    localhost: `localhost:${port}`,
    dir,
    storage,
    configFile,
    pid: running.pid!,
    ref(repository, tagOrDigest) {
      if (tagOrDigest === undefined) return `${host}/${repository}`;
      return `${host}/${repository}${/^[a-z0-9+._-]+:/.test(tagOrDigest) ? "@" : ":"}${tagOrDigest}`;
    },
    fetch(path, init = {}) {
      const { auth: withAuth = true, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (withAuth && !headers.has("authorization")) {
        if (mode === "basic") {
          headers.set("authorization", `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`);
        } else if (token) {
          headers.set("authorization", `Bearer ${token.issue(accessFor(path), { subject: username })}`);
        }
      }
      return fetch(`${url}${path}`, { ...rest, headers, ...caFetch });
    },
    skopeoFlags(side) {
      const flags = tlsFiles ? [`--${side}-cert-dir=${tlsFiles.certDir}`] : [`--${side}-tls-verify=false`];
      if (username !== undefined) flags.push(`--${side}-creds=${username}:${password}`);
      return flags;
    },
    async seed(source, reference) {
      const skopeo = spawn(
        "skopeo",
        [
          "--insecure-policy",
          "copy",
          "--all",
          "--preserve-digests",
          "--quiet",
          ...handle.skopeoFlags("dest"),
          source,
          `docker://${host}/${reference}`,
        ],
        { env: { ...registryEnv(), HOME: dir }, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      skopeo.stderr!.on("data", (chunk) => {
        stderr += chunk;
      });
      const status = await new Promise<number | string>((resolve) => {
        skopeo.once("error", (error) => resolve(error.message));
        skopeo.once("close", (code, signal) => resolve(code ?? String(signal)));
      });
      if (status !== 0)
        throw new Error(`skopeo copy ${source} -> ${reference} failed (${status}): ${stderr}`);
    },
    logs: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (running.exitCode === null && running.signalCode === null) {
        const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
        process.kill(running.pid!, "SIGTERM");
        const timer = setTimeout(() => running.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      await token?.stop();
      removeTmpDir(dir);
    },
  };
  return handle;
}

async function waitUntilAnswering(
  url: string,
  init: BunFetchRequestInit,
  watch: { child: ChildProcess; spawnError: Promise<Error>; deadline: number },
): Promise<true | string | Error> {
  const exited = new Promise<string>((resolve) =>
    watch.child.once("exit", (code, signal) => resolve(`exited with ${signal ?? code}`)),
  );
  while (Date.now() < watch.deadline) {
    const attempt = fetch(url, { ...init, signal: AbortSignal.timeout(1000) }).then(
      async (response) => {
        await response.body?.cancel();
        return true as const;
      },
      () => false as const,
    );
    const outcome = await Promise.race([attempt, exited, watch.spawnError]);
    if (outcome === true || typeof outcome === "string" || outcome instanceof Error) {
      if (outcome instanceof Error) return new Error(`cannot run docker-registry: ${outcome.message}`);
      return outcome;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return "timed out waiting for GET /v2/";
}

/** Starts one registry per mode, all at once. */
export async function startRegistries<const M extends RegistryMode>(
  modes: readonly M[],
  options: RegistryOptions = {},
): Promise<Record<M, RegistryHandle>> {
  const handles = await Promise.allSettled(modes.map((mode) => startRegistry(mode, options)));
  const failed = handles.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.all(
      handles.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)),
    );
    throw (failed as PromiseRejectedResult).reason;
  }
  return Object.fromEntries(
    modes.map((mode, index) => [mode, (handles[index] as PromiseFulfilledResult<RegistryHandle>).value]),
  ) as Record<M, RegistryHandle>;
}

/**
 * For a test file: starts one registry per mode in `beforeAll` and stops them in `afterAll`. The
 * returned object's properties are usable inside tests and hooks (reading one earlier throws).
 */
export function useRegistries<const M extends RegistryMode>(
  modes: readonly M[],
  options: RegistryOptions = {},
): Record<M, RegistryHandle> {
  let started: Record<M, RegistryHandle> | undefined;
  beforeAll(async () => {
    started = await startRegistries(modes, options);
  }, 60_000);
  afterAll(async () => {
    if (started) await Promise.all(Object.values<RegistryHandle>(started).map((handle) => handle.stop()));
  }, 30_000);
  const view = {} as Record<M, RegistryHandle>;
  for (const mode of modes) {
    Object.defineProperty(view, mode, {
      enumerable: true,
      get: () => {
        if (!started) throw new Error(`registry "${mode}" is not started yet (use it inside a test or hook)`);
        return started[mode];
      },
    });
  }
  return view;
}
