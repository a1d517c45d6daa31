/**
 * Blob transfers on the worker pool (src/content/transfer), against the real registry and the fault
 * proxy: a large blob split into ranges (the first part and the rest on separate requests), a
 * server that ignores `Range`, a corrupted range, a worker that crashes mid-blob, a token that
 * expires while a worker downloads, TLS and `--resolve` settings reaching the worker, and kill -9
 * in the middle of worker downloads. Every run gets `SKIFF_TRANSFER_WORKERS=2` and
 * `SKIFF_TRANSFER_SPLIT=always`, so the split happens on any machine, however busy. Under Deno (SKIFF_UNDER_DENO=1) the same tests drive `deno run -A main.ts`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLayout } from "../fixtures/hostile/checks.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import {
  PASSWORD_WARNING,
  type RunOptions,
  runSkiff,
  skiffCommand,
  tmpDir,
  UNDER_DENO,
} from "../harness/skiff.ts";

const registries = useRegistries(["plain", "tls"]);
// Tokens that the registry accepts for about 4 s (born 56 s old; it allows 60 s of clock skew).
const shortTokens = useRegistries(["token"], { token: { ttlSeconds: -56 } });

const MiB = 1024 * 1024;
/** Above the split threshold (64 MiB left to fetch): the first 8 MiB, then one range job. */
const BIG = 72 * MiB;
const SMALL = 4 * MiB;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let files: string;
let bigDigest: string;
let smallDigest: string;
let proxy: FaultProxy;

const env = (extra: Record<string, string> = {}) => ({
  SKIFF_TRANSFER_WORKERS: "2",
  SKIFF_TRANSFER_SPLIT: "always",
  ...extra,
});
const run = (args: string[], options: RunOptions = {}) =>
  runSkiff(args, { timeoutMs: 180_000, ...options, env: { ...env(), ...options.env } });

beforeAll(async () => {
  files = tmpDir("skiff-workers-files-");
  const big = randomBytes(BIG);
  const small = randomBytes(SMALL);
  bigDigest = sha256(big);
  smallDigest = sha256(small);
  writeFileSync(join(files, "big.bin"), big);
  writeFileSync(join(files, "small.bin"), small);
  const plain = registries.plain.host;
  for (const [repo, file] of [
    ["workers/big", "big.bin"],
    ["workers/small", "small.bin"],
  ] as const) {
    const pushed = await run(["push", "--plain-http", `${plain}/${repo}:v1`, file], { cwd: files });
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: "" });
  }
  proxy = await startFaultProxy({ upstream: registries.plain.url });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
});

const blobPath = (digest: string) => new RegExp(`/blobs/${digest}$`);

/** Pulls `repo:v1` through the proxy into a fresh directory; returns the run, the directory and the blob GETs. */
async function pullThroughProxy(repo: string, digest: string, extraEnv: Record<string, string> = {}) {
  const out = join(tmpDir("skiff-workers-out-"), "out");
  const began = proxy.requests.length;
  const result = await run(["pull", "--plain-http", `${proxy.host}/${repo}:v1`, "-o", out], {
    env: env(extraEnv),
  });
  const gets = proxy.requests
    .slice(began)
    .filter((r) => r.method === "GET" && blobPath(digest).test(r.target));
  return {
    result,
    out,
    gets: gets.map((r) => ({ range: r.headers.range ?? null, status: r.status ?? null })),
  };
}

/**
 * skiff's own stderr: Deno also reports an uncaught error of a worker thread there (the injected
 * crash), in its own words before skiff's.
 */
const ownStderr = (stderr: string) => {
  if (!UNDER_DENO) return stderr;
  const start = stderr.search(/^(Error: |\* |> |< )/m);
  return start === -1 ? "" : stderr.slice(start);
};

/** Names in `dir` (hidden ones too), or none when it does not exist. */
const namesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe("segmented downloads", () => {
  test("a large blob is split: the first 8 MiB and the rest on separate requests, the file exact", async () => {
    proxy.clearRules();
    const { result, out, gets } = await pullThroughProxy("workers/big", bigDigest);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
    expect(gets).toEqual([
      { range: `bytes=0-${8 * MiB - 1}`, status: 206 },
      { range: `bytes=${8 * MiB}-`, status: 206 },
    ]);
    expect(namesIn(out)).toEqual(["big.bin"]);
  }, 180_000);

  test("a server that ignores Range: one stream of everything, the file exact", async () => {
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: blobPath(bigDigest),
      fault: { kind: "drop-range" },
      times: Number.POSITIVE_INFINITY,
    });
    const { result, out, gets } = await pullThroughProxy("workers/big", bigDigest);
    proxy.clearRules();
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
    // The probe asked for the first part, got all of it, and nothing was split.
    expect(gets).toEqual([{ range: `bytes=0-${8 * MiB - 1}`, status: 200 }]);
  }, 180_000);

  test("a corrupted range: a digest error, nothing under the file's name, no partial; a rerun is exact", async () => {
    proxy.clearRules();
    proxy.addRule({
      method: "GET",
      path: blobPath(bigDigest),
      header: { name: "range", value: new RegExp(`^bytes=${8 * MiB}-`) },
      fault: { kind: "flip", at: 20 * MiB },
      times: Number.POSITIVE_INFINITY,
    });
    const { result, out, gets } = await pullThroughProxy("workers/big", bigDigest);
    proxy.clearRules();
    expect(gets.length).toBeGreaterThanOrEqual(2);
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(
      `Error: ${bigDigest} from ${proxy.host}/workers/big: content hashes to sha256:`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
    expect(namesIn(out).filter((name) => !name.endsWith(".lock"))).toEqual([]);

    const rerun = await run(["pull", "--plain-http", `${proxy.host}/workers/big:v1`, "-o", out]);
    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
  }, 180_000);

  test("cp registry -> layout splits too, and the layout is whole", async () => {
    proxy.clearRules();
    const layout = join(tmpDir("skiff-workers-layout-"), "layout");
    const began = proxy.requests.length;
    const result = await run([
      "cp",
      "--from-plain-http",
      `${proxy.host}/workers/big:v1`,
      "--to-oci-layout",
      `${layout}:v1`,
    ]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const ranges = proxy.requests
      .slice(began)
      .filter((r) => r.method === "GET" && blobPath(bigDigest).test(r.target))
      .map((r) => r.headers.range);
    expect(ranges).toEqual([`bytes=0-${8 * MiB - 1}`, `bytes=${8 * MiB}-`]);
    const report = checkLayout(layout);
    expect({ problems: report.problems, strays: report.strays }).toEqual({ problems: [], strays: [] });
    expect(sha256(readFileSync(join(layout, "blobs", "sha256", bigDigest.slice(7))))).toBe(bigDigest);
  }, 180_000);
});

describe("a worker that crashes mid-blob", () => {
  test("is replaced and the blob fetched again: the file is exact (--debug says so)", async () => {
    proxy.clearRules();
    const out = join(tmpDir("skiff-workers-crash-"), "out");
    const result = await run(
      ["pull", "--debug", "--plain-http", `${proxy.host}/workers/small:v1`, "-o", out],
      {
        env: env({ SKIFF_TEST_CRASH_WORKER: String(MiB) }),
      },
    );
    expect(result.code).toBe(0);
    expect(ownStderr(result.stderr)).toMatch(/a transfer thread stopped unexpectedly \(.*\); trying again/);
    expect(sha256(readFileSync(join(out, "small.bin")))).toBe(smallDigest);
    expect(namesIn(out)).toEqual(["small.bin"]);
  }, 120_000);

  test("a range job's worker crashes: the whole blob is fetched again, exact", async () => {
    proxy.clearRules();
    const { result, out, gets } = await pullThroughProxy("workers/big", bigDigest, {
      SKIFF_TEST_CRASH_WORKER: String(16 * MiB),
    });
    expect({ code: result.code, stderr: ownStderr(result.stderr) }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
    // Split, crashed, split again.
    expect(gets.filter((get) => get.range === `bytes=${8 * MiB}-`).length).toBe(2);
    expect(namesIn(out)).toEqual(["big.bin"]);
  }, 180_000);

  test("on every try: the run fails with a clear error and leaves nothing under the file's name", async () => {
    proxy.clearRules();
    const { result, out } = await pullThroughProxy("workers/small", smallDigest, {
      SKIFF_TEST_CRASH_WORKER: `${MiB}:99`,
    });
    expect(result.code).toBe(1);
    expect(ownStderr(result.stderr)).toMatch(
      /^Error: a transfer thread stopped unexpectedly \(.*injected worker crash after/,
    );
    expect(ownStderr(result.stderr)).not.toMatch(/\n\s+at .*:\d+:\d+/);
    expect(namesIn(out).filter((name) => !name.endsWith(".lock"))).toEqual([]);
  }, 120_000);

  test("on every try into a layout: the layout holds no blob under the digest and no partial", async () => {
    proxy.clearRules();
    const layout = join(tmpDir("skiff-workers-crash-layout-"), "layout");
    const result = await run(
      ["cp", "--from-plain-http", `${proxy.host}/workers/small:v1`, "--to-oci-layout", `${layout}:v1`],
      { env: env({ SKIFF_TEST_CRASH_WORKER: `${MiB}:99` }) },
    );
    expect(result.code).toBe(1);
    expect(ownStderr(result.stderr)).toMatch(
      /^Error: a transfer thread stopped unexpectedly \(.*injected worker crash after/,
    );
    const report = checkLayout(layout);
    expect(report.problems.filter((p) => !p.startsWith("index.json"))).toEqual([]);
    expect(namesIn(join(layout, "blobs", "sha256")).filter((n) => n.includes(smallDigest.slice(7)))).toEqual(
      [],
    );
  }, 120_000);
});

describe("settings and tokens on the worker's requests", () => {
  test("a token that expires while a worker downloads: a new one is fetched and the download resumes", async () => {
    const r = shortTokens.token;
    const repo = `${r.host}/workers/token`;
    const pushed = await run(
      ["push", "--plain-http", "-u", r.username!, "-p", r.password!, `${repo}:v1`, "small.bin"],
      {
        cwd: files,
      },
    );
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
    const tokenProxy = await startFaultProxy({ upstream: r.url });
    try {
      // The first blob GET stalls after 1 MiB; the idle timeout (6 s) outlives the token (~4 s).
      tokenProxy.addRule({
        method: "GET",
        path: blobPath(smallDigest),
        fault: { kind: "stall-body", afterBytes: MiB, ms: 20_000 },
      });
      const issued = r.token!.requests.length;
      const out = join(tmpDir("skiff-workers-token-"), "out");
      const result = await run(["pull", "--plain-http", `${tokenProxy.host}/workers/token:v1`, "-o", out], {
        env: env({ SKIFF_HTTP_TIMEOUT: "6" }),
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      expect(sha256(readFileSync(join(out, "small.bin")))).toBe(smallDigest);
      const gets = tokenProxy.requests.filter(
        (q) => q.method === "GET" && blobPath(smallDigest).test(q.target),
      );
      expect(gets.map((q) => q.status)).toEqual([200, 401, 206]);
      expect(gets[2]!.headers.range).toBe(`bytes=${MiB}-`);
      expect(gets[2]!.headers.authorization).not.toBe(gets[1]!.headers.authorization);
      expect(r.token!.requests.length - issued).toBeGreaterThanOrEqual(2);
    } finally {
      await tokenProxy.stop();
    }
  }, 120_000);

  test("TLS with --ca-file: the worker verifies the registry with the same CA", async () => {
    const r = registries.tls;
    const pushed = await run(["push", "--ca-file", r.caFile!, r.ref("workers/tls", "v1"), "small.bin"], {
      cwd: files,
    });
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: "" });
    const out = join(tmpDir("skiff-workers-tls-"), "out");
    const pulled = await run(["pull", "--ca-file", r.caFile!, r.ref("workers/tls", "v1"), "-o", out]);
    expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "small.bin")))).toBe(smallDigest);
  }, 120_000);

  test("--resolve over plain HTTP: the worker connects to the address and sends the name as Host", async () => {
    proxy.clearRules();
    const out = join(tmpDir("skiff-workers-resolve-"), "out");
    const name = `registry.invalid:${proxy.port}`;
    const began = proxy.requests.length;
    const result = await run([
      "pull",
      "--plain-http",
      "--resolve",
      `${name}:127.0.0.1`,
      `${name}/workers/small:v1`,
      "-o",
      out,
    ]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(sha256(readFileSync(join(out, "small.bin")))).toBe(smallDigest);
    const gets = proxy.requests
      .slice(began)
      .filter((q) => q.method === "GET" && blobPath(smallDigest).test(q.target));
    expect(gets.map((q) => q.headers.host)).toEqual([name]);
  }, 120_000);
});

describe("kill -9 in the middle of worker downloads", () => {
  const POINTS = 10;

  async function killAfter(args: string[], ms: number): Promise<boolean> {
    const { command, args: prefix } = skiffCommand();
    const home = tmpDir("skiff-workers-kill-home-");
    const child = Bun.spawn([command, ...prefix, ...args], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      env: { PATH: process.env.PATH ?? "", HOME: home, DOCKER_CONFIG: join(home, ".docker"), ...env() },
    });
    await Promise.race([Bun.sleep(ms), child.exited]);
    child.kill(9);
    await child.exited;
    return child.signalCode === "SIGKILL";
  }

  test(`pull of a split blob: ${POINTS} kill points leave no file under its name but a whole one, then a rerun`, async () => {
    proxy.clearRules();
    // 1 MiB every 20 ms: the 72 MiB blob takes ~1.5 s, so the kills land inside it.
    proxy.addRule({
      method: "GET",
      path: blobPath(bigDigest),
      fault: { kind: "throttle", chunk: MiB, ms: 20 },
      times: Number.POSITIVE_INFINITY,
    });
    const out = join(tmpDir("skiff-workers-kill-"), "out");
    const args = ["pull", "--plain-http", `${proxy.host}/workers/big:v1`, "-o", out];
    const timed = await run(args);
    expect({ code: timed.code, stderr: timed.stderr }).toEqual({ code: 0, stderr: "" });
    let midway = 0;
    for (let k = 0; k < POINTS; k++) {
      rmSync(out, { recursive: true, force: true });
      if (await killAfter(args, Math.max(1, ((k + Math.random()) * timed.durationMs * 0.9) / POINTS)))
        midway++;
      for (const name of namesIn(out).filter((n) => !n.startsWith("."))) {
        expect({ k, name, digest: sha256(readFileSync(join(out, name))) }).toEqual({
          k,
          name,
          digest: bigDigest,
        });
      }
      const rerun = await run(args);
      expect({ k, code: rerun.code, stderr: rerun.stderr }).toEqual({ k, code: 0, stderr: "" });
      expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
    }
    proxy.clearRules();
    console.log(
      `worker pull: ${midway} of ${POINTS} kills landed mid-run (a run takes ~${timed.durationMs.toFixed(0)} ms)`,
    );
    expect(midway).toBeGreaterThanOrEqual(Math.ceil(POINTS / 3));
  }, 600_000);
});
