/**
 * login and logout: check credentials against a registry, then store them in the docker config
 * (or its credential helper); remove them again.
 */
import type { RemoteSettings } from "../content/open.ts";
import {
  type Credential,
  defaultConfigPath,
  eraseCredential,
  type StoredIn,
  storeCredential,
} from "../content/registry/credentials.ts";
import { pingWithCredentials } from "../content/registry/index.ts";
import { asSkiffError, SkiffError } from "../errors.ts";

/** The config file login writes and logout edits: the first `--registry-config`, else the docker config. */
function configPathFor(settings: Pick<RemoteSettings, "registryConfigs">): string {
  return settings.registryConfigs?.[0] ?? defaultConfigPath();
}

/** Checks that `registry` looks like `host[:port]` (no scheme, no path). */
function checkRegistryHost(registry: string): string {
  const host = registry.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)(:\d{1,5})?$/.test(host)) {
    throw new SkiffError(
      "INVALID_REFERENCE",
      `"${registry}" is not a registry host`,
      "give the registry as HOST[:PORT], e.g. registry.example.com or localhost:5000",
    );
  }
  return host;
}

/**
 * The credential login stores: `--identity-token`, or a password without a username (ORAS treats
 * that as an identity token too), or a username and password.
 */
function loginCredential(settings: RemoteSettings): Credential {
  if (settings.identityToken) {
    const credential: Credential = { identityToken: settings.identityToken, source: "login" };
    if (settings.username) credential.username = settings.username;
    return credential;
  }
  if (settings.password !== undefined && settings.password !== "") {
    if (!settings.username) return { identityToken: settings.password, source: "login" };
    return { username: settings.username, password: settings.password, source: "login" };
  }
  throw new SkiffError(
    "USAGE",
    "login needs credentials",
    "pass -u USER with -p PASSWORD or --password-stdin, or --identity-token",
  );
}

/**
 * Logs in: the credentials in `settings` (username and password, or an identity token) are tried
 * with `GET /v2/`, and stored only when the registry accepts them.
 */
export async function login(registry: string, settings: RemoteSettings): Promise<StoredIn> {
  const host = checkRegistryHost(registry);
  const credential = loginCredential(settings);
  await pingWithCredentials(host, settings).catch((error: unknown) => {
    throw notValidated(error, host);
  });
  return storeCredential(configPathFor(settings), host, credential);
}

/**
 * ORAS's words before a check that could not be made (unreachable, TLS, no Basic credential):
 * `failed to validate the credentials for HOST:`. What the registry answered keeps its own
 * `Error response from registry:` first line, as in ORAS.
 */
function notValidated(error: unknown, host: string): unknown {
  const failure = asSkiffError(error);
  if (failure.isUsage || failure.message.includes("Error response from registry:")) return error;
  return new SkiffError(
    failure.code,
    `failed to validate the credentials for ${host}: ${failure.message}`,
    failure.hint,
    { cause: error },
  );
}

/** Logs out: removes the stored credentials of `registry`. False when there were none. */
export function logout(registry: string, settings: Pick<RemoteSettings, "registryConfigs">): boolean {
  const host = checkRegistryHost(registry);
  return eraseCredential(configPathFor(settings), host);
}
