/**
 * `npm run compat`: runs ORAS 1.3.2's own e2e "command" suite (../shared/oras-e2e, next to the
 * repository) against a fresh host build, prints the pass count and fails when it is below the
 * floor in scripts/compat-floor.txt. Without the suite it says so and succeeds.
 *   bun scripts/compat.ts [--out DIR]    results (command.json, command.log) in DIR, else a temp dir
 * ORAS_E2E_DIR points at the suite elsewhere. The suite needs port 7000 free and docker-registry.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = join(import.meta.dir, "..");
const suite = resolve(process.env.ORAS_E2E_DIR ?? join(root, "..", "shared", "oras-e2e"));
const runner = join(suite, "run.sh");
const floorFile = join(import.meta.dir, "compat-floor.txt");
const outAt = process.argv.indexOf("--out");
const out = outAt > 0 ? resolve(process.argv[outAt + 1]!) : mkdtempSync(join(tmpdir(), "skiff-compat-"));

if (!existsSync(runner)) {
  const shown = process.env.ORAS_E2E_DIR ?? "../shared/oras-e2e (next to the repository)";
  console.log(`compat: skipped: ORAS's e2e suite not found at ${shown}`);
  process.exit(0);
}

/** The floor: the one number in compat-floor.txt (lines starting with # are comments). */
function readFloor(): number {
  const lines = readFileSync(floorFile, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const floor = Number(lines[0]);
  if (lines.length !== 1 || !Number.isInteger(floor) || floor < 0) {
    throw new Error(`${floorFile}: expected one whole number besides # comments`);
  }
  return floor;
}

const floor = readFloor();
const build = spawnSync(process.execPath, [join(root, "scripts", "build.ts"), "--host"], {
  stdio: "inherit",
});
if (build.status !== 0) process.exit(build.status ?? 1);

// One run at a time per machine: the suite takes port 7000.
const binary = join(root, "dist", "skiff-linux-x64");
const command = ["bash", runner, binary, "--out", out];
const locked = spawnSync("sh", ["-c", "command -v flock"], { encoding: "utf8" }).status === 0;
const argv = locked ? ["flock", "/tmp/oras-e2e.lock", ...command] : command;
console.log(`compat: ${argv.join(" ")}`);

const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
let output = "";
child.stdout.on("data", (chunk: Buffer) => {
  output += chunk.toString();
  process.stdout.write(chunk);
});
const code: number = await new Promise((done) => child.on("close", (status) => done(status ?? 1)));

const summary = /oras-e2e command: (\d+) passed, (\d+) failed/.exec(output);
if (code !== 0 || !summary) {
  console.error(`compat: the suite could not run (exit ${code}); see the lines above`);
  process.exit(1);
}
const passed = Number(summary[1]);
const total = passed + Number(summary[2]);
const failures = `python3 ${join(suite, "report.py")} --failures ${out}`;
if (passed < floor) {
  console.error(
    `compat: ${passed} of ${total} ORAS e2e specs passed, below the floor of ${floor} (scripts/compat-floor.txt)`,
  );
  console.error(`compat: what fails: ${failures}`);
  process.exit(1);
}
console.log(`compat: ${passed} of ${total} ORAS e2e specs passed (floor ${floor}); failures: ${failures}`);
if (passed > floor + 5)
  console.log(`compat: consider raising the floor in scripts/compat-floor.txt to ${passed - 3}`);
