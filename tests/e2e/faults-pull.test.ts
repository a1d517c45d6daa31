/**
 * Network faults between skiff and the real registry, injected by the fault proxy
 * (tests/harness/fault-proxy.ts), on pull and manifest fetch. For each fault skiff either retries
 * or resumes and succeeds with exact content, or fails with a clear error; nothing is left under a
 * final file name; and a rerun without the fault completes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Fault, type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import { type RunResult, runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain"]);
const REPO = "faults/app";
const BIG_SIZE = 1024 * 1024;
let files: string;
let big: Buffer;
let bigDigest: string;
let manifestDigest: string;
let proxy: FaultProxy;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

beforeAll(async () => {
  files = tmpDir("skiff-faults-files-");
  big = Buffer.alloc(BIG_SIZE);
  for (let i = 0; i < BIG_SIZE; i++) big[i] = (i * 7 + (i >> 10)) % 256;
  bigDigest = sha256(big);
  writeFileSync(join(files, "big.bin"), big);
  writeFileSync(join(files, "small.txt"), "small\n");
  const pushed = await runSkiff(
    [
      "push",
      "--plain-http",
      `${registries.plain.host}/${REPO}:v1`,
      "big.bin",
      "small.txt",
      "--format",
      "json",
    ],
    { cwd: files },
  );
  expect(pushed.stderr).toBe("");
  manifestDigest = JSON.parse(pushed.stdout).digest;
  proxy = await startFaultProxy({ upstream: registries.plain.url });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
});

const BLOB = () => new RegExp(`/v2/${REPO}/blobs/${bigDigest}$`);
const MANIFEST_GET = () => new RegExp(`/v2/${REPO}/manifests/`);

/** Pulls v1 through the proxy into a fresh folder, with `fault` on the first matching request(s). */
async function pullWith(
  rule: { method?: string; path: RegExp; fault: Fault; times?: number } | undefined,
  env: Record<string, string> = {},
): Promise<{ result: RunResult; out: string; fired: number; began: number }> {
  proxy.clearRules();
  const fired = rule ? proxy.addRule(rule) : () => 0;
  const began = proxy.requests.length;
  const out = tmpDir("skiff-faults-out-");
  const result = await runSkiff(["pull", "--plain-http", `${proxy.host}/${REPO}:v1`, "-o", out], {
    env: { SKIFF_HTTP_TIMEOUT: "2", ...env },
    timeoutMs: 60_000,
  });
  proxy.clearRules();
  return { result, out, fired: fired(), began };
}

/** The pull succeeded and wrote exactly the pushed files. */
function expectPulled(run: { result: RunResult; out: string }): void {
  expect({ code: run.result.code, stderr: run.result.stderr }).toEqual({ code: 0, stderr: "" });
  expect(readdirSync(run.out).sort()).toEqual(["big.bin", "small.txt"]);
  expect(sha256(readFileSync(join(run.out, "big.bin")))).toBe(bigDigest);
  expect(readFileSync(join(run.out, "small.txt"), "utf8")).toBe("small\n");
}

/** The pull failed cleanly: non-zero, one `Error:` line saying `why`, no file under a final name. */
function expectCleanFailure(run: { result: RunResult; out: string }, why: RegExp): void {
  expect(run.result.code).not.toBe(0);
  expect(run.result.timedOut).toBe(false);
  expect(run.result.stderr).toMatch(/^Error: /m);
  expect(run.result.stderr).toMatch(why);
  expect(run.result.stderr).not.toMatch(/\n\s+at .*:\d+:\d+|TypeError|ReferenceError/);
  const left = existsSync(run.out) ? readdirSync(run.out) : [];
  if (left.includes("big.bin")) {
    // Only a whole, verified file may carry the final name.
    expect(sha256(readFileSync(join(run.out, "big.bin")))).toBe(bigDigest);
  }
  // Temporary names are cleaned up when skiff fails on its own (it was not killed).
  expect(left.filter((name) => name.startsWith("."))).toEqual([]);
}

/** A rerun without faults completes. */
async function expectRerun(): Promise<void> {
  expectPulled(await pullWith(undefined));
}

function blobRequests(began: number): { status?: number; range?: string; at: number; fault?: string }[] {
  return proxy.requests
    .slice(began)
    .filter((r) => r.method === "GET" && BLOB().test(r.target))
    .map((r) => ({
      ...(r.status !== undefined ? { status: r.status } : {}),
      ...(r.headers.range !== undefined ? { range: r.headers.range } : {}),
      ...(r.fault !== undefined ? { fault: r.fault } : {}),
      at: r.at,
    }));
}

describe("pull through faults on the blob download", () => {
  test("connection reset after 300 kB: the download resumes with Range and completes", async () => {
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "reset", afterBytes: 300_000 },
    });
    expect(run.fired).toBe(1);
    expectPulled(run);
    const gets = blobRequests(run.began);
    expect(gets.length).toBe(2);
    expect(gets[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(gets[1]!.range!)![1])).toBeGreaterThan(0);
  });

  test("body truncated (full Content-Length announced, clean close): resumes and completes", async () => {
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "truncate", afterBytes: 500_000 },
    });
    expect(run.fired).toBe(1);
    expectPulled(run);
    expect(blobRequests(run.began).length).toBe(2);
  });

  for (const status of [500, 502, 503]) {
    test(`${status} on the blob: retried and completes`, async () => {
      const run = await pullWith({ method: "GET", path: BLOB(), fault: { kind: "status", status } });
      expect(run.fired).toBe(1);
      expectPulled(run);
      expect(blobRequests(run.began).map((r) => r.status)).toEqual([status, 200]);
    });
  }

  test("429 with Retry-After: 2 is honored, then completes", async () => {
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "status", status: 429, retryAfter: "2" },
    });
    expectPulled(run);
    const gets = blobRequests(run.began);
    expect(gets.map((r) => r.status)).toEqual([429, 200]);
    expect(gets[1]!.at - gets[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  test("503 on every try: gives up after a bounded number of retries with a clear error", async () => {
    const started = Date.now();
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "status", status: 503 },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /503|unavailable|Service Unavailable/i);
    expect(existsSync(join(run.out, "big.bin"))).toBe(false);
    const tries = blobRequests(run.began).length;
    expect(tries).toBeGreaterThanOrEqual(2);
    expect(tries).toBeLessThanOrEqual(6);
    expect(Date.now() - started).toBeLessThan(30_000);
    await expectRerun();
  }, 60_000);

  test("server stalls before answering (past SKIFF_HTTP_TIMEOUT=2): times out, retries, completes", async () => {
    const started = Date.now();
    const run = await pullWith({ method: "GET", path: BLOB(), fault: { kind: "stall", ms: 15_000 } });
    expectPulled(run);
    expect(Date.now() - started).toBeLessThan(14_000);
    expect(blobRequests(run.began).length).toBe(2);
  }, 60_000);

  test("server stalls mid-body: times out, resumes, completes", async () => {
    const started = Date.now();
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "stall-body", afterBytes: 400_000, ms: 15_000 },
    });
    expectPulled(run);
    expect(Date.now() - started).toBeLessThan(14_000);
    const gets = blobRequests(run.began);
    expect(gets.length).toBe(2);
    expect(gets[1]!.range).toMatch(/^bytes=\d+-$/);
  }, 60_000);

  test("flipped byte once (digest mismatch): refetched and correct, or a clear digest error", async () => {
    const run = await pullWith({ method: "GET", path: BLOB(), fault: { kind: "flip" } });
    expect(run.fired).toBe(1);
    if (run.result.code === 0) expectPulled(run);
    else {
      expectCleanFailure(run, /digest|hashes to/i);
      await expectRerun();
    }
  });

  test("flipped byte on every try: fails with a digest error, no file under its name", async () => {
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "flip" },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /digest|hashes to/i);
    expect(existsSync(join(run.out, "big.bin"))).toBe(false);
    await expectRerun();
  });

  test("Content-Length 10 bytes too long (connection closes early): completes or fails clearly", async () => {
    const run = await pullWith({ method: "GET", path: BLOB(), fault: { kind: "wrong-length", delta: 10 } });
    expect(run.fired).toBe(1);
    if (run.result.code === 0) expectPulled(run);
    else {
      expectCleanFailure(run, /size|bytes|length|closed|network/i);
      await expectRerun();
    }
  });

  test("Content-Length 10 bytes too short (body cut): completes or fails clearly", async () => {
    const run = await pullWith({ method: "GET", path: BLOB(), fault: { kind: "wrong-length", delta: -10 } });
    expect(run.fired).toBe(1);
    if (run.result.code === 0) expectPulled(run);
    else {
      expectCleanFailure(run, /size|bytes|length|digest/i);
      await expectRerun();
    }
  });

  test("Content-Length 10 bytes too short on every try: a clear error, no file under its name", async () => {
    const run = await pullWith({
      method: "GET",
      path: BLOB(),
      fault: { kind: "wrong-length", delta: -10 },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /size|bytes|length|digest/i);
    expect(existsSync(join(run.out, "big.bin"))).toBe(false);
    await expectRerun();
  });
});

describe("pull and manifest fetch through faults on the manifest", () => {
  test("503 on the manifest GET: retried and completes", async () => {
    const run = await pullWith({
      method: "GET",
      path: MANIFEST_GET(),
      fault: { kind: "status", status: 503 },
    });
    expect(run.fired).toBe(1);
    expectPulled(run);
  });

  test("flipped manifest bytes on every try: a clear digest error, nothing written", async () => {
    const run = await pullWith({
      method: "GET",
      path: MANIFEST_GET(),
      fault: { kind: "flip", at: 40 },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /digest|hashes to/i);
    expect(existsSync(run.out) ? readdirSync(run.out) : []).toEqual([]);
    await expectRerun();
  });

  test("a different (valid) manifest served for the digest asked for: refused", async () => {
    const other = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.empty.v1+json",
          digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
          size: 2,
        },
        layers: [],
      }),
    );
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: new RegExp(`/manifests/${manifestDigest}$`),
      fault: { kind: "replace-body", body: other },
      times: Number.POSITIVE_INFINITY,
    });
    const result = await runSkiff([
      "manifest",
      "fetch",
      "--plain-http",
      `${proxy.host}/${REPO}@${manifestDigest}`,
    ]);
    proxy.clearRules();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^Error: .*(digest|hashes to)/im);
    expect(result.stdout).toBe("");
  });

  test("manifest fetch: 502 then success prints the exact manifest", async () => {
    proxy.clearRules();
    const fired = proxy.addRule({
      method: "GET",
      path: MANIFEST_GET(),
      fault: { kind: "status", status: 502 },
    });
    const result = await runSkiff(["manifest", "fetch", "--plain-http", `${proxy.host}/${REPO}:v1`]);
    proxy.clearRules();
    expect(fired()).toBe(1);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(result.stdoutBytes)).toBe(manifestDigest);
  });

  test("manifest fetch: connection reset mid-body, retried, exact bytes", async () => {
    proxy.clearRules();
    const fired = proxy.addRule({
      method: "GET",
      path: MANIFEST_GET(),
      fault: { kind: "reset", afterBytes: 50 },
    });
    const result = await runSkiff(["manifest", "fetch", "--plain-http", `${proxy.host}/${REPO}:v1`]);
    proxy.clearRules();
    expect(fired()).toBe(1);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(result.stdoutBytes)).toBe(manifestDigest);
  });
});
