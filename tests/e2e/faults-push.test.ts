/**
 * Network faults on the way up (push) and on copies into a layout, injected by the fault proxy in
 * front of the real registry; and a blob redirect to another host, which must never receive the
 * registry's credentials. Each fault: skiff retries and succeeds with exact content, or fails with
 * a clear error and no tag pointing at incomplete content; a rerun completes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLayout } from "../fixtures/hostile/checks.ts";
import { type Fault, type FaultProxy, startFaultProxy, startOtherHost } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import { PASSWORD_WARNING, type RunResult, runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "basic"]);
let files: string;
let big: Buffer;
/** Matches the upload PUT/PATCH of big.bin (its digest is in the query). */
let bigUpload: RegExp;
let proxy: FaultProxy;
let repoCounter = 0;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

beforeAll(async () => {
  files = tmpDir("skiff-faults-push-");
  big = Buffer.alloc(768 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 8)) % 256;
  writeFileSync(join(files, "big.bin"), big);
  bigUpload = new RegExp(`/blobs/uploads/.+digest=${sha256(big).replace(":", "%3A")}`);
  const huge = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < huge.length; i++) huge[i] = (i * 5 + (i >> 12)) % 256;
  writeFileSync(join(files, "huge.bin"), huge);
  writeFileSync(join(files, "small.txt"), "small\n");
  proxy = await startFaultProxy({ upstream: registries.plain.url });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
});

/** Pushes big.bin and small.txt through the proxy to a fresh repository, with `rule` active. */
async function pushWith(
  rule: { method?: string; path: RegExp; fault: Fault; times?: number } | undefined,
  repo = `faults/push${++repoCounter}`,
): Promise<{ result: RunResult; repo: string; fired: number; began: number }> {
  proxy.clearRules();
  const fired = rule ? proxy.addRule(rule) : () => 0;
  const began = proxy.requests.length;
  const result = await runSkiff(
    ["push", "--plain-http", `${proxy.host}/${repo}:v1`, "big.bin", "small.txt", "--format", "json"],
    { cwd: files, env: { SKIFF_HTTP_TIMEOUT: "2" } },
  );
  proxy.clearRules();
  return { result, repo, fired: fired(), began };
}

/** Pulls `repo:v1` straight from the registry (no proxy) and checks every byte. */
async function expectInRegistry(repo: string): Promise<void> {
  const out = tmpDir("skiff-faults-check-");
  const pulled = await runSkiff(["pull", "--plain-http", `${registries.plain.host}/${repo}:v1`, "-o", out]);
  expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: "" });
  expect(sha256(readFileSync(join(out, "big.bin")))).toBe(sha256(big));
  expect(readFileSync(join(out, "small.txt"), "utf8")).toBe("small\n");
}

async function expectNoTag(repo: string): Promise<void> {
  const response = await registries.plain.fetch(`/v2/${repo}/manifests/v1`, {
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  await response.body?.cancel();
  expect(response.status).toBe(404);
}

function expectPushed(run: { result: RunResult }): void {
  expect({ code: run.result.code, stderr: run.result.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(run.result.stdout).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
}

function expectCleanFailure(run: { result: RunResult }, why: RegExp): void {
  expect(run.result.code).not.toBe(0);
  expect(run.result.timedOut).toBe(false);
  expect(run.result.stderr).toMatch(/^Error( from destination oci-layout for "[^"\n]*")?: /m);
  expect(run.result.stderr).toMatch(why);
  expect(run.result.stderr).not.toMatch(/\n\s+at .*:\d+:\d+|TypeError|ReferenceError/);
}

describe("push through faults", () => {
  test("503 when starting an upload: retried, pushed, content exact", async () => {
    const run = await pushWith({
      method: "POST",
      path: /\/blobs\/uploads\/$/,
      fault: { kind: "status", status: 503 },
    });
    expect(run.fired).toBe(1);
    expectPushed(run);
    await expectInRegistry(run.repo);
  });

  test("429 with Retry-After: 1 on the blob existence check: honored, pushed", async () => {
    const run = await pushWith({
      method: "HEAD",
      path: /\/blobs\/sha256:/,
      fault: { kind: "status", status: 429, retryAfter: "1" },
    });
    expect(run.fired).toBe(1);
    expectPushed(run);
    // The same HEAD is asked again only after the second the registry asked for.
    const seen = proxy.requests.slice(run.began);
    const limited = seen.find((r) => r.status === 429)!;
    const again = seen.find((r) => r.at > limited.at && r.method === "HEAD" && r.target === limited.target);
    expect(again!.at - limited.at).toBeGreaterThanOrEqual(900);
    await expectInRegistry(run.repo);
  });

  test("500 on the manifest PUT: retried, pushed", async () => {
    const run = await pushWith({
      method: "PUT",
      path: /\/manifests\/v1$/,
      fault: { kind: "status", status: 500 },
    });
    expect(run.fired).toBe(1);
    expectPushed(run);
    await expectInRegistry(run.repo);
  });

  test("connection reset after 100 kB of the blob upload: the upload starts over and completes", async () => {
    const run = await pushWith({
      path: bigUpload,
      fault: { kind: "reset-request", afterBytes: 100_000 },
    });
    expect(run.fired).toBe(1);
    expectPushed(run);
    await expectInRegistry(run.repo);
  });

  test("upload reset on every try: a clear error, no tag on the registry, and a rerun completes", async () => {
    const run = await pushWith({
      path: bigUpload,
      fault: { kind: "reset-request", afterBytes: 100_000 },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /reset|closed|network|connection|upload/i);
    await expectNoTag(run.repo);
    const rerun = await pushWith(undefined, run.repo);
    expectPushed(rerun);
    await expectInRegistry(run.repo);
  }, 60_000);

  test("reset during a streamed upload (6 MiB, over the in-memory limit): completes, or fails clearly and a rerun completes", async () => {
    proxy.clearRules();
    const fired = proxy.addRule({
      path: /\/blobs\/uploads\/.+digest=/,
      fault: { kind: "reset-request", afterBytes: 1_000_000 },
    });
    const repo = `faults/push${++repoCounter}`;
    const result = await runSkiff(["push", "--plain-http", `${proxy.host}/${repo}:v1`, "huge.bin"], {
      cwd: files,
      env: { SKIFF_HTTP_TIMEOUT: "2" },
    });
    proxy.clearRules();
    expect(fired()).toBe(1);
    if (result.code !== 0) {
      expectCleanFailure({ result }, /reset|closed|network|connection|upload/i);
      await expectNoTag(repo);
      const rerun = await runSkiff(["push", "--plain-http", `${proxy.host}/${repo}:v1`, "huge.bin"], {
        cwd: files,
      });
      expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: "" });
    }
    const out = tmpDir("skiff-faults-check-");
    const pulled = await runSkiff(["pull", "--plain-http", `${registries.plain.host}/${repo}:v1`, "-o", out]);
    expect(pulled.code).toBe(0);
    expect(sha256(readFileSync(join(out, "huge.bin")))).toBe(sha256(readFileSync(join(files, "huge.bin"))));
  }, 60_000);

  test("manifest PUT answered 503 on every try: a clear error and no tag", async () => {
    const run = await pushWith({
      method: "PUT",
      path: /\/manifests\//,
      fault: { kind: "status", status: 503 },
      times: Number.POSITIVE_INFINITY,
    });
    expectCleanFailure(run, /503|unavailable/i);
    await expectNoTag(run.repo);
  }, 60_000);
});

describe("copy into a layout through faults", () => {
  test("cp registry -> layout with a reset and a 502 on the way: the layout is whole, every blob verified", async () => {
    const seeded = await pushWith(undefined, "faults/cp-source");
    expectPushed(seeded);
    proxy.clearRules();
    const reset = proxy.addRule({
      method: "GET",
      path: /\/blobs\/sha256:/,
      fault: { kind: "reset", afterBytes: 200_000 },
    });
    const bad = proxy.addRule({
      method: "GET",
      path: /\/manifests\//,
      fault: { kind: "status", status: 502 },
    });
    const layout = join(tmpDir("skiff-faults-cp-"), "layout");
    const result = await runSkiff([
      "cp",
      "--from-plain-http",
      `${proxy.host}/faults/cp-source:v1`,
      "--to-oci-layout",
      `${layout}:v1`,
    ]);
    proxy.clearRules();
    expect(reset() + bad()).toBe(2);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const report = checkLayout(layout);
    expect(report.problems).toEqual([]);
    expect(report.strays).toEqual([]);
    expect(report.entries.map((e) => e.refName)).toEqual(["v1"]);
  });

  test("cp registry -> layout with flipped bytes on every try: fails, no blob under a digest name is wrong", async () => {
    expectPushed(await pushWith(undefined, "faults/cp-source"));
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: /\/blobs\/sha256:/,
      fault: { kind: "flip" },
      times: Number.POSITIVE_INFINITY,
    });
    const layout = join(tmpDir("skiff-faults-cp-"), "layout");
    const result = await runSkiff([
      "cp",
      "--from-plain-http",
      `${proxy.host}/faults/cp-source:v1`,
      "--to-oci-layout",
      `${layout}:v1`,
    ]);
    proxy.clearRules();
    expectCleanFailure({ result }, /digest|hashes to/i);
    const report = checkLayout(layout);
    expect(report.problems.filter((p) => !p.startsWith("oci-layout") && !p.startsWith("index.json"))).toEqual(
      [],
    );
    expect(report.entries).toEqual([]);
    expect(report.strays).toEqual([]);
    // The rerun without faults completes.
    const rerun = await runSkiff([
      "cp",
      "--from-plain-http",
      `${proxy.host}/faults/cp-source:v1`,
      "--to-oci-layout",
      `${layout}:v1`,
    ]);
    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: "" });
    expect(checkLayout(layout).problems).toEqual([]);
  });
});

describe("redirects", () => {
  test("a blob GET redirected to another host: the download works and no Authorization header reaches that host", async () => {
    const basic = registries.basic;
    const authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`;
    const pushed = await runSkiff(
      [
        "push",
        "--plain-http",
        "-u",
        basic.username!,
        "-p",
        basic.password!,
        `${basic.host}/faults/redir:v1`,
        "big.bin",
      ],
      { cwd: files },
    );
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
    const front = await startFaultProxy({ upstream: basic.url });
    const other = await startOtherHost({ upstream: basic.url, upstreamAuthorization: authorization });
    try {
      front.addRule({
        method: "GET",
        path: /\/blobs\/sha256:/,
        fault: { kind: "redirect", to: other.url },
        times: Number.POSITIVE_INFINITY,
      });
      const out = tmpDir("skiff-faults-redir-");
      const result = await runSkiff(
        [
          "pull",
          "--plain-http",
          "-u",
          basic.username!,
          "--password-stdin",
          `${front.host}/faults/redir:v1`,
          "-o",
          out,
        ],
        { stdin: `${basic.password}\n` },
      );
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      expect(sha256(readFileSync(join(out, "big.bin")))).toBe(sha256(big));
      // The registry itself did get credentials (so there were some to leak)...
      expect(front.requests.some((r) => r.headers.authorization === authorization)).toBe(true);
      // ...but the other host never did, in any form.
      expect(other.requests.length).toBeGreaterThan(0);
      for (const request of other.requests) {
        expect({ target: request.target, authorization: request.headers.authorization ?? null }).toEqual({
          target: request.target,
          authorization: null,
        });
        expect(JSON.stringify(request.headers)).not.toContain(basic.password!);
      }
    } finally {
      await front.stop();
      await other.stop();
    }
  });
});
