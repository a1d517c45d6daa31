/**
 * Registry failures as SkiffErrors people can act on: the distribution API's error bodies
 * (`{"errors":[{code,message,detail}]}`, or plain text from proxies), HTTP statuses, and the
 * network and TLS errors fetch() throws.
 */
import { SkiffError } from "../../errors.ts";

/** One entry of a distribution error body. */
interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** What a failed request was about, so the message names it. */
export interface ErrorContext {
  /** The registry host as the user wrote it (`localhost:5000`). */
  registry: string;
  /** The repository, when the request was about one. */
  repository?: string;
  /** What was asked for: `manifest latest`, `blob sha256:...`, `tags`, ... */
  what?: string;
  /**
   * The reference asked for (`host/repo:tag`, `host/repo@sha256:...`): a 404 then says
   * `REFERENCE: not found`, ORAS's words.
   */
  reference?: string;
  /** Credentials were sent (so a 401 means they were refused, not missing). */
  hadCredentials?: boolean;
}

const MAX_DETAIL = 300;

/** Parses a distribution error body; an empty list when the body is not one. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const errors = (json as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  const out: RegistryErrorEntry[] = [];
  for (const item of errors) {
    if (typeof item !== "object" || item === null) continue;
    const { code, message, detail } = item as Record<string, unknown>;
    const entry: RegistryErrorEntry = { code: typeof code === "string" ? code : "UNKNOWN" };
    if (typeof message === "string") entry.message = message;
    if (detail !== undefined) entry.detail = detail;
    out.push(entry);
  }
  return out;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL)}...` : oneLine;
}

/**
 * The entries as ORAS words them (`manifest unknown: manifest unknown`, `denied: requested access
 * to the resource is denied`): the code in lower case with spaces, then the message; skiff adds the
 * detail as JSON in parentheses.
 */
function describeEntries(entries: RegistryErrorEntry[]): string {
  return entries
    .map((e) => {
      const code = e.code.toLowerCase().replaceAll("_", " ");
      let text = e.message ? `${code}: ${e.message}` : code;
      if (e.detail !== undefined && e.detail !== null && e.detail !== "") {
        const detail = typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail);
        text += ` (${clip(detail)})`;
      }
      return text;
    })
    .join("; ");
}

function place(context: ErrorContext): string {
  return context.repository ? `${context.registry}/${context.repository}` : context.registry;
}

/** The hint for a registry that wants credentials it did not get (or refused). */
export function loginHint(registry: string): string {
  return `run \`skiff login ${registry}\`, or pass -u/--username with -p/--password or --password-stdin`;
}

/**
 * ORAS's words before what a registry answered. Scripts written for ORAS grep for them, so every
 * error built from a registry's answer carries them, followed by the registry's own message.
 */
const REGISTRY_ERROR_PHRASE = "Error response from registry:";

/**
 * {@link REGISTRY_ERROR_PHRASE} and the registry's own message: its error entries, else its body
 * (one line, shortened), else the status line when the answer had no body (a HEAD request, a proxy).
 * `withStatus` keeps the status line before the message (a HEAD's words, then the GET's).
 */
export function registryAnswer(status: number, statusText: string, body: string, withStatus = false): string {
  const entries = parseErrorBody(body);
  const said = entries.length > 0 ? describeEntries(entries) : clip(body);
  const statusLine = `response status code ${status}${statusText ? `: ${statusText}` : ""}`;
  if (!said) return `${REGISTRY_ERROR_PHRASE} ${statusLine}`;
  return `${REGISTRY_ERROR_PHRASE} ${withStatus ? `${statusLine}: ${said}` : said}`;
}

/**
 * A SkiffError for a failed registry response. `status` and `body` are the response's; the code
 * of the first error entry (if any) picks the message, else the status. The message says what
 * failed on what, then {@link REGISTRY_ERROR_PHRASE} and the registry's own message.
 */
export function registryError(
  status: number,
  statusText: string,
  body: string,
  context: ErrorContext,
  retryAfter?: string | null,
  withStatus = false,
): SkiffError {
  const entries = parseErrorBody(body);
  const code = entries[0]?.code ?? "";
  const where = place(context);
  const what = context.what ? `${context.what} ` : "";
  const suffix = `: ${registryAnswer(status, statusText, body, withStatus)}`;
  if (status === 401 || code === "UNAUTHORIZED") {
    if (context.hadCredentials) {
      return new SkiffError(
        "UNAUTHORIZED",
        `${context.registry} refused the credentials${suffix}`,
        `check the username and password (or token); ${loginHint(context.registry)}`,
      );
    }
    return new SkiffError(
      "UNAUTHORIZED",
      `authentication required for ${context.registry}${suffix}`,
      loginHint(context.registry),
    );
  }
  if (status === 403 || code === "DENIED") {
    return new SkiffError(
      "DENIED",
      `access to ${context.what ? `${context.what} in ` : ""}${where} denied${suffix}`,
      context.hadCredentials
        ? "the account lacks permission for this repository or action"
        : loginHint(context.registry),
    );
  }
  if (status === 429 || code === "TOOMANYREQUESTS") {
    const wait = retryAfter ? ` (the registry asks to retry after ${retryAfter})` : "";
    return new SkiffError(
      "TOO_MANY_REQUESTS",
      `${context.registry} is rate limiting requests${wait}${suffix}`,
      "wait and try again, or log in: registries allow authenticated clients more requests",
    );
  }
  if (code === "MANIFEST_BLOB_UNKNOWN") {
    return new SkiffError(
      "REGISTRY",
      `${where} refused ${what || "the manifest "}: it refers to content the repository does not have${suffix}`,
      "push the blobs and child manifests first (skiff cp copies a whole graph)",
    );
  }
  if (code === "NAME_UNKNOWN") {
    return new SkiffError("NOT_FOUND", `repository ${where} not found${suffix}`);
  }
  if (context.reference && (status === 404 || code === "MANIFEST_UNKNOWN" || code === "BLOB_UNKNOWN")) {
    return new SkiffError("NOT_FOUND", `${context.reference}: not found${suffix}`);
  }
  if (code === "MANIFEST_UNKNOWN" || (status === 404 && context.what?.startsWith("manifest"))) {
    return new SkiffError("NOT_FOUND", `${what || "manifest "}not found in ${where}${suffix}`);
  }
  if (code === "BLOB_UNKNOWN" || (status === 404 && context.what?.startsWith("blob"))) {
    return new SkiffError("NOT_FOUND", `${what || "blob "}not found in ${where}${suffix}`);
  }
  if (status === 404) {
    return new SkiffError("NOT_FOUND", `${what}not found in ${where}${suffix}`);
  }
  if (code === "UNSUPPORTED" || status === 405) {
    return new SkiffError(
      "UNSUPPORTED",
      `${where} does not support this operation on ${what || "this content "}(${status})${suffix}`,
      "the registry may have deletes or this API disabled",
    );
  }
  if (status === 413) {
    return new SkiffError(
      "REGISTRY",
      `${context.registry} refused the upload of ${what || "content "}as too large (413)${suffix}`,
      "a proxy may limit request bodies: set SKIFF_UPLOAD_CHUNK_SIZE (e.g. 8M) to upload in chunks",
    );
  }
  const label = statusText ? `${status} ${statusText}` : String(status);
  return new SkiffError(
    "REGISTRY",
    `${where} answered ${label} for ${what || "the request"}`.trim() + suffix,
  );
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  return "";
}

function errorText(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown } };
  const parts = [e?.message, e?.cause?.message].filter((m): m is string => typeof m === "string");
  // Bun appends advice about fetch() options; it means nothing to someone running skiff.
  return parts.join(": ").replace(/\s*For more information, pass `verbose: true`.*$/s, "");
}

const TLS_CODES =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH|ALTNAME/;
const TLS_TEXT =
  /certificate|invalid peer|UnknownIssuer|self[- ]signed|NotValidForName|unable to verify|issuer/i;

/** True for errors that say the TLS certificate did not verify. */
function isTlsVerifyError(error: unknown): boolean {
  const code = errorCode(error);
  if (code && TLS_CODES.test(code)) return true;
  return TLS_TEXT.test(errorText(error));
}

/** True when the server did not speak TLS where TLS was expected (a plain HTTP registry). */
export function isTlsProtocolError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER") return true;
  return /wrong version number|handshake failed|InvalidContentType|CorruptMessage|does the server speak TLS/i.test(
    errorText(error),
  );
}

/** True for errors worth retrying: the connection failed or broke, not a verdict of the server. */
export function isRetryableNetworkError(error: unknown): boolean {
  if (error instanceof SkiffError) return error.code === "NETWORK";
  if (isTlsVerifyError(error) || isTlsProtocolError(error)) return false;
  const code = errorCode(error);
  // Nothing listens, or the name does not resolve: trying again only makes people wait.
  if (
    code === "ENOTFOUND" ||
    code === "EAI_NONAME" ||
    code === "ECONNREFUSED" ||
    code === "ConnectionRefused"
  ) {
    return false;
  }
  if (/connection refused/i.test(errorText(error))) return false;
  // Timeouts are ours (an AbortSignal) and count as network failures.
  return true;
}

/**
 * What Go's TLS stack (ORAS) says for a certificate that does not verify, by OpenSSL-style code:
 * scripts written for ORAS grep `x509: certificate signed by unknown authority`.
 */
function goX509Phrase(code: string): string | undefined {
  if (/SELF_SIGNED|UNABLE_TO_VERIFY_LEAF|UNABLE_TO_GET_ISSUER|UnknownIssuer/i.test(code)) {
    return "x509: certificate signed by unknown authority";
  }
  if (/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/.test(code)) {
    return "x509: certificate has expired or is not yet valid";
  }
  if (/ALTNAME|HOSTNAME_MISMATCH/.test(code)) return "x509: certificate is not valid for this host";
  return undefined;
}

/**
 * A SkiffError for an error fetch() threw talking to `host` (`scheme://host:port` shown as `host`).
 * `https` says whether TLS was in use, for the right hint.
 */
export function networkError(
  error: unknown,
  registry: string,
  https: boolean,
  answersPlainHttp = false,
): SkiffError {
  if (error instanceof SkiffError) return error;
  const code = errorCode(error);
  const text = errorText(error) || String(error);
  if (https && isTlsVerifyError(error)) {
    const x509 = goX509Phrase(code);
    return new SkiffError(
      "TLS",
      `the TLS certificate of ${registry} does not verify: ${x509 ? `${x509} (${text})` : text}`,
      "pass --ca-file FILE with the CA that signed it (or --insecure to skip verification)",
      { cause: error },
    );
  }
  if (https && isTlsProtocolError(error)) {
    return new SkiffError(
      "TLS",
      answersPlainHttp
        ? // Go's words (ORAS's), which scripts grep for to switch to --plain-http.
          `TLS handshake with ${registry} failed: server gave HTTP response to HTTPS client`
        : `TLS handshake with ${registry} failed: ${text}`,
      "if the registry speaks plain HTTP, pass --plain-http",
      { cause: error },
    );
  }
  if (code === "ECONNREFUSED" || code === "ConnectionRefused" || /connection refused/i.test(text)) {
    return new SkiffError(
      "NETWORK",
      `cannot reach ${registry}: connection refused`,
      "check the host and port, and that the registry is running",
      { cause: error },
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_NONAME" || /dns error|failed to lookup|ENOTFOUND/i.test(text)) {
    return new SkiffError(
      "NETWORK",
      `cannot reach ${registry}: the host name does not resolve (no such host)`,
      "check the registry host name (or map it with --resolve host:port:address)",
      { cause: error },
    );
  }
  if ((error as { name?: string })?.name === "TimeoutError" || code === "ETIMEDOUT") {
    return new SkiffError("NETWORK", `cannot reach ${registry}: timed out`, undefined, { cause: error });
  }
  return new SkiffError("NETWORK", `cannot talk to ${registry}: ${text}`, undefined, { cause: error });
}

/** Reads at most `limit` bytes of a response body as text. */
export async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(Math.min(total, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
    if (offset >= bytes.byteLength) break;
  }
  return new TextDecoder().decode(bytes);
}
