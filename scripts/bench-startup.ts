/**
 * Start-up time of the compiled binary: `skiff version` and `skiff --help`, N runs each after a
 * warm-up, reported as median / min / p90 / max. A benchmark, not a test.
 *
 *   bun scripts/bench-startup.ts [--runs 30] [--warmup 3] [--binary dist/skiff-linux-x64]...
 *                                [--no-baseline] [--no-hyperfine] [--json] [--check]
 *
 * `--binary` may be given several times (say, builds before and after a change): each is measured,
 * in turn with the others, and labelled with its file name.
 *
 * With hyperfine on PATH the runs are timed by `hyperfine -N` (no shell, spawn cost calibrated out);
 * otherwise by spawnSync and performance.now() here (which adds this process's spawn overhead,
 * about 1 ms), taking the commands in turn so that a change in machine load hits all of them alike.
 * A hello-world compiled by the same `bun build --compile` is measured too (unless --no-baseline):
 * on a busy machine it is the floor that says how much of the time is skiff's own.
 * `--check` exits 1 when a median misses the target.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const TARGET_MS = 15;
const root = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "3" },
    binary: { type: "string", multiple: true, default: [join(root, "dist", "skiff-linux-x64")] },
    "no-baseline": { type: "boolean", default: false },
    "no-hyperfine": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const binaries = values.binary.map((path) => resolve(path));
const cases = [["version"], ["--help"]];
const workDir = mkdtempSync(join(tmpdir(), "skiff-bench-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

interface Stats {
  command: string;
  runs: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  maxMs: number;
}

function stats(command: string, samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 0 ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
  return { command, runs: sorted.length, medianMs: median, minMs: sorted[0]!, p90Ms: at(0.9), maxMs: at(1) };
}

function hasHyperfine(): boolean {
  return !values["no-hyperfine"] && spawnSync("hyperfine", ["--version"]).status === 0;
}

/** A hello-world built like the release binaries (scripts/build.ts), or undefined if that fails. */
function buildBaseline(): string | undefined {
  const source = join(workDir, "hello.ts");
  const outfile = join(workDir, "hello-world");
  writeFileSync(source, 'console.log("hello");\n');
  const result = spawnSync(
    process.execPath,
    ["build", "--compile", "--minify", "--bytecode", "--format=esm", source, "--outfile", outfile],
    { stdio: "ignore" },
  );
  return result.status === 0 ? outfile : undefined;
}

interface Case {
  name: string;
  argv: string[];
}

function withHyperfine({ argv }: Case): number[] {
  const dir = mkdtempSync(join(workDir, "hyperfine-"));
  try {
    const out = join(dir, "result.json");
    const command = argv.join(" ");
    const result = spawnSync(
      "hyperfine",
      [
        "-N",
        "--style",
        "none",
        "--warmup",
        String(warmup),
        "--runs",
        String(runs),
        "--export-json",
        out,
        command,
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (result.status !== 0) throw new Error(`hyperfine failed for ${command}`);
    const report = JSON.parse(readFileSync(out, "utf8")) as { results: { times: number[] }[] };
    return report.results[0]!.times.map((seconds) => seconds * 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Samples per case, taking the cases in turn. */
function withSpawnSync(all: Case[]): number[][] {
  const samples: number[][] = all.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    all.forEach(({ argv }, at) => {
      const started = performance.now();
      const result = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
      const elapsed = performance.now() - started;
      if (result.status !== 0) throw new Error(`${argv.join(" ")} exited ${result.status}`);
      if (i >= warmup) samples[at]!.push(elapsed);
    });
  }
  return samples;
}

for (const binary of binaries) {
  for (const args of cases) {
    const check = spawnSync(binary, args, { encoding: "utf8" });
    if (check.error || check.status !== 0) {
      console.error(`cannot run ${binary} ${args.join(" ")}: ${check.error?.message ?? check.stderr}`);
      console.error("build it first: npm run build -- --host");
      process.exit(2);
    }
  }
}

const measured: Case[] = binaries.flatMap((binary) =>
  cases.map((args) => ({
    name: `${binaries.length > 1 ? basename(binary) : "skiff"} ${args.join(" ")}`,
    argv: [binary, ...args],
  })),
);
const baseline = values["no-baseline"] ? undefined : buildBaseline();
if (baseline) measured.push({ name: "hello-world", argv: [baseline] });

const method = hasHyperfine() ? "hyperfine -N" : "spawnSync + performance.now()";
const loadBefore = loadavg()[0]!;
const samples = method.startsWith("hyperfine") ? measured.map(withHyperfine) : withSpawnSync(measured);
const loadAverage = [loadBefore, loadavg()[0]!].map((load) => load.toFixed(2)).join(" -> ");
const results = measured.map(({ name }, at) => stats(name, samples[at]!));
const missed = results.filter((result) => result.command !== "hello-world" && result.medianMs >= TARGET_MS);

if (values.json) {
  console.log(
    JSON.stringify({ binaries, method, warmup, loadAverage, targetMs: TARGET_MS, results }, null, 2),
  );
} else {
  const ms = (value: number): string => `${value.toFixed(1)} ms`.padStart(9);
  const width = Math.max(16, ...results.map((result) => result.command.length));
  console.log(
    `${binaries.join("\n")}\n${method}, ${warmup} warm-up + ${runs} runs each, 1-minute load average ${loadAverage}\n`,
  );
  console.log(`${"command".padEnd(width)}   median       min       p90       max`);
  for (const result of results) {
    console.log(
      `${result.command.padEnd(width)}${ms(result.medianMs)} ${ms(result.minMs)} ${ms(result.p90Ms)} ${ms(result.maxMs)}`,
    );
  }
  console.log(
    missed.length === 0
      ? `\ntarget: median under ${TARGET_MS} ms: met`
      : `\ntarget: median under ${TARGET_MS} ms: NOT met by ${missed.map((result) => result.command).join(", ")}`,
  );
}
if (values.check && missed.length > 0) process.exit(1);
