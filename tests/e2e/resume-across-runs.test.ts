/**
 * Resume across runs: a `cp` from the real registry into a layout directory that fails mid-blob
 * (the fault proxy resets every try) leaves `blobs/sha256/.<hex>.partial` (a pull: `.<hex>.partial`
 * next to the file); the next run hashes it again and asks the registry only for the rest
 * (`Range: bytes=N-`). A partial whose bytes changed
 * never becomes a wrong blob.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLayout } from "../fixtures/hostile/checks.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain"]);
const REPO = "resume/big";
const SIZE = 32 * 1024 * 1024;
let big: Buffer;
let bigDigest: string;
let proxy: FaultProxy;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

beforeAll(async () => {
  const files = tmpDir("skiff-resume-files-");
  big = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) big[i] = (i * 7 + (i >> 12)) % 256;
  bigDigest = sha256(big);
  writeFileSync(join(files, "big.bin"), big);
  const pushed = await runSkiff(["push", "--plain-http", `${registries.plain.host}/${REPO}:v1`, "big.bin"], {
    cwd: files,
    timeoutMs: 120_000,
  });
  expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: "" });
  proxy = await startFaultProxy({ upstream: registries.plain.url });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
});

const BLOB = () => new RegExp(`/v2/${REPO}/blobs/${bigDigest}$`);

/** `cp` of v1 through the proxy into `layout`; returns the run and the blob GETs it sent. */
function copyInto(layout: string) {
  return run(["cp", "--from-plain-http", `${proxy.host}/${REPO}:v1`, "--to-oci-layout", `${layout}:v1`]);
}

/** Runs skiff; returns the run and the `Range` header of each blob GET it sent. */
async function run(args: string[]) {
  const began = proxy.requests.length;
  const result = await runSkiff(args, { env: { SKIFF_HTTP_TIMEOUT: "5" }, timeoutMs: 180_000 });
  const gets = proxy.requests.slice(began).filter((r) => r.method === "GET" && BLOB().test(r.target));
  return { result, ranges: gets.map((r) => r.headers.range) };
}

/** Runs `args` with a reset after 1 MiB on every blob GET: the run fails on the network. */
async function interrupted(args: string[]): Promise<void> {
  proxy.clearRules();
  proxy.addRule({
    method: "GET",
    path: BLOB(),
    fault: { kind: "reset", afterBytes: 1024 * 1024 },
    times: Number.POSITIVE_INFINITY,
  });
  const { result } = await run(args);
  proxy.clearRules();
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/^Error: .*(broke|reset|connection)/m);
}

/** Fails a copy into a fresh layout; returns the partial's path. */
async function interruptedCopy(): Promise<{ layout: string; partial: string }> {
  const layout = join(tmpDir("skiff-resume-"), "layout");
  await interrupted([
    "cp",
    "--from-plain-http",
    `${proxy.host}/${REPO}:v1`,
    "--to-oci-layout",
    `${layout}:v1`,
  ]);
  const partial = join(layout, "blobs", "sha256", `.${bigDigest.slice(7)}.partial`);
  expect(existsSync(partial)).toBe(true);
  expect(existsSync(join(layout, "blobs", "sha256", bigDigest.slice(7)))).toBe(false);
  expect(existsSync(`${partial}.lock`)).toBe(false);
  return { layout, partial };
}

/** The layout holds v1 with the whole, right blob and nothing else. */
function expectComplete(layout: string): void {
  const report = checkLayout(layout);
  expect(report.problems).toEqual([]);
  expect(report.strays).toEqual([]);
  expect(report.entries.map((e) => e.refName)).toEqual(["v1"]);
  expect(sha256(readFileSync(join(layout, "blobs", "sha256", bigDigest.slice(7))))).toBe(bigDigest);
}

describe("resume across runs: cp registry -> layout directory", () => {
  test("a failed run leaves a partial; the rerun asks only for the rest with Range", async () => {
    const { layout, partial } = await interruptedCopy();
    const have = statSync(partial).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(SIZE);
    expect(sha256(readFileSync(partial))).toBe(sha256(big.subarray(0, have)));

    const { result, ranges } = await copyInto(layout);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(ranges).toEqual([`bytes=${have}-`]);
    expectComplete(layout);
  }, 240_000);

  test("a partial whose bytes changed is not trusted: the rerun fetches again and the blob is right", async () => {
    const { layout, partial } = await interruptedCopy();
    const bytes = readFileSync(partial);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(partial, bytes);

    const { result, ranges } = await copyInto(layout);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    // Range for the rest first; the digest check fails; then the whole blob once more.
    expect(ranges).toEqual([`bytes=${bytes.length}-`, undefined]);
    expectComplete(layout);
  }, 240_000);
});

describe("resume across runs: pull into files", () => {
  test("a failed pull leaves a partial named by the digest; the rerun asks only for the rest with Range", async () => {
    const out = tmpDir("skiff-resume-pull-");
    const args = ["pull", "--plain-http", `${proxy.host}/${REPO}:v1`, "-o", out];
    await interrupted(args);
    const partial = join(out, `.${bigDigest.slice(7)}.partial`);
    expect(readdirSync(out).sort()).toEqual([`.${bigDigest.slice(7)}.partial`]);
    const have = statSync(partial).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(SIZE);

    const { result, ranges } = await run(args);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(ranges).toEqual([`bytes=${have}-`]);
    expect(readdirSync(out)).toEqual(["big.bin"]);
    expect(sha256(readFileSync(join(out, "big.bin")))).toBe(bigDigest);
  }, 240_000);
});
