/**
 * Hostile content and hostile answers from a registry: crafted manifests pushed byte for byte to
 * the real registry (which stores them), oversized answers and redirects injected by the fault
 * proxy. Each: a clear error, exit code non-zero, nothing written outside the output folder, and
 * credentials never sent where they do not belong.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { escapedPaths } from "../fixtures/hostile/checks.ts";
import { CONTENT_DIGEST, EMPTY_JSON, gzip, MT, TITLE, tar, UNPACK, utf8 } from "../fixtures/hostile/index.ts";
import { makeTlsFiles } from "../harness/certs.ts";
import { type FaultProxy, startFaultProxy, startOtherHost } from "../harness/fault-proxy.ts";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import { PASSWORD_WARNING, type RunResult, runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "tls", "token"]);
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Uploads bytes as a blob (POST + monolithic PUT), exactly as given. */
async function putBlob(
  registry: RegistryHandle,
  repo: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<Desc> {
  const digest = sha256(bytes);
  const start = await registry.fetch(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.body?.cancel();
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get("location")!, registry.url);
  location.searchParams.set("digest", digest);
  const put = await registry.fetch(location.pathname + location.search, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
  });
  await put.body?.cancel();
  expect(put.status).toBe(201);
  return { mediaType, digest, size: bytes.byteLength };
}

/** Stores manifest bytes under `reference` (the registry keeps what it is given). */
async function putManifest(
  registry: RegistryHandle,
  repo: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string = MT.manifest,
): Promise<Desc> {
  const response = await registry.fetch(`/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    headers: { "Content-Type": mediaType },
    body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
  });
  const text = await response.text();
  expect({ status: response.status, text }).toEqual({ status: 201, text: expect.any(String) });
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength };
}

async function artifact(
  registry: RegistryHandle,
  repo: string,
  layers: Desc[],
  extra: object = {},
): Promise<Uint8Array> {
  const config = await putBlob(registry, repo, EMPTY_JSON, MT.empty);
  return utf8(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      artifactType: "application/vnd.test.hostile",
      config,
      layers,
      ...extra,
    }),
  );
}

/** Pulls `ref` into a fresh sandbox/out and checks: non-zero, clear error matching `why`, nothing outside out. */
async function expectPullRefused(
  ref: string,
  why: RegExp,
  flags: string[] = ["--plain-http"],
  env: Record<string, string> = {},
): Promise<{ result: RunResult; sandbox: string; out: string }> {
  const sandbox = tmpDir("skiff-hostile-reg-");
  const out = join(sandbox, "out");
  const result = await runSkiff(["pull", ...flags, ref, "-o", out], { env, timeoutMs: 60_000 });
  expect(result.timedOut).toBe(false);
  expect({ code: result.code === 0 ? "zero" : "non-zero", outside: escapedPaths(sandbox, out) }).toEqual({
    code: "non-zero",
    outside: [],
  });
  expect(result.stderr).toMatch(/^Error: /m);
  expect(result.stderr).toMatch(why);
  expect(result.stderr).not.toMatch(/\n\s+at .*:\d+:\d+|TypeError|ReferenceError/);
  return { result, sandbox, out };
}

describe("hostile manifests stored in a registry", () => {
  test("a title with ../ is refused", async () => {
    const reg = registries.plain;
    const layer = await putBlob(reg, "hostile/titles", utf8("escape\n"), MT.tar);
    const bytes = await artifact(reg, "hostile/titles", [
      { ...layer, annotations: { [TITLE]: "../escape.txt" } },
    ]);
    await putManifest(reg, "hostile/titles", "v1", bytes);
    const { sandbox } = await expectPullRefused(
      `${reg.host}/hostile/titles:v1`,
      /leaves the output directory|\.\./,
    );
    expect(existsSync(join(sandbox, "escape.txt"))).toBe(false);
  });

  test("a directory layer with a symlink out and a file through it is refused", async () => {
    const reg = registries.plain;
    const victim = tmpDir("skiff-hostile-victim-");
    const plain = tar([
      { name: "d/", type: "5" },
      { name: "d/link", type: "2", linkname: victim },
      { name: "d/link/pwned.txt", data: utf8("pwned") },
    ]);
    const layer = await putBlob(reg, "hostile/tar", gzip(plain), MT.tarGzip);
    const bytes = await artifact(reg, "hostile/tar", [
      { ...layer, annotations: { [TITLE]: "d", [CONTENT_DIGEST]: sha256(plain), [UNPACK]: "true" } },
    ]);
    await putManifest(reg, "hostile/tar", "v1", bytes);
    await expectPullRefused(`${reg.host}/hostile/tar:v1`, /symlink|outside/);
    expect(existsSync(join(victim, "pwned.txt"))).toBe(false);
  });

  test("a layer larger than its descriptor says is refused, no file under its title", async () => {
    const reg = registries.plain;
    const layer = await putBlob(reg, "hostile/sizes", utf8("twelve bytes"), MT.tar);
    const bytes = await artifact(reg, "hostile/sizes", [
      { ...layer, size: 5, annotations: { [TITLE]: "lies.txt" } },
    ]);
    await putManifest(reg, "hostile/sizes", "smaller", bytes);
    const { out } = await expectPullRefused(`${reg.host}/hostile/sizes:smaller`, /size|bytes|length/i);
    expect(existsSync(join(out, "lies.txt"))).toBe(false);
  });

  test("a layer smaller than its descriptor says is refused", async () => {
    const reg = registries.plain;
    const layer = await putBlob(reg, "hostile/sizes", utf8("twelve bytes"), MT.tar);
    const bytes = await artifact(reg, "hostile/sizes", [
      { ...layer, size: 4096, annotations: { [TITLE]: "lies.txt" } },
    ]);
    await putManifest(reg, "hostile/sizes", "larger", bytes);
    const { out } = await expectPullRefused(`${reg.host}/hostile/sizes:larger`, /size|bytes|length/i);
    expect(existsSync(join(out, "lies.txt"))).toBe(false);
  });

  test("a negative size is refused", async () => {
    const reg = registries.plain;
    const layer = await putBlob(reg, "hostile/sizes", utf8("x"), MT.tar);
    const bytes = await artifact(reg, "hostile/sizes", [
      { ...layer, size: -1, annotations: { [TITLE]: "neg.txt" } },
    ]);
    await putManifest(reg, "hostile/sizes", "negative", bytes);
    await expectPullRefused(`${reg.host}/hostile/sizes:negative`, /size/);
  });

  test("a manifest that is not UTF-8 is refused", async () => {
    const reg = registries.plain;
    const bytes = await artifact(reg, "hostile/utf8", [], { annotations: { note: "caf@" } });
    bytes[bytes.indexOf(0x40)] = 0xe9; // Latin-1 é
    await putManifest(reg, "hostile/utf8", "latin1", bytes);
    await expectPullRefused(`${reg.host}/hostile/utf8:latin1`, /UTF-8/);
  });

  test("indexes nested 1,000 deep are refused", async () => {
    const reg = registries.plain;
    const repo = "hostile/deep";
    const leafLayer = await putBlob(reg, repo, utf8("deep\n"), MT.tar);
    const leafBytes = await artifact(reg, repo, [{ ...leafLayer, annotations: { [TITLE]: "deep.txt" } }]);
    let current = await putManifest(reg, repo, sha256(leafBytes), leafBytes);
    for (let i = 0; i < 1000; i++) {
      const index = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [current] }));
      current = await putManifest(reg, repo, i === 999 ? "deep" : sha256(index), index, MT.index);
    }
    const { out } = await expectPullRefused(`${reg.host}/${repo}:deep`, /nest|deep/i);
    expect(existsSync(join(out, "deep.txt"))).toBe(false);
  }, 120_000);
});

describe("hostile answers injected between skiff and the registry", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: registries.plain.url });
    const layer = await putBlob(registries.plain, "hostile/answers", utf8("fine\n"), MT.tar);
    const bytes = await artifact(registries.plain, "hostile/answers", [
      { ...layer, annotations: { [TITLE]: "fine.txt" } },
    ]);
    await putManifest(registries.plain, "hostile/answers", "v1", bytes);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  test("a manifest answer over 4 MiB is refused", async () => {
    const huge = utf8(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.manifest,
        layers: [],
        pad: "x".repeat(4 * 1024 * 1024 + 10),
      }),
    );
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: /\/manifests\//,
      fault: { kind: "replace-body", body: huge },
      times: 10,
    });
    try {
      await expectPullRefused(`${proxy.host}/hostile/answers:v1`, /4194304|4 MiB|limit|too large/i);
    } finally {
      proxy.clearRules();
    }
  });

  test("redirects that never end are refused", async () => {
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: /\/blobs\//,
      fault: { kind: "redirect", to: proxy.url },
      times: Number.POSITIVE_INFINITY,
    });
    try {
      await expectPullRefused(`${proxy.host}/hostile/answers:v1`, /redirect/i);
    } finally {
      proxy.clearRules();
    }
  });

  test("a redirect from https to http is refused, and nothing reaches the http host", async () => {
    const tls = registries.tls;
    const certs = makeTlsFiles(join(tmpDir("skiff-hostile-certs-"), "proxy"));
    const { readFileSync } = await import("node:fs");
    const front = await startFaultProxy({
      upstream: tls.url,
      tls: { key: readFileSync(certs.keyFile, "utf8"), cert: readFileSync(certs.certFile, "utf8") },
    });
    const other = await startOtherHost({ upstream: tls.url });
    try {
      const files = tmpDir("skiff-hostile-files-");
      mkdirSync(files, { recursive: true });
      await Bun.write(join(files, "a.txt"), "a\n");
      const pushed = await runSkiff(
        ["push", "--ca-file", tls.caFile!, `${tls.host}/hostile/downgrade:v1`, "a.txt"],
        {
          cwd: files,
        },
      );
      expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: "" });
      front.addRule({
        method: "GET",
        path: /\/blobs\//,
        fault: { kind: "redirect", to: other.url },
        times: Number.POSITIVE_INFINITY,
      });
      await expectPullRefused(`${front.host}/hostile/downgrade:v1`, /HTTPS|https|downgrade|plain HTTP/i, [
        "--ca-file",
        certs.caFile,
      ]);
      expect(other.requests).toEqual([]);
    } finally {
      await front.stop();
      await other.stop();
    }
  });

  test("token mode: a blob redirect to another host carries no bearer token", async () => {
    const token = registries.token;
    const files = tmpDir("skiff-hostile-files-");
    await Bun.write(join(files, "b.txt"), "b\n");
    const login = ["-u", token.username!, "-p", token.password!];
    const pushed = await runSkiff(
      ["push", "--plain-http", ...login, `${token.host}/hostile/redir:v1`, "b.txt"],
      {
        cwd: files,
      },
    );
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
    const front = await startFaultProxy({ upstream: token.url });
    const other = await startOtherHost({
      upstream: token.url,
      fetchUpstream: (target, init) => token.fetch(target, init),
    });
    try {
      front.addRule({
        method: "GET",
        path: /\/blobs\//,
        fault: { kind: "redirect", to: other.url },
        times: Number.POSITIVE_INFINITY,
      });
      const out = join(tmpDir("skiff-hostile-out-"), "out");
      const result = await runSkiff([
        "pull",
        "--plain-http",
        ...login,
        `${front.host}/hostile/redir:v1`,
        "-o",
        out,
      ]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
      expect(front.requests.some((r) => r.headers.authorization?.startsWith("Bearer "))).toBe(true);
      expect(other.requests.length).toBeGreaterThan(0);
      for (const request of other.requests) expect(request.headers.authorization).toBeUndefined();
    } finally {
      await front.stop();
      await other.stop();
    }
  });
});
