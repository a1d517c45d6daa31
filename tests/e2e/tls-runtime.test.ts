/**
 * TLS settings each runtime can and cannot apply per client: `--resolve` over HTTPS verifies the
 * certificate against the name, not the address; under Deno (SKIFF_UNDER_DENO=1) `--insecure` and
 * `--resolve` over HTTPS are refused with an error that says what to do instead, and `--resolve`
 * over plain HTTP keeps the Host header.
 */
import { describe, expect, test } from "bun:test";
import { startFaultProxy } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, UNDER_DENO } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "tls"]);

describe("TLS per runtime", () => {
  test("--resolve over HTTPS checks the certificate against the name, not the address", async () => {
    const r = registries.tls;
    // The server certificate names 127.0.0.1 and localhost, not registry.invalid.
    const result = await runSkiff([
      "resolve",
      "--ca-file",
      r.caFile!,
      "--resolve",
      `registry.invalid:${r.port}:127.0.0.1:${r.port}`,
      `registry.invalid:${r.port}/any/app:v1`,
    ]);
    expect(result.code).toBe(1);
    if (UNDER_DENO) {
      expect(result.stderr).toBe(
        `Error: --resolve for registry.invalid over HTTPS is not available when skiff runs under Deno (it cannot set the TLS server name)\nmap the name to the address in /etc/hosts instead, or use the skiff binary\n`,
      );
    } else {
      expect(result.stderr).toStartWith(
        `Error: failed to resolve digest: the TLS certificate of registry.invalid:${r.port} does not verify: `,
      );
    }
  }, 30_000);

  test("--insecure works with the binary; under Deno it is refused with what to do instead", async () => {
    const r = registries.tls;
    const result = await runSkiff(["resolve", "--insecure", r.ref("insecure/app", "v1")]);
    if (UNDER_DENO) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "Error: --insecure is not available when skiff runs under Deno\npass --ca-file FILE with the registry's CA, or drop --insecure and start deno with --unsafely-ignore-certificate-errors=HOST\n",
      );
    } else {
      // Verification is skipped: the registry answers (the tag does not exist).
      expect(result.stderr).toBe(
        `Error: failed to resolve digest: ${r.host}/insecure/app:v1: not found: Error response from registry: response status code 404: Not Found\n`,
      );
    }
  }, 30_000);

  test("--insecure with a plain-HTTP registry is harmless on both runtimes", async () => {
    const r = registries.plain;
    const result = await runSkiff(["resolve", "--insecure", "--plain-http", r.ref("insecure/app", "v1")]);
    expect(result.stderr).toBe(
      `Error: failed to resolve digest: ${r.host}/insecure/app:v1: not found: Error response from registry: response status code 404: Not Found\n`,
    );
  }, 30_000);

  test("--resolve over plain HTTP sends the name in the Host header", async () => {
    const r = registries.plain;
    const proxy = await startFaultProxy({ upstream: r.url });
    try {
      await runSkiff([
        "resolve",
        "--plain-http",
        "--resolve",
        `registry.invalid:5000:127.0.0.1:${proxy.port}`,
        "registry.invalid:5000/resolve/app:v1",
      ]);
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.map((request) => request.headers.host)).toEqual(
        proxy.requests.map(() => "registry.invalid:5000"),
      );
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});
