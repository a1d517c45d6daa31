/**
 * Crash safety on the network side: skiff is killed with SIGKILL at 20 points while it pulls from,
 * or copies from, the real registry. The fault proxy throttles blob bodies so that the kill points
 * land mid-download. After each kill: output files are whole or absent (temporaries are hidden
 * names), a destination layout is whole; a rerun completes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLayout } from "../fixtures/hostile/checks.ts";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { KillPoints, killAfter, measureRun } from "../harness/kill.ts";
import { useRegistries } from "../harness/registry.ts";
import { runSkiff, tmpDir } from "../harness/skiff.ts";

const POINTS = 20;
const registries = useRegistries(["plain"]);
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
let files: string;
let proxy: FaultProxy;
const contents = new Map<string, string>();

beforeAll(async () => {
  files = tmpDir("skiff-crash-reg-");
  for (let i = 0; i < 3; i++) {
    const bytes = Buffer.alloc(512 * 1024, `blob ${i} `);
    writeFileSync(join(files, `b${i}.bin`), bytes);
    contents.set(`b${i}.bin`, sha256(bytes));
  }
  const pushed = await runSkiff(
    ["push", "--plain-http", `${registries.plain.host}/crash/app:v1`, "b0.bin", "b1.bin", "b2.bin"],
    { cwd: files },
  );
  expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: "" });
  proxy = await startFaultProxy({ upstream: registries.plain.url });
  // 64 KiB every 15 ms: each 512 KiB blob takes ~120 ms, wide enough to be killed inside.
  proxy.addRule({
    method: "GET",
    path: /\/blobs\/sha256:/,
    fault: { kind: "throttle", chunk: 64 * 1024, ms: 15 },
    times: Number.POSITIVE_INFINITY,
  });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
});

async function timed(args: string[]): Promise<number> {
  const result = await runSkiff(args);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return result.durationMs;
}

// The two kill loops use their own folders and run side by side (each one's kill points follow the
// runs it sees, see KillPoints).
describe.concurrent("kill -9 during network transfers", () => {
  test(`pull from a registry: ${POINTS} kill points leave only whole files, then a rerun`, async () => {
    const out = join(tmpDir("skiff-crash-pull-"), "out");
    const args = ["pull", "--plain-http", `${proxy.host}/crash/app:v1`, "-o", out];
    const kills = new KillPoints(
      "registry pull",
      await measureRun(args, () => rmSync(out, { recursive: true, force: true })),
      POINTS,
    );
    for (const [k, ms] of kills) {
      rmSync(out, { recursive: true, force: true });
      kills.add(await killAfter(args, ms));
      for (const name of existsSync(out) ? readdirSync(out) : []) {
        if (name.startsWith(".")) continue;
        expect({ k, name, digest: sha256(readFileSync(join(out, name))) }).toEqual({
          k,
          name,
          digest: contents.get(name)!,
        });
      }
      await timed(args);
      expect(
        readdirSync(out)
          .filter((n) => !n.startsWith("."))
          .sort(),
      ).toEqual(["b0.bin", "b1.bin", "b2.bin"]);
    }
    kills.report();
  }, 240_000);

  test(`cp registry -> layout: ${POINTS} kill points keep the layout whole, then a rerun`, async () => {
    const layout = join(tmpDir("skiff-crash-cp-"), "layout");
    const args = ["cp", "--from-plain-http", `${proxy.host}/crash/app:v1`, "--to-oci-layout", `${layout}:v1`];
    const kills = new KillPoints(
      "registry cp",
      await measureRun(args, () => rmSync(layout, { recursive: true, force: true })),
      POINTS,
    );
    for (const [k, ms] of kills) {
      rmSync(layout, { recursive: true, force: true });
      kills.add(await killAfter(args, ms));
      if (existsSync(join(layout, "oci-layout"))) {
        const report = checkLayout(layout);
        expect({ k, problems: report.problems }).toEqual({ k, problems: [] });
      }
      await timed(args);
      const report = checkLayout(layout);
      expect({ k, problems: report.problems, tags: report.entries.map((e) => e.refName) }).toEqual({
        k,
        problems: [],
        tags: ["v1"],
      });
    }
    kills.report();
  }, 240_000);
});
