import { describe, expect, test } from "bun:test";
import {
  headerLines,
  isSecretHeader,
  SCRUBBED,
  scrubHeader,
  scrubSecrets,
  scrubUrl,
} from "../../src/content/registry/debug.ts";
import {
  isRetryableNetworkError,
  networkError,
  parseErrorBody,
  registryAnswer,
  registryError,
} from "../../src/content/registry/errors.ts";
import { SkiffError } from "../../src/errors.ts";

const ctx = { registry: "reg.example:5000", repository: "team/app" };
const body = (code: string, message = "m", detail?: unknown) =>
  JSON.stringify({ errors: [{ code, message, detail }] });

describe("registry error bodies", () => {
  test("parses the distribution error list, tolerating odd entries", () => {
    expect(parseErrorBody(body("MANIFEST_UNKNOWN", "manifest unknown", { Tag: "v1" }))).toEqual([
      { code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "v1" } },
    ]);
    expect(parseErrorBody('{"errors":[null,{"message":"x"}]}')).toEqual([{ code: "UNKNOWN", message: "x" }]);
    expect(parseErrorBody("<html>502 Bad Gateway</html>")).toEqual([]);
    expect(parseErrorBody('{"other":1}')).toEqual([]);
  });

  test("UNAUTHORIZED without credentials: authentication required, with the login hint", () => {
    const error = registryError(401, "Unauthorized", body("UNAUTHORIZED", "authentication required"), ctx);
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toStartWith("authentication required for reg.example:5000");
    expect(error.hint).toContain("skiff login reg.example:5000");
  });

  test("UNAUTHORIZED with credentials: they were refused", () => {
    const error = registryError(401, "Unauthorized", "", { ...ctx, hadCredentials: true });
    expect(error.code).toBe("UNAUTHORIZED");
    // No body: ORAS's phrase, then the status line the registry answered with.
    expect(error.message).toBe(
      "reg.example:5000 refused the credentials: Error response from registry: response status code 401: Unauthorized",
    );
    expect(error.hint).toContain("username and password");
  });

  test("DENIED, NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, TOOMANYREQUESTS", () => {
    const denied = registryError(
      403,
      "Forbidden",
      body("DENIED", "requested access to the resource is denied"),
      ctx,
    );
    expect([denied.code, denied.message]).toEqual([
      "DENIED",
      "access to reg.example:5000/team/app denied: Error response from registry: denied: requested access to the resource is denied",
    ]);
    const name = registryError(
      404,
      "Not Found",
      body("NAME_UNKNOWN", "repository name not known to registry"),
      ctx,
    );
    expect(name.code).toBe("NOT_FOUND");
    expect(name.message).toStartWith("repository reg.example:5000/team/app not found");
    const manifest = registryError(404, "Not Found", body("MANIFEST_UNKNOWN", "manifest unknown"), {
      ...ctx,
      what: 'tag "v1"',
    });
    expect(manifest.message).toBe(
      'tag "v1" not found in reg.example:5000/team/app: Error response from registry: manifest unknown: manifest unknown',
    );
    const blob = registryError(404, "Not Found", "", { ...ctx, what: "blob sha256:abc" });
    expect([blob.code, blob.message]).toEqual([
      "NOT_FOUND",
      "blob sha256:abc not found in reg.example:5000/team/app: Error response from registry: response status code 404: Not Found",
    ]);
    const limited = registryError(429, "Too Many Requests", body("TOOMANYREQUESTS", "slow down"), ctx, "30");
    expect(limited.code).toBe("TOO_MANY_REQUESTS");
    expect(limited.message).toContain("retry after 30");
  });

  test("non-JSON bodies are shown, shortened to one line", () => {
    const error = registryError(502, "Bad Gateway", `<html>\n<h1>502</h1>\n${"x".repeat(1000)}</html>`, ctx);
    expect(error.code).toBe("REGISTRY");
    expect(error.message).toStartWith(
      "reg.example:5000/team/app answered 502 Bad Gateway for the request: Error response from registry: <html> <h1>502</h1>",
    );
    expect(error.message.length).toBeLessThan(420);
    expect(error.message).not.toContain("\n");
  });

  test("every registry answer carries ORAS's phrase and the registry's own message", () => {
    for (const [status, text] of [
      [401, "Unauthorized"],
      [403, "Forbidden"],
      [404, "Not Found"],
      [429, "Too Many Requests"],
      [500, "Internal Server Error"],
    ] as const) {
      const error = registryError(status, text, body("SOME_CODE", "the registry's words"), ctx);
      expect(error.message).toContain("Error response from registry: some code: the registry's words");
    }
    expect(registryAnswer(404, "", "")).toBe("Error response from registry: response status code 404");
  });

  test("a missing tag, manifest or blob asked for by reference is `REFERENCE: not found`, as in ORAS", () => {
    for (const [status, body] of [
      [404, ""],
      [404, JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] })],
    ] as const) {
      const error = registryError(status, "Not Found", body, {
        ...ctx,
        what: 'tag "v9"',
        reference: "reg.example:5000/team/app:v9",
      });
      expect(error.code).toBe("NOT_FOUND");
      expect(error.message).toStartWith(
        "reg.example:5000/team/app:v9: not found: Error response from registry: ",
      );
    }
  });

  test("405 and 413 say what to do", () => {
    expect(registryError(405, "Method Not Allowed", body("UNSUPPORTED"), ctx).code).toBe("UNSUPPORTED");
    expect(registryError(413, "Payload Too Large", "", ctx).hint).toContain("SKIFF_UPLOAD_CHUNK_SIZE");
  });
});

describe("network errors", () => {
  const fetchError = (code: string, message: string) => Object.assign(new TypeError(message), { code });

  test("connection refused: cannot reach HOST", () => {
    const error = networkError(fetchError("ECONNREFUSED", "Unable to connect"), "127.0.0.1:1", false);
    expect([error.code, error.message]).toEqual(["NETWORK", "cannot reach 127.0.0.1:1: connection refused"]);
    expect(isRetryableNetworkError(fetchError("ECONNREFUSED", "x"))).toBe(false);
    expect(isRetryableNetworkError(fetchError("ECONNRESET", "x"))).toBe(true);
  });

  test("certificate failures: TLS error with the --ca-file hint, never retried", () => {
    for (const code of [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    ]) {
      const cause = fetchError(code, "self signed certificate");
      const error = networkError(cause, "reg.example", true);
      expect(error.code).toBe("TLS");
      expect(error.hint).toBe(
        "pass --ca-file FILE with the CA that signed it (or --insecure to skip verification)",
      );
      expect(isRetryableNetworkError(cause)).toBe(false);
    }
    // Deno's wording.
    const deno = new TypeError(
      "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer",
    );
    expect(networkError(deno, "reg.example", true).code).toBe("TLS");
  });

  test("Bun's advice about fetch() options is not shown to people", () => {
    const bun = fetchError(
      "ECONNRESET",
      "The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()",
    );
    const error = networkError(bun, "reg.example", false);
    expect(error.message).toContain("The socket connection was closed unexpectedly.");
    expect(error.message).not.toContain("verbose");
  });

  test("TLS to a plain HTTP server: hint --plain-http", () => {
    const error = networkError(fetchError("EPROTO", "The TLS handshake failed"), "reg.example", true);
    expect(error.hint).toContain("--plain-http");
  });

  test("unknown host", () => {
    const error = networkError(
      fetchError("ENOTFOUND", "getaddrinfo ENOTFOUND nope.invalid"),
      "nope.invalid",
      true,
    );
    expect(error.message).toBe("cannot reach nope.invalid: the host name does not resolve (no such host)");
    expect(isRetryableNetworkError(fetchError("ENOTFOUND", "x"))).toBe(false);
  });

  test("SkiffErrors pass through", () => {
    const original = new SkiffError("NETWORK", "stalled");
    expect(networkError(original, "r", false)).toBe(original);
  });
});

describe("--debug scrubbing", () => {
  test("credential headers keep only their scheme", () => {
    expect(scrubHeader("Authorization", "Bearer eyJhbGciOi.secret")).toBe(`Bearer ${SCRUBBED}`);
    expect(scrubHeader("authorization", "Basic dTpw")).toBe(`Basic ${SCRUBBED}`);
    expect(scrubHeader("Cookie", "session=abc")).toBe(SCRUBBED);
    expect(scrubHeader("Set-Cookie", "session=abc")).toBe(SCRUBBED);
    expect(scrubHeader("X-Api-Key", "k-123")).toBe(SCRUBBED);
    expect(scrubHeader("X-Registry-Token", "t")).toBe(SCRUBBED);
    expect(isSecretHeader("WWW-Authenticate")).toBe(false);
    expect(scrubHeader("Content-Type", "application/json")).toBe("application/json");
  });

  test("URLs: user info and signed or token query parameters", () => {
    const scrubbed = scrubUrl(
      "https://user:pw@s3.example/b/k?X-Amz-Signature=abc&X-Amz-Credential=c&part=1&access_token=t",
    );
    expect(scrubbed).not.toContain("pw");
    expect(scrubbed).not.toContain("abc");
    expect(scrubbed).not.toContain("access_token=t");
    expect(scrubbed).toContain("part=1");
    expect(scrubHeader("Location", "https://cdn.example/blob?sig=zzz&se=2020")).not.toContain("zzz");
  });

  test("header lines are sorted and scrubbed; known secrets are cut from any text", () => {
    expect(headerLines(">", { b: "2", Authorization: "Bearer x", a: ' "1"' })).toEqual([
      "> Request headers:",
      '  "a": " \\"1\\""',
      `  "Authorization": "Bearer ${SCRUBBED}"`,
      '  "b": "2"',
    ]);
    expect(headerLines("<", new Headers({ "Set-Cookie": "sid=1" }))).toEqual([
      "< Response headers:",
      `  "set-cookie": "${SCRUBBED}"`,
    ]);
    expect(scrubSecrets("password hunter22 in hunter22", ["hunter22", undefined, "ab"])).toBe(
      `password ${SCRUBBED} in ${SCRUBBED}`,
    );
  });
});
