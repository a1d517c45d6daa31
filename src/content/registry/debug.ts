/**
 * `--debug` lines for HTTP traffic, with secrets replaced by `*****`: credentials headers,
 * cookies, header values of anything that looks like a key or token, URL user info and signed or
 * token query parameters (object storage redirects carry signatures in the URL).
 */

export const SCRUBBED = "*****";

let requestCount = 0;

/**
 * The id of the next request `--debug` shows: one count for the whole process, so the requests
 * of both sides of a copy never share an id (ORAS numbers them the same way, `Request #0` on).
 */
export function nextRequestId(): number {
  return requestCount++;
}

const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-registry-auth",
  "x-registry-token",
]);
const SECRET_HEADER_WORDS = /token|secret|password|passwd|api-?key|credential|session|signature|auth/i;
// Headers with "auth" in the name that carry no secret.
const PUBLIC_HEADERS = new Set(["www-authenticate", "proxy-authenticate"]);
const SECRET_QUERY =
  /^(access_token|refresh_token|id_token|token|password|passwd|secret|client_secret|code|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|se|sp|skoid|sktid|skt|ske|sks|skv|sv|st|policy|key-pair-id|x-ms-.*)$/i;

/** True when a header's value must not be shown. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (PUBLIC_HEADERS.has(lower)) return false;
  return SECRET_HEADERS.has(lower) || SECRET_HEADER_WORDS.test(lower);
}

/** The URL with user info and secret-looking query parameters scrubbed. */
export function scrubUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username) parsed.username = SCRUBBED;
  if (parsed.password) parsed.password = SCRUBBED;
  const names = [...new Set([...parsed.searchParams.keys()])];
  for (const name of names) {
    if (SECRET_QUERY.test(name)) parsed.searchParams.set(name, SCRUBBED);
  }
  return parsed.toString();
}

/** A header value as `--debug` shows it. */
export function scrubHeader(name: string, value: string): string {
  if (isSecretHeader(name)) {
    // Keep the scheme (`Bearer`, `Basic`) so people can tell which flow ran.
    const scheme = /^\s*(Basic|Bearer|Digest|Negotiate|Token)\s+/i.exec(value)?.[1];
    return scheme ? `${scheme} ${SCRUBBED}` : SCRUBBED;
  }
  if (name.toLowerCase() === "location" || name.toLowerCase() === "content-location") return scrubUrl(value);
  if (name.toLowerCase() === "link")
    return value.replace(/<([^>]*)>/g, (_m, u: string) => `<${scrubUrl(u)}>`);
  return value;
}

/**
 * The header block of a request (`>`) or response (`<`): a `Request headers:` line, then one
 * `  "Name": "value"` line each (quoted, as ORAS prints them, so a value's spaces show), secrets
 * scrubbed, sorted by name for stable output.
 */
export function headerLines(side: ">" | "<", headers: Headers | Record<string, string>): string[] {
  const entries: [string, string][] =
    headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  const lines = entries
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))
    .map(([name, value]) => `  ${JSON.stringify(name)}: ${JSON.stringify(scrubHeader(name, value))}`);
  return [`${side} ${side === ">" ? "Request" : "Response"} headers:`, ...lines];
}

/**
 * Last line of defence: replaces every known secret string found in `text`. Used on anything
 * printed that might echo a secret back (registry error bodies, helper output).
 */
export function scrubSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(SCRUBBED);
  }
  return out;
}
