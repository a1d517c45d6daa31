/**
 * How a request reaches its host: the address after `--resolve` (the URL keeps the name, for the
 * `Host` header and the certificate), and the TLS settings: the client certificate goes to the
 * registry only, other hosts (token servers, object storage) get the trust settings alone.
 */
import { readFileSync } from "node:fs";
import { SkiffError } from "../../errors.ts";
import { hostHeaderFetchInit, type TlsSettings, tlsFetchInit } from "../../runtime/index.ts";
import { errnoReason } from "../files/disk.ts";
import type { RemoteSettings } from "../open.ts";
import { defaultPort, hostKey, parseResolve, type ResolveEntry } from "./hosts.ts";

/** Where to connect for a URL: the address, the `Host` to send, the TLS server name. */
interface Address {
  target: URL;
  host?: string;
  serverName?: string;
}

export class Routes {
  private readonly tls: TlsSettings;
  private readonly trust: TlsSettings;
  private readonly tlsInits = new Map<string, Record<string, unknown>>();
  private readonly resolves: ResolveEntry[];

  /** Reads the TLS files and parses `--resolve` now, so a bad flag fails before any request. */
  constructor(
    settings: RemoteSettings,
    private readonly registryUrl: URL,
  ) {
    const tls: TlsSettings = {};
    if (Boolean(settings.certFile) !== Boolean(settings.keyFile)) {
      const [given, missing] = settings.certFile
        ? ["--cert-file", "--key-file"]
        : ["--key-file", "--cert-file"];
      throw new SkiffError("USAGE", `${given} must be used in conjunction with ${missing}`);
    }
    if (settings.caFile) tls.ca = readCaFile(settings.caFile);
    if (settings.certFile) tls.cert = readPem(settings.certFile, "certificate");
    if (settings.keyFile) tls.key = readPem(settings.keyFile, "key");

    if (settings.insecure) tls.insecure = true;
    this.tls = tls;
    const { cert: _cert, key: _key, ...trust } = tls;
    this.trust = trust;
    this.resolves = (settings.resolve ?? []).map(parseResolve);
  }

  /** True when `url` is on the registry's host and port. */
  isRegistryHost(url: URL): boolean {
    return hostKey(url) === hostKey(this.registryUrl);
  }

  /** The TLS settings for a request to `url`. */
  tlsFor(url: URL): TlsSettings {
    return this.isRegistryHost(url) ? this.tls : this.trust;
  }

  /** Where to connect for `url` after `--resolve`. */
  address(url: URL): Address {
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

  /** The fetch URL and extra init for `url` after `--resolve` and the TLS settings. */
  route(url: URL): { target: URL; init: Record<string, unknown>; host?: string } {
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
}

/**
 * The CA file's text; one without a PEM certificate fails here, in ORAS's words, instead of every
 * connection failing with the runtime's own obscure error.
 */
function readCaFile(path: string): string {
  const text = readText(path, "CA file");
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new SkiffError(
      "INVALID_INPUT",
      `Failed to load certificate in file: ${path}: it holds no PEM certificate`,
      "give --ca-file the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)",
    );
  }
  return text;
}

/** A client certificate or key file's text; one without PEM data fails here, in Go's words (ORAS). */
function readPem(path: string, what: "certificate" | "key"): string {
  const text = readText(path, `${what} file`);
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    throw new SkiffError(
      "INVALID_INPUT",
      `tls: failed to find any PEM data in ${what} input: ${path}`,
      `give --${what === "key" ? "key" : "cert"}-file the ${what} in PEM form (-----BEGIN ...-----)`,
    );
  }
  return text;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SkiffError("INVALID_INPUT", `cannot read ${what} ${path}: ${errnoReason(error)}`);
  }
}
