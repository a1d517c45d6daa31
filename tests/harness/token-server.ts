/**
 * A small Docker-token-spec authorization server for the test registry in token mode. It runs inside
 * the test process on 127.0.0.1 and issues ES256 JWTs that the real registry verifies against the
 * certificate of the signing key (REFERENCE.md §10).
 *
 * GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&offline_token=true]
 *      with or without `Authorization: Basic`.
 * POST /token  (form: grant_type=password|refresh_token, username, password, refresh_token, scope, service)
 *      the OAuth2 flow clients use with identity tokens.
 *
 * Default policy: right Basic credentials get every requested action, anonymous requests get `pull`
 * only, wrong credentials get 401.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SigningKey } from "./certs.ts";

/** One entry of a token's `access` claim (and of a parsed `scope` parameter). */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

/** Decides which actions a caller gets; `user` is null for anonymous requests. */
export type TokenPolicy = (user: string | null, requested: AccessEntry) => string[];

export interface TokenAuthorityOptions {
  /** Token lifetime in seconds (default 300). */
  ttlSeconds?: number;
  /** Whether anonymous requests get a (pull-only) token; when false they get 401 (default true). */
  anonymous?: boolean;
  /** Replaces the default policy (credentials: everything asked for; anonymous: pull). */
  policy?: TokenPolicy;
}

/** What the endpoint saw and answered, in order. */
export interface TokenRequestRecord {
  method: string;
  /** Path and query as received. */
  target: string;
  service: string | null;
  /** Raw `scope` values (a space-separated POST scope is split). */
  scopes: string[];
  /** `account` query parameter, when sent. */
  account: string | null;
  /** OAuth2 grant type for POST requests. */
  grantType: string | null;
  /** Authenticated user; null when anonymous or refused. */
  user: string | null;
  /** True when the request carried credentials (Basic header, password or refresh token). */
  hadCredentials: boolean;
  status: number;
  /** The access granted (empty when refused). */
  granted: AccessEntry[];
}

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

export interface IssueOptions {
  /** Sign with a key the registry does not trust; the header still names the trusted key unless `kid` is set. */
  untrustedKey?: boolean;
  /** Overrides the header's `kid`. */
  kid?: string;
  /** Lifetime in seconds; negative makes an already expired token. Default: the authority's TTL. */
  ttlSeconds?: number;
  subject?: string;
  /** Overrides the `aud` claim (the registry's service name by default). */
  audience?: string;
  /** Overrides the `iss` claim. */
  issuer?: string;
}

export interface TokenAuthority {
  /** The realm URL the registry puts into its `WWW-Authenticate` challenge. */
  realm: string;
  service: string;
  issuer: string;
  /** The refresh (identity) token that the POST endpoint accepts for the configured user. */
  refreshToken: string;
  /** Every request the endpoint received. */
  requests: TokenRequestRecord[];
  /** Every token the endpoint handed out (not the ones made with {@link TokenAuthority.issue}). */
  issued: IssuedToken[];
  /** Signs a token directly, bypassing the endpoint; not recorded. */
  issue(access: AccessEntry[], options?: IssueOptions): string;
  stop(): Promise<void>;
}

/** Parses `repository:name:pull,push` (the name may contain `:` only in theory; split at the ends). */
export function parseScope(scope: string): AccessEntry | null {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return null;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((action) => action !== "");
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

const defaultPolicy: TokenPolicy = (user, requested) => {
  if (user !== null) return requested.actions;
  return requested.type === "repository" ? requested.actions.filter((action) => action === "pull") : [];
};

function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString("base64url");
}

/** Signs a JWT with ES256 (raw r||s signature, as JOSE requires). */
export function signJwt(claims: TokenClaims, privateKey: KeyObject, kid: string): string {
  const header = base64url(JSON.stringify({ typ: "JWT", alg: "ES256", kid }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${header}.${payload}.${base64url(signature)}`;
}

/** Decodes the claims of a JWT without verifying it (for assertions in tests). */
export function decodeJwtClaims(token: string): TokenClaims {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
}

function parseBasic(header: string | undefined): { user: string; password: string } | null {
  if (!header?.toLowerCase().startsWith("basic ")) return null;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Starts the token endpoint on a free 127.0.0.1 port. */
export async function startTokenAuthority(config: {
  key: SigningKey;
  service: string;
  issuer: string;
  username: string;
  password: string;
  options?: TokenAuthorityOptions;
}): Promise<TokenAuthority> {
  const { key, service, issuer, username, password } = config;
  const ttlSeconds = config.options?.ttlSeconds ?? 300;
  const anonymousAllowed = config.options?.anonymous ?? true;
  const policy = config.options?.policy ?? defaultPolicy;
  const refreshToken = `refresh-${randomBytes(12).toString("hex")}`;
  const requests: TokenRequestRecord[] = [];
  const issued: IssuedToken[] = [];

  function makeClaims(access: AccessEntry[], options: IssueOptions = {}): TokenClaims {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: options.issuer ?? issuer,
      sub: options.subject ?? "",
      aud: options.audience ?? service,
      exp: now + (options.ttlSeconds ?? ttlSeconds),
      nbf: now - 1,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
  }

  // A key of the same kind that the registry does not trust, for tokens that must be refused.
  const untrustedKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
  function issue(access: AccessEntry[], options: IssueOptions = {}): string {
    const claims = makeClaims(access, options);
    const signingKey = options.untrustedKey ? untrustedKey : key.privateKey;
    return signJwt(claims, signingKey, options.kid ?? key.kid);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const record: TokenRequestRecord = {
      method: request.method ?? "GET",
      target: request.url ?? "/",
      service: url.searchParams.get("service"),
      scopes: url.searchParams.getAll("scope"),
      account: url.searchParams.get("account"),
      grantType: null,
      user: null,
      hadCredentials: false,
      status: 0,
      granted: [],
    };
    requests.push(record);
    const refuse = (status: number, message: string): void => {
      record.status = status;
      sendJson(
        response,
        status,
        { errors: [{ code: status === 401 ? "UNAUTHORIZED" : "UNSUPPORTED", message }] },
        status === 401 ? { "www-authenticate": 'Basic realm="skiff-test-token"' } : {},
      );
    };
    if (url.pathname !== "/token") return refuse(404, "not found");

    let offline = url.searchParams.get("offline_token") === "true";
    let authenticated = false;
    if (request.method === "GET") {
      const basic = parseBasic(request.headers.authorization);
      if (basic) {
        record.hadCredentials = true;
        if (basic.user !== username || basic.password !== password) return refuse(401, "wrong credentials");
        authenticated = true;
      }
    } else if (request.method === "POST") {
      const form = new URLSearchParams(await readBody(request));
      record.grantType = form.get("grant_type");
      record.service = form.get("service");
      record.scopes = (form.get("scope") ?? "").split(" ").filter((scope) => scope !== "");
      offline = form.get("access_type") === "offline";
      record.hadCredentials = true;
      if (record.grantType === "password") {
        if (form.get("username") !== username || form.get("password") !== password) {
          return refuse(401, "wrong credentials");
        }
      } else if (record.grantType === "refresh_token") {
        if (form.get("refresh_token") !== refreshToken) return refuse(401, "unknown refresh token");
      } else {
        return refuse(400, `unsupported grant_type ${record.grantType}`);
      }
      authenticated = true;
    } else {
      return refuse(405, "method not allowed");
    }
    if (record.service !== service) return refuse(400, `unknown service ${record.service}`);
    if (!authenticated && !anonymousAllowed) return refuse(401, "credentials required");

    record.user = authenticated ? username : null;
    for (const scope of record.scopes) {
      const requested = parseScope(scope);
      if (!requested) continue;
      const actions = policy(record.user, requested);
      if (actions.length > 0) record.granted.push({ ...requested, actions });
    }
    const claims = makeClaims(record.granted, { subject: record.user ?? "" });
    const token = signJwt(claims, key.privateKey, key.kid);
    issued.push({ token, claims });
    record.status = 200;
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: claims.exp - claims.iat,
      issued_at: new Date(claims.iat * 1000).toISOString(),
    };
    if (authenticated && offline) body.refresh_token = refreshToken;
    if (request.method === "POST") body.scope = record.scopes.join(" ");
    sendJson(response, 200, body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { errors: [{ message: String(error) }] });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    refreshToken,
    requests,
    issued,
    issue,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
