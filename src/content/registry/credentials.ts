/**
 * Docker-compatible credentials: `config.json` files (`auths` entries with base64 `auth`, or
 * `username`/`password`, or `identitytoken`), `credsStore` and `credHelpers` run as
 * `docker-credential-NAME get|store|erase`. Reading never fails silently: a broken file or helper
 * is an error that names it.
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import { errnoReason } from "../files/disk.ts";
import type { RemoteSettings } from "../open.ts";
import { scrubSecrets } from "./debug.ts";

/** Credentials for one registry. */
export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string;
  /** Where they came from, for messages (`--username`, `/home/me/.docker/config.json`, `docker-credential-pass`). */
  source: string;
}

/** True when the credential has something to send. */
export function hasSecret(credential: Credential | undefined): credential is Credential {
  return Boolean(credential && (credential.identityToken || credential.username || credential.password));
}

/** The docker config path: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
  return join(dir, "config.json");
}

/** The key docker uses for a registry host in `auths` and with helpers. */
export function credentialKey(registry: string): string {
  return registry === "docker.io" || registry === "registry-1.docker.io" || registry === "index.docker.io"
    ? "https://index.docker.io/v1/"
    : registry;
}

/** The host part of an `auths` key: `https://host:5000/v1/` -> `host:5000`. */
export function normalizeAuthKey(key: string): string {
  let host = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = host.indexOf("/");
  if (slash !== -1) host = host.slice(0, slash);
  return host.toLowerCase();
}

/** The parsed parts of a docker config skiff uses (the rest of the file is kept on write). */
interface DockerConfig {
  auths: Record<string, Record<string, unknown>>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** Reads a docker config; a missing file is an empty config, a broken one an error naming it. */
function readConfigFile(path: string): { raw: Record<string, unknown>; config: DockerConfig } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { raw: {}, config: { auths: {}, credHelpers: {} } };
    }
    throw new SkiffError(
      "CREDENTIALS",
      `failed to decode config file at ${path}: invalid config format: cannot read it: ${errnoReason(error)}`,
    );
  }
  return { raw: parseConfigRaw(text, path), config: parseConfig(text, path) };
}

function parseConfigRaw(text: string, path: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // ORAS's words first (scripts grep them), then what is wrong.
    throw new SkiffError(
      "CREDENTIALS",
      `failed to decode config file at ${path}: invalid config format: not valid JSON (${(error as Error).message})`,
      "fix or remove the file, then run `skiff login` again",
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SkiffError(
      "CREDENTIALS",
      `failed to decode config file at ${path}: invalid config format: the registry config must be a JSON object`,
      "fix or remove the file, then run `skiff login` again",
    );
  }
  return json as Record<string, unknown>;
}

/** Parses the text of a docker config (`path` names it in errors). */
export function parseConfig(text: string, path: string): DockerConfig {
  const raw = parseConfigRaw(text, path);
  const config: DockerConfig = { auths: {}, credHelpers: {} };
  if (raw.auths !== undefined) {
    if (typeof raw.auths !== "object" || raw.auths === null || Array.isArray(raw.auths)) {
      throw new SkiffError("CREDENTIALS", `"auths" in ${path} must be an object`);
    }
    for (const [key, value] of Object.entries(raw.auths as Record<string, unknown>)) {
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        config.auths[key] = value as Record<string, unknown>;
      }
    }
  }
  if (typeof raw.credsStore === "string" && raw.credsStore !== "") config.credsStore = raw.credsStore;
  if (typeof raw.credHelpers === "object" && raw.credHelpers !== null) {
    for (const [key, value] of Object.entries(raw.credHelpers as Record<string, unknown>)) {
      if (typeof value === "string" && value !== "") config.credHelpers[key] = value;
    }
  }
  return config;
}

/** The `auths` entry for `registry`: exact key first, then keys that normalize to the host. */
export function findAuthEntry(
  config: DockerConfig,
  registry: string,
): { key: string; entry: Record<string, unknown> } | undefined {
  const key = credentialKey(registry);
  if (config.auths[key]) return { key, entry: config.auths[key] };
  const host = normalizeAuthKey(key);
  for (const [candidate, entry] of Object.entries(config.auths)) {
    if (normalizeAuthKey(candidate) === host) return { key: candidate, entry };
  }
  return undefined;
}

/** Credentials stored in an `auths` entry (undefined when it holds none). */
export function decodeAuthEntry(
  entry: Record<string, unknown>,
  source: string,
  registry: string,
): Credential | undefined {
  const credential: Credential = { source };
  if (typeof entry.auth === "string" && entry.auth !== "") {
    let decoded: string;
    try {
      decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    } catch {
      decoded = "";
    }
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      throw new SkiffError(
        "CREDENTIALS",
        `failed to decode auth field: invalid config format: the "auth" value for ${registry} in ${source} is not base64 of USERNAME:PASSWORD`,
        `run \`skiff login ${registry}\` to store it again`,
      );
    }
    credential.username = decoded.slice(0, colon);
    credential.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === "string" && entry.username !== "") credential.username = entry.username;
    if (typeof entry.password === "string" && entry.password !== "") credential.password = entry.password;
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    credential.identityToken = entry.identitytoken;
  }
  return hasSecret(credential) ? credential : undefined;
}

/** The program that implements a docker credential helper. */
function helperProgram(name: string): string {
  return `docker-credential-${name}`;
}

function runHelper(name: string, action: "get" | "store" | "erase", input: string, secrets: string[]) {
  const program = helperProgram(name);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new SkiffError("CREDENTIALS", `invalid credential helper name "${name}"`);
  }
  const result = spawnSync(program, [action], { input, encoding: "utf8", timeout: 60_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new SkiffError(
        "CREDENTIALS",
        `credential helper ${program} not found in PATH`,
        `install ${program}, or remove "${name}" from credsStore/credHelpers in the registry config`,
      );
    }
    throw new SkiffError(
      "CREDENTIALS",
      `credential helper ${program} could not run: ${result.error.message}`,
      undefined,
      { cause: result.error },
    );
  }
  return {
    status: result.status ?? 1,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    explain: (): string =>
      scrubSecrets(
        `${result.stderr ?? ""} ${result.stdout ?? ""}`.replace(/\s+/g, " ").trim(),
        secrets,
      ).slice(0, 300),
  };
}

const NOT_FOUND_TEXT = /credentials not found|not found in native keychain|no credentials/i;

/** Asks `docker-credential-NAME get` for the registry's credentials; undefined when it has none. */
export function helperGet(name: string, registry: string): Credential | undefined {
  const server = credentialKey(registry);
  const result = runHelper(name, "get", server, []);
  const program = helperProgram(name);
  if (result.status !== 0) {
    if (NOT_FOUND_TEXT.test(result.stdout) || NOT_FOUND_TEXT.test(result.stderr)) return undefined;
    throw new SkiffError(
      "CREDENTIALS",
      `credential helper ${program} failed for ${registry} (exit ${result.status}): ${result.explain() || "no message"}`,
    );
  }
  let json: { Username?: unknown; Secret?: unknown };
  try {
    json = JSON.parse(result.stdout);
  } catch {
    throw new SkiffError("CREDENTIALS", `credential helper ${program} printed something that is not JSON`);
  }
  const username = typeof json.Username === "string" ? json.Username : "";
  const secret = typeof json.Secret === "string" ? json.Secret : "";
  if (secret === "") return undefined;
  // Docker's convention: the user name `<token>` marks an identity (refresh) token.
  if (username === "<token>") return { identityToken: secret, source: program };
  return { username, password: secret, source: program };
}

/** Stores credentials through `docker-credential-NAME store`. */
function helperStore(name: string, registry: string, credential: Credential): void {
  const secret = credential.identityToken ?? credential.password ?? "";
  const username = credential.identityToken ? "<token>" : (credential.username ?? "");
  const input = JSON.stringify({ ServerURL: credentialKey(registry), Username: username, Secret: secret });
  const result = runHelper(name, "store", input, [secret]);
  if (result.status !== 0) {
    throw new SkiffError(
      "CREDENTIALS",
      `credential helper ${helperProgram(name)} could not store the credentials for ${registry} (exit ${result.status}): ${result.explain() || "no message"}`,
    );
  }
}

/** Removes credentials through `docker-credential-NAME erase`; false when it had none. */
function helperErase(name: string, registry: string): boolean {
  const result = runHelper(name, "erase", credentialKey(registry), []);
  if (result.status !== 0) {
    if (NOT_FOUND_TEXT.test(result.stdout) || NOT_FOUND_TEXT.test(result.stderr)) return false;
    throw new SkiffError(
      "CREDENTIALS",
      `credential helper ${helperProgram(name)} could not erase the credentials for ${registry} (exit ${result.status}): ${result.explain() || "no message"}`,
    );
  }
  return true;
}

/** The helper a config names for `registry`: its `credHelpers` entry, else `credsStore`. */
export function helperFor(config: DockerConfig, registry: string): string | undefined {
  const key = credentialKey(registry);
  const host = normalizeAuthKey(key);
  for (const [candidate, name] of Object.entries(config.credHelpers)) {
    if (candidate === key || normalizeAuthKey(candidate) === host) return name;
  }
  return config.credsStore;
}

/**
 * Credentials for `registry` from config files, in order (the first with credentials wins).
 * In each file: its helper for the host (`credHelpers`, else `credsStore`), then `auths`.
 */
export function credentialsFromConfigs(paths: readonly string[], registry: string): Credential | undefined {
  for (const path of paths) {
    const { config } = readConfigFile(path);
    const helper = helperFor(config, registry);
    if (helper) {
      const found = helperGet(helper, registry);
      if (found) return found;
    }
    const entry = findAuthEntry(config, registry);
    if (entry) {
      const found = decodeAuthEntry(entry.entry, path, registry);
      if (found) return found;
    }
  }
  return undefined;
}

/** Writes JSON to `path` atomically (temporary file in the same directory, then rename), mode 0600. */
function writeConfigAtomically(path: string, raw: Record<string, unknown>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${randomBytes(6).toString("hex")}.config.json.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(raw, null, "\t")}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw new SkiffError("IO", `cannot write the registry config ${path}: ${(error as Error).message}`);
  }
  closeSync(fd);
  try {
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new SkiffError("IO", `cannot write the registry config ${path}: ${(error as Error).message}`);
  }
}

/** Where `login` stored the credentials. */
export type StoredIn = { kind: "file"; path: string } | { kind: "helper"; program: string };

/**
 * Stores credentials for `registry` in the config at `path`: through its helper when it names one
 * (`credHelpers` for the host, else `credsStore`), else in `auths` (base64 `auth`, or
 * `identitytoken`).
 */
export function storeCredential(path: string, registry: string, credential: Credential): StoredIn {
  const { raw, config } = readConfigFile(path);
  const helper = helperFor(config, registry);
  if (helper) {
    helperStore(helper, registry, credential);
    return { kind: "helper", program: helperProgram(helper) };
  }
  const auths = (typeof raw.auths === "object" && raw.auths !== null ? raw.auths : {}) as Record<
    string,
    unknown
  >;
  const existing = findAuthEntry(config, registry);
  if (existing && existing.key !== credentialKey(registry)) delete auths[existing.key];
  const entry: Record<string, string> = {};
  if (credential.identityToken) {
    entry.identitytoken = credential.identityToken;
    if (credential.username) entry.auth = Buffer.from(`${credential.username}:`).toString("base64");
  } else {
    entry.auth = Buffer.from(`${credential.username ?? ""}:${credential.password ?? ""}`).toString("base64");
  }
  auths[credentialKey(registry)] = entry;
  raw.auths = auths;
  writeConfigAtomically(path, raw);
  return { kind: "file", path };
}

/**
 * Removes the credentials for `registry` from the config at `path` and from its helper. Returns
 * false when there were none to remove.
 */
export function eraseCredential(path: string, registry: string): boolean {
  const { raw, config } = readConfigFile(path);
  let removed = false;
  const helper = helperFor(config, registry);
  if (helper) removed = helperErase(helper, registry);
  const auths = raw.auths as Record<string, unknown> | undefined;
  if (auths && typeof auths === "object") {
    const host = normalizeAuthKey(credentialKey(registry));
    const keys = Object.keys(auths).filter(
      (key) => key === credentialKey(registry) || normalizeAuthKey(key) === host,
    );
    if (keys.length > 0) {
      for (const key of keys) delete auths[key];
      writeConfigAtomically(path, raw);
      removed = true;
    }
  }
  return removed;
}

/**
 * The credential the remote flags give (`--identity-token`; `--password` alone is an identity
 * token, as in ORAS; `--username` with `--password`), else the one the registry configs hold.
 */
export function credentialFor(settings: RemoteSettings, registry: string): Credential | undefined {
  const s = settings;
  if (s.identityToken) return { identityToken: s.identityToken, source: "--identity-token" };
  if (s.password !== undefined && s.username === undefined) {
    return { identityToken: s.password, source: "--password" };
  }
  if (s.username !== undefined) {
    if (s.password === undefined) {
      throw new SkiffError("USAGE", "--username needs a password: pass -p/--password or --password-stdin");
    }
    return { username: s.username, password: s.password, source: "--username/--password" };
  }
  const paths = s.registryConfigs && s.registryConfigs.length > 0 ? s.registryConfigs : [defaultConfigPath()];
  return credentialsFromConfigs(paths, registry);
}
