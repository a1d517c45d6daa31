/**
 * The only module that may touch Bun- or Deno-specific APIs. Everything else in skiff uses web
 * streams, fetch, crypto and node: built-ins, so it runs unchanged on both runtimes.
 */
import process from "node:process";
import type { Platform } from "../oci/platform.ts";

declare const Bun: { version: string } | undefined;
declare const Deno:
  | {
      version: { deno: string };
      createHttpClient(options: Record<string, unknown>): unknown;
    }
  | undefined;

export type RuntimeName = "bun" | "deno" | "node";

export function runtimeName(): RuntimeName {
  if (typeof Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return "node";
}

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

const denyClients = new Map<string, unknown>();

/** Extra `fetch` init fields that apply TLS settings on the current runtime. */
export function tlsFetchInit(tls: TlsSettings): Record<string, unknown> {
  if (!tls.ca && !tls.cert && !tls.insecure) return {};
  if (typeof Deno !== "undefined") {
    const key = JSON.stringify(tls);
    let client = denyClients.get(key);
    if (!client) {
      // Deno has no per-request "insecure" switch; --unsafely-ignore-certificate-errors is global.
      client = Deno.createHttpClient({
        caCerts: tls.ca ? [tls.ca] : undefined,
        cert: tls.cert,
        key: tls.key,
        http2: false,
      });
      denyClients.set(key, client);
    }
    return { client };
  }
  const options: Record<string, unknown> = {};
  if (tls.ca) options.ca = tls.ca;
  if (tls.cert) options.cert = tls.cert;
  if (tls.key) options.key = tls.key;
  if (tls.insecure) options.rejectUnauthorized = false;
  return { tls: options };
}

/** True when the stream is an interactive terminal. */
export function isTerminal(stream: "stdout" | "stderr" | "stdin"): boolean {
  return Boolean((process[stream] as { isTTY?: boolean }).isTTY);
}
