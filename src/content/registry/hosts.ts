/**
 * Which host a registry request goes to: plain HTTP for `localhost` (like ORAS), Docker Hub's API
 * host, `--resolve` address overrides and `-H` headers as the remote flags give them.
 */
import { SkiffError } from "../../errors.ts";

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
      `failed to parse resolve flag "${text}": expected host:port:address[:port]`,
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
    throw new SkiffError("USAGE", `invalid header: "${text}": expected 'Name: value'`);
  }
  // The value as given, spaces included, as ORAS keeps it (the receiving side drops them).
  return [name, text.slice(colon + 1)];
}

/** True when skiff talks plain HTTP to `registry` by itself: `localhost` and `localhost:PORT` (like ORAS). */
export function isLocalhost(registry: string): boolean {
  return registry === "localhost" || /^localhost:\d+$/.test(registry);
}

/** The host skiff connects to for a registry name (Docker Hub's API lives on registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

export function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

/** `host:port` of a URL with the default port spelled out, for same-host checks. */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || defaultPort(url.protocol)}`;
}
