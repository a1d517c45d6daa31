/**
 * The registry store: a repository on an OCI distribution registry as a Target (repository.ts),
 * over `fetch()`. Beside it: client (the one request path: headers, authorization, idle watch),
 * routes (`--resolve`, TLS), redirects, retry, auth and challenge (tokens), credentials (docker
 * config and helpers), upload, download (whole or ranged, resuming), referrers (API and tag
 * fallback), pagination, served (what response headers say), manifest-cache, errors, debug.
 */
import { SkiffError } from "../../errors.ts";
import type { RegistryReference } from "../../oci/reference.ts";
import type { RemoteSettings } from "../open.ts";
import { CATALOG_SCOPE } from "./challenge.ts";
import { clientFor, type RegistryClient } from "./client.ts";
import { jsonPages } from "./pagination.ts";
import type { ReferrersMode } from "./referrers.ts";
import { RegistryRepository } from "./repository.ts";

/** How a repository is opened. */
interface OpenRegistryOptions {
  /** The command will write: tokens are asked with pull and push from the start. */
  forWriting?: boolean;
  /** `--distribution-spec`: only the referrers API, or only the tag schema (default: probe). */
  referrers?: ReferrersMode;
}

const pinged = new WeakMap<RegistryClient, Promise<void>>();

/**
 * Makes sure the registry answers `GET /v2/` (once per registry and settings): reachable, speaking
 * the distribution API, and, when it challenges, telling how to authenticate.
 */
function ensurePinged(client: RegistryClient): Promise<void> {
  let promise = pinged.get(client);
  if (!promise) {
    promise = ping(client, false);
    pinged.set(client, promise);
    promise.catch(() => pinged.delete(client));
  }
  return promise;
}

async function ping(client: RegistryClient, authenticate: boolean): Promise<void> {
  const response = await client.send({ method: "GET", url: "/v2/", scopes: [], authenticate });
  if (response.status === 200) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  if (response.status === 401 && !authenticate) {
    // Learn the scheme now; each request authenticates for its own scope.
    client.authorizer.challenge(response.headers.get("www-authenticate"), [], undefined);
    await response.body?.cancel().catch(() => {});
    return;
  }
  if (response.status === 401 || response.status === 403) {
    throw await client.fail(response, {});
  }
  const error = await client.fail(response, { what: "GET /v2/" });
  throw new SkiffError(
    error.code,
    `${client.registry} does not answer like an OCI registry: ${error.message}`,
    error.hint ?? "check the host and port",
  );
}

/**
 * Opens a repository on a registry. The registry is pinged (`GET /v2/`) on first use, so an
 * unreachable host or a TLS problem is reported before any work starts.
 */
export async function openRegistry(
  ref: RegistryReference,
  settings: RemoteSettings,
  options: OpenRegistryOptions = {},
): Promise<RegistryRepository> {
  const client = clientFor(ref.registry, settings);
  await ensurePinged(client);
  return new RegistryRepository(client, ref.repository, options);
}

/**
 * Checks that `registry` accepts the credentials in `settings` (`GET /v2/` with them: Basic, or a
 * bearer token without scope, as `docker login` does). Throws a clear error when it does not.
 */
export async function pingWithCredentials(registry: string, settings: RemoteSettings): Promise<void> {
  const client = clientFor(registry, settings);
  if (!client.authorizer.credential()) {
    throw new SkiffError("USAGE", `no credentials for ${registry}`, "pass -u/--username and -p/--password");
  }
  await ping(client, true);
}

/** Repository names in the registry's catalog, after `last` (`GET /v2/_catalog`, paginated). */
export async function* listRepositories(
  registry: string,
  settings: RemoteSettings,
  last?: string,
): AsyncIterable<string> {
  const client = clientFor(registry, settings);
  await ensurePinged(client);
  const pages = jsonPages(client, "/v2/_catalog", last, {
    scopes: [CATALOG_SCOPE],
    what: `the catalog of ${registry}`,
    context: { what: "the catalog" },
    notJson: `${registry} sent a catalog that is not JSON`,
  });
  for await (const page of pages) {
    const { repositories } = page as { repositories?: unknown };
    if (Array.isArray(repositories)) {
      for (const name of repositories) if (typeof name === "string") yield name;
    }
  }
}
