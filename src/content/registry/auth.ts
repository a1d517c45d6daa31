/**
 * Authorization for one registry: Basic, and bearer tokens from the `WWW-Authenticate: Bearer
 * realm,service,scope` flow (Docker's token spec) - anonymous, with a username and password, or
 * with an identity (OAuth2 refresh) token. Tokens are cached per set of scopes until they expire;
 * a token covering more access serves requests needing less.
 */
import { Buffer } from "node:buffer";
import { SkiffError } from "../../errors.ts";
import { type Challenge, mergeScopes, parseChallenges, scopesCover } from "./challenge.ts";
import { type Credential, hasSecret } from "./credentials.ts";
import { loginHint, registryError } from "./errors.ts";

/** Sends a request to the token endpoint (no registry authorization added). */
type TokenRequest = (
  url: URL,
  init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string },
) => Promise<Response>;

interface AuthorizerOptions {
  /** The registry host as the user wrote it, for messages. */
  registry: string;
  /** Credentials for this registry, looked up the first time they are needed (may run a helper). */
  credential: () => Credential | undefined;
  tokenRequest: TokenRequest;
  /** The client id sent with OAuth2 requests. */
  clientId?: string;
}

interface CachedToken {
  header: string;
  scopes: string[];
  /** Epoch milliseconds after which the token is not used. */
  expires: number;
}

/** A token endpoint's answer: `token` or `access_token`, with optional `expires_in` seconds. */
export function parseTokenResponse(text: string): {
  token: string;
  expiresIn?: number;
  refreshToken?: string;
} {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error("the token endpoint did not answer JSON");
  }
  const token =
    typeof json.token === "string" && json.token !== ""
      ? json.token
      : typeof json.access_token === "string"
        ? json.access_token
        : "";
  if (token === "") throw new Error("the token endpoint answered without a token");
  const out: { token: string; expiresIn?: number; refreshToken?: string } = { token };
  if (typeof json.expires_in === "number" && json.expires_in > 0) out.expiresIn = json.expires_in;
  if (typeof json.refresh_token === "string" && json.refresh_token !== "")
    out.refreshToken = json.refresh_token;
  return out;
}

/** The URL of a token request: the realm plus `service` and one `scope` parameter per scope. */
export function tokenUrl(realm: string, service: string | undefined, scopes: readonly string[]): URL {
  const url = new URL(realm);
  if (service) url.searchParams.set("service", service);
  for (const scope of scopes) url.searchParams.append("scope", scope);
  return url;
}

/** Tokens are refreshed this long before they expire. */
const EXPIRY_MARGIN_MS = 10_000;
/** Docker's token spec: a token without `expires_in` lives 60 seconds. */
const DEFAULT_TOKEN_LIFE_S = 60;

export class Authorizer {
  private scheme: "basic" | "bearer" | undefined;
  private realm: string | undefined;
  private service: string | undefined;
  private readonly tokens: CachedToken[] = [];
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private credentialLoaded = false;
  private cachedCredential: Credential | undefined;

  constructor(private readonly options: AuthorizerOptions) {}

  /** The credentials (looked up once). */
  credential(): Credential | undefined {
    if (!this.credentialLoaded) {
      this.cachedCredential = this.options.credential();
      this.credentialLoaded = true;
    }
    return this.cachedCredential;
  }

  /** True once a challenge said how to authenticate. */
  get knowsScheme(): boolean {
    return this.scheme !== undefined;
  }

  /** True when a request for `scopes` would carry credentials or a token obtained with them. */
  sendsCredentials(): boolean {
    return this.scheme !== undefined && hasSecret(this.credential());
  }

  /**
   * The `Authorization` value for a request needing `scopes`, when the flow is known (a bearer
   * token is fetched now if none cached covers them); undefined before any challenge.
   */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    if (this.scheme === "basic") return this.basicHeader();
    if (this.scheme !== "bearer") return undefined;
    const need = mergeScopes(scopes);
    const now = Date.now();
    const cached = this.tokens.find((t) => t.expires > now && scopesCover(t.scopes, need));
    if (cached) return cached.header;
    return (await this.fetchToken(need)).header;
  }

  /**
   * Learns from a 401 answer. Returns the scopes to ask for when the request should be sent again
   * with a new `header()` (the request's own merged with what the challenge named), or undefined
   * when nothing would change (Basic without credentials, or Basic credentials just refused).
   * `sent` is the Authorization value the refused request carried; a refused token is forgotten.
   * The caller sends a request at most twice more, so a fresh token refused again is final.
   */
  challenge(
    header: string | null,
    scopes: readonly string[],
    sent: string | undefined,
  ): string[] | undefined {
    const challenges = header ? parseChallenges(header) : [];
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
    if (bearer) return this.bearerChallenge(bearer, scopes, sent);
    if (challenges.some((c) => c.scheme === "basic")) {
      this.scheme = "basic";
      if (sent?.startsWith("Basic ")) return undefined;
      return this.basicHeader() === undefined ? undefined : [...scopes];
    }
    return undefined;
  }

  private bearerChallenge(
    challenge: Challenge,
    scopes: readonly string[],
    sent: string | undefined,
  ): string[] {
    const realm = challenge.params.realm!;
    try {
      const url = new URL(realm);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)");
    } catch {
      throw new SkiffError("REGISTRY", `${this.options.registry} sent an invalid token realm "${realm}"`);
    }
    if (this.realm !== realm || this.service !== challenge.params.service) this.tokens.length = 0;
    this.scheme = "bearer";
    this.realm = realm;
    this.service = challenge.params.service;
    if (sent?.startsWith("Bearer ")) {
      const index = this.tokens.findIndex((t) => t.header === sent);
      if (index !== -1) this.tokens.splice(index, 1);
    }
    return mergeScopes([...scopes, ...(challenge.params.scope ? [challenge.params.scope] : [])]);
  }

  /**
   * What a refusal of a fresh token means, as an error; `answer` is the registry's own message
   * (see registryAnswer).
   */
  refusedError(scopes: readonly string[], challengeHeader: string | null, answer: string): SkiffError {
    const challenge = challengeHeader
      ? parseChallenges(challengeHeader).find((c) => c.scheme === "bearer")
      : undefined;
    const registry = this.options.registry;
    const withCredentials = hasSecret(this.credential());
    if (challenge?.params.error === "insufficient_scope" || challenge?.params.error === undefined) {
      const asked = mergeScopes([...scopes, ...(challenge?.params.scope ? [challenge.params.scope] : [])]);
      return new SkiffError(
        withCredentials ? "DENIED" : "UNAUTHORIZED",
        withCredentials
          ? `${registry} denied access: the token does not grant ${asked.join(" ")}: ${answer}`
          : `authentication required for ${registry}: anonymous access does not grant ${asked.join(" ")}: ${answer}`,
        withCredentials ? "the account lacks permission for this repository or action" : loginHint(registry),
      );
    }
    return new SkiffError(
      "UNAUTHORIZED",
      `${registry} refused the token (${challenge.params.error}${challenge.params.error_description ? `: ${challenge.params.error_description}` : ""}): ${answer}`,
      loginHint(registry),
    );
  }

  /**
   * The error when the registry asks for Basic auth and the credential cannot answer it, in ORAS's
   * words (scripts grep them): none at all, or no username and password (an identity token alone,
   * an empty password). Undefined when Basic is not asked for or can be answered.
   */
  basicUnanswerable(): SkiffError | undefined {
    if (this.scheme !== "basic" || this.basicHeader() !== undefined) return undefined;
    const registry = this.options.registry;
    if (!hasSecret(this.credential())) {
      return new SkiffError(
        "UNAUTHORIZED",
        `authentication required for ${registry}: basic credential not found`,
        loginHint(registry),
      );
    }
    return new SkiffError(
      "UNAUTHORIZED",
      `${registry} asks for a username and password: missing username or password for basic auth`,
      "pass -u/--username with a password (-p/--password or --password-stdin): an identity token alone is for token auth",
    );
  }

  private basicHeader(): string | undefined {
    const credential = this.credential();
    // Both must be there, as in ORAS: an empty password is no Basic credential.
    if (!credential?.username || !credential.password) return undefined;
    return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
  }

  private fetchToken(scopes: string[]): Promise<CachedToken> {
    const key = scopes.join(" ");
    let promise = this.pending.get(key);
    if (!promise) {
      promise = this.requestToken(scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, promise);
    }
    return promise;
  }

  private async requestToken(scopes: string[]): Promise<CachedToken> {
    const realm = this.realm!;
    const credential = this.credential();
    const registry = this.options.registry;
    let response: Response;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (credential?.identityToken) {
      const form = new URLSearchParams();
      form.set("grant_type", "refresh_token");
      form.set("refresh_token", credential.identityToken);
      if (this.service) form.set("service", this.service);
      form.set("scope", scopes.join(" "));
      form.set("client_id", this.options.clientId ?? "skiff");
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      response = await this.options.tokenRequest(new URL(realm), {
        method: "POST",
        headers,
        body: form.toString(),
      });
    } else {
      if (credential?.username !== undefined && credential.password !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
      }
      response = await this.options.tokenRequest(tokenUrl(realm, this.service, scopes), {
        method: "GET",
        headers,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      const error = registryError(response.status, response.statusText, text, {
        registry,
        what: "a token",
        hadCredentials: hasSecret(credential),
      });
      if (response.status === 401 || response.status === 403) throw error;
      throw new SkiffError(
        error.code,
        `the token server of ${registry} (${new URL(realm).host}) failed: ${error.message}`,
        error.hint,
      );
    }
    let parsed: ReturnType<typeof parseTokenResponse>;
    try {
      parsed = parseTokenResponse(text);
    } catch (error) {
      throw new SkiffError(
        "REGISTRY",
        `the token server of ${registry} answered badly: ${(error as Error).message}`,
      );
    }
    const life = (parsed.expiresIn ?? DEFAULT_TOKEN_LIFE_S) * 1000;
    const token: CachedToken = {
      header: `Bearer ${parsed.token}`,
      scopes,
      expires: Date.now() + Math.max(life - EXPIRY_MARGIN_MS, life / 2),
    };
    this.tokens.push(token);
    if (this.tokens.length > 64) this.tokens.shift();
    return token;
  }
}
