/**
 * Compiles skiff into self-contained executables with `bun build --compile`.
 *   bun scripts/build.ts          all five release targets + dist/SHA256SUMS
 *   bun scripts/build.ts --host   only dist/skiff-linux-x64 (what the e2e tests run)
 *   --outdir DIR                  write there instead of dist/ (a private build: SKIFF_BIN=DIR/skiff-linux-x64)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outdirAt = process.argv.indexOf("--outdir");
const dist = outdirAt > 0 ? process.argv[outdirAt + 1]! : join(root, "dist");
const targets = [
  { target: "bun-linux-x64", file: "skiff-linux-x64" },
  { target: "bun-linux-arm64", file: "skiff-linux-arm64" },
  { target: "bun-darwin-x64", file: "skiff-darwin-x64" },
  { target: "bun-darwin-arm64", file: "skiff-darwin-arm64" },
  { target: "bun-windows-x64", file: "skiff-windows-x64.exe" },
];
const hostOnly = process.argv.includes("--host");

function gitCommit(): string {
  const result = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], {
    cwd: root,
    encoding: "utf8",
  });
  return result.stdout.trim() + (dirty.stdout.trim() ? "-dirty" : "");
}

mkdirSync(dist, { recursive: true });
const commit = gitCommit();
const selected = hostOnly ? targets.slice(0, 1) : targets;
for (const { target, file } of selected) {
  const result = spawnSync(
    process.execPath,
    [
      "build",
      "--compile",
      "--minify",
      // Start-up (docs/BENCHMARKS.md): chunks keep each command's modules and node: built-ins
      // out of the entry until that command runs; bytecode skips parsing. ESM is needed for both.
      "--splitting",
      "--bytecode",
      "--format=esm",
      `--target=${target}`,
      `--define=SKIFF_BUILD_COMMIT=${JSON.stringify(commit)}`,
      join(root, "main.ts"),
      // The transfer worker: embedded as its own entry point (src/runtime/workers.ts finds it).
      join(root, "src", "content", "transfer", "worker.ts"),
      "--outfile",
      join(dist, file),
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  if (result.status !== 0) {
    console.error(`build failed for ${target}`);
    process.exit(1);
  }
  console.log(`built ${join(dist, file)}`);
}
if (!hostOnly) {
  const sums = targets
    .map(
      ({ file }) =>
        `${createHash("sha256")
          .update(readFileSync(join(dist, file)))
          .digest("hex")}  ${file}`,
    )
    .join("\n");
  writeFileSync(join(dist, "SHA256SUMS"), `${sums}\n`);
  console.log("wrote dist/SHA256SUMS");
}
