/**
 * The only module that may touch Bun- or Deno-specific APIs. Everything else in skiff uses web
 * streams, fetch, crypto and node: built-ins, so it runs unchanged on both runtimes.
 */
import process from "node:process";
import { SkiffError } from "../errors.ts";
import type { Platform } from "../oci/platform.ts";

interface DenoWriter {
  write(bytes: Uint8Array): Promise<number>;
}
declare const Bun:
  | {
      version: string;
      stdout: unknown;
      stderr: unknown;
      write(destination: unknown, text: string): Promise<number>;
    }
  | undefined;
declare const Deno:
  | {
      version: { deno: string };
      createHttpClient(options: Record<string, unknown>): unknown;
      stdout: DenoWriter;
      stderr: DenoWriter;
    }
  | undefined;

/** `bun 1.4.5`, `deno 2.9.6` or `node v20...`. */
export function runtimeVersion(): string {
  if (typeof Bun !== "undefined") return `bun ${Bun.version}`;
  if (typeof Deno !== "undefined") return `deno ${Deno.version.deno}`;
  return `node ${process.version}`;
}

const GOOS: Record<string, string> = {
  win32: "windows",
  darwin: "darwin",
  linux: "linux",
  freebsd: "freebsd",
};
const GOARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
};

/** The machine's platform in OCI terms (`linux/amd64`). */
export function hostPlatform(): Platform {
  const platform: Platform = {
    os: GOOS[process.platform] ?? process.platform,
    architecture: GOARCH[process.arch] ?? process.arch,
  };
  if (platform.architecture === "arm64") platform.variant = "v8";
  return platform;
}

/** TLS settings for one registry, turned into runtime-specific `fetch` options by {@link tlsFetchInit}. */
export interface TlsSettings {
  /** PEM text of extra CA certificates to trust. */
  ca?: string;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
  /** Skip certificate verification (`--insecure`). */
  insecure?: boolean;
}

const denoClients = new Map<string, unknown>();

/** One Deno HTTP client per set of options (each holds its own connection pool). */
function denoClient(options: Record<string, unknown>): unknown {
  const key = JSON.stringify(options);
  let client = denoClients.get(key);
  if (!client && typeof Deno !== "undefined") {
    client = Deno.createHttpClient(options);
    denoClients.set(key, client);
  }
  return client;
}

/**
 * Extra `fetch` init fields that apply TLS settings on the current runtime. `serverName` is the
 * name the certificate must carry when the URL holds an address instead (`--resolve`).
 */
export function tlsFetchInit(tls: TlsSettings, serverName?: string): Record<string, unknown> {
  if (typeof Deno !== "undefined") {
    // Deno's HTTP client can neither skip verification (only the whole process can, with
    // --unsafely-ignore-certificate-errors) nor connect to one address with another name's TLS.
    if (tls.insecure) {
      throw new SkiffError(
        "UNSUPPORTED",
        "--insecure is not available when skiff runs under Deno",
        "pass --ca-file FILE with the registry's CA, or drop --insecure and start deno with --unsafely-ignore-certificate-errors=HOST",
      );
    }
    if (serverName) {
      throw new SkiffError(
        "UNSUPPORTED",
        `--resolve for ${serverName} over HTTPS is not available when skiff runs under Deno (it cannot set the TLS server name)`,
        "map the name to the address in /etc/hosts instead, or use the skiff binary",
      );
    }
    if (!tls.ca && !tls.cert) return {};
    return {
      client: denoClient({
        caCerts: tls.ca ? [tls.ca] : undefined,
        cert: tls.cert,
        key: tls.key,
        http2: false,
      }),
    };
  }
  if (!tls.ca && !tls.cert && !tls.insecure && !serverName) return {};
  const options: Record<string, unknown> = {};
  if (tls.ca) options.ca = tls.ca;
  if (tls.cert) options.cert = tls.cert;
  if (tls.key) options.key = tls.key;
  if (tls.insecure) options.rejectUnauthorized = false;
  if (serverName) options.serverName = serverName;
  return { tls: options };
}

/**
 * Extra `fetch` init fields that let a `Host` header through (plain HTTP with `--resolve`):
 * Deno drops it unless the client allows it; Bun sends it as given.
 */
export function hostHeaderFetchInit(): Record<string, unknown> {
  return typeof Deno !== "undefined" ? { client: denoClient({ allowHost: true, http2: false }) } : {};
}

/**
 * Writes `text` to stdout or stderr without loading node:fs (it costs start-up time): Bun.write
 * on Bun, Deno's stdio streams on Deno. For one answer printed before exiting (`skiff version`).
 */
export async function writeStdio(stream: "stdout" | "stderr", text: string): Promise<void> {
  if (typeof Bun !== "undefined") {
    await Bun.write(Bun[stream], text);
    return;
  }
  const bytes = new TextEncoder().encode(text);
  if (typeof Deno !== "undefined") {
    const target = Deno[stream];
    for (let offset = 0; offset < bytes.byteLength; ) offset += await target.write(bytes.subarray(offset));
    return;
  }
  const { writeSync } = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  for (let offset = 0; offset < bytes.byteLength; )
    offset += writeSync(stream === "stdout" ? 1 : 2, bytes, offset);
}

/** True when the stream is an interactive terminal. */
export function isTerminal(stream: "stdout" | "stderr" | "stdin"): boolean {
  return Boolean((process[stream] as { isTTY?: boolean }).isTTY);
}
