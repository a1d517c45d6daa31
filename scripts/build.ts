/**
 * Compiles skiff into self-contained executables with `bun build --compile`, and packs releases.
 *   bun scripts/build.ts                  all ten targets, their archives and dist/SHA256SUMS
 *   bun scripts/build.ts --host           only dist/skiff-linux-x64 (what the e2e tests run)
 *   bun scripts/build.ts --target a,b     only those binaries, e.g. linux-arm64,windows-x64 (no archives)
 *   --outdir DIR                          write there instead of dist/ (a private build: SKIFF_BIN=DIR/skiff-linux-x64)
 *
 * A release archive is named like ORAS's, `skiff_<version>_<os>_<arch>.tar.gz` (arch amd64 or arm64,
 * os `linux-musl` for the musl builds), holds `skiff` (or `skiff.exe`), LICENSE and README.md, and
 * comes as .tar.gz and .tar.xz (.zip for Windows). The archive tools are tar, gzip, xz and zip.
 *
 * Bun's default x64 runtime needs AVX2; `-baseline` (arch `amd64-baseline`) runs on older x86_64 CPUs
 * but starts a few ms slower (docs/BENCHMARKS.md), so both ship and install.sh picks by CPU flags.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";

const root = join(import.meta.dir, "..");

export interface Target {
  /** Bun's `--target`. */
  bun: string;
  /** What `--target` and the raw binary's name use: `skiff-<name>[.exe]`. */
  name: string;
  os: "linux" | "darwin" | "windows";
  arch: "x64" | "arm64";
  musl?: boolean;
  /** Bun's `-baseline` runtime: x86_64 without AVX2. */
  baseline?: boolean;
}

export const TARGETS: readonly Target[] = [
  { bun: "bun-linux-x64", name: "linux-x64", os: "linux", arch: "x64" },
  { bun: "bun-linux-arm64", name: "linux-arm64", os: "linux", arch: "arm64" },
  { bun: "bun-linux-x64-musl", name: "linux-x64-musl", os: "linux", arch: "x64", musl: true },
  { bun: "bun-linux-arm64-musl", name: "linux-arm64-musl", os: "linux", arch: "arm64", musl: true },
  { bun: "bun-darwin-x64", name: "darwin-x64", os: "darwin", arch: "x64" },
  { bun: "bun-darwin-arm64", name: "darwin-arm64", os: "darwin", arch: "arm64" },
  { bun: "bun-windows-x64", name: "windows-x64", os: "windows", arch: "x64" },
  { bun: "bun-linux-x64-baseline", name: "linux-x64-baseline", os: "linux", arch: "x64", baseline: true },
  {
    bun: "bun-linux-x64-musl-baseline",
    name: "linux-x64-musl-baseline",
    os: "linux",
    arch: "x64",
    musl: true,
    baseline: true,
  },
  {
    bun: "bun-windows-x64-baseline",
    name: "windows-x64-baseline",
    os: "windows",
    arch: "x64",
    baseline: true,
  },
];

export const binaryName = (target: Target): string =>
  `skiff-${target.name}${target.os === "windows" ? ".exe" : ""}`;

/** `skiff_<version>_<os>_<arch>` without the extension, in ORAS's words (amd64, not x64). */
export const archiveStem = (target: Target, version: string): string =>
  `skiff_${version}_${target.os}${target.musl ? "-musl" : ""}_${target.arch === "x64" ? "amd64" : "arm64"}${target.baseline ? "-baseline" : ""}`;

function run(command: string, args: string[], cwd = root): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", (error) => reject(new Error(`${command} could not start: ${error.message}`)));
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} failed (exit ${code})`)),
    );
  });
}

/**
 * Packs `binary` as the release archives of `target` into `outdir` and returns their file names.
 * `kinds` defaults to what the target ships: zip for Windows, tar.gz and tar.xz for the rest.
 */
export async function writeArchives(
  binary: string,
  target: Target,
  version: string,
  outdir: string,
  kinds: readonly ("tar.gz" | "tar.xz" | "zip")[] = target.os === "windows" ? ["zip"] : ["tar.gz", "tar.xz"],
): Promise<string[]> {
  const stem = archiveStem(target, version);
  const stage = join(outdir, `.stage-${stem}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const members = [target.os === "windows" ? "skiff.exe" : "skiff", "LICENSE", "README.md"];
  copyFileSync(binary, join(stage, members[0]!));
  copyFileSync(join(root, "LICENSE"), join(stage, "LICENSE"));
  copyFileSync(join(root, "README.md"), join(stage, "README.md"));
  // One fixed time for every member, so the same inputs give the same archive bytes.
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 946684800);
  for (const member of members) utimesSync(join(stage, member), epoch, epoch);
  const written: string[] = [];
  try {
    if (kinds.includes("zip")) {
      const zip = join(outdir, `${stem}.zip`);
      rmSync(zip, { force: true });
      await run("zip", ["-q", "-X", zip, ...members], stage);
      written.push(basename(zip));
    }
    const tars = kinds.filter((kind) => kind !== "zip");
    if (tars.length > 0) {
      const tar = join(stage, `${stem}.tar`);
      const owner = ["--owner=0", "--group=0", "--numeric-owner", "--format=ustar"];
      await run("tar", ["-cf", tar, ...owner, "-C", stage, ...members]);
      await Promise.all(
        tars.map(async (kind) => {
          const out = join(outdir, `${stem}.${kind}`);
          const [tool, flags] = kind === "tar.gz" ? ["gzip", ["-n"]] : ["xz", ["-6", "-T1"]];
          await run("sh", ["-c", `${tool} ${flags.join(" ")} -c "$1" > "$2"`, "sh", tar, out]);
          written.push(basename(out));
        }),
      );
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return written.sort();
}

/** `<sha256>  <name>` for each file, sorted by name: the format `sha256sum -c` reads. */
export function sha256Sums(dir: string, names: readonly string[]): string {
  return [...names]
    .sort()
    .map(
      (name) =>
        `${createHash("sha256")
          .update(readFileSync(join(dir, name)))
          .digest("hex")}  ${name}\n`,
    )
    .join("");
}

function gitCommit(): string {
  const result = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], {
    cwd: root,
    encoding: "utf8",
  });
  return result.stdout.trim() + (dirty.stdout.trim() ? "-dirty" : "");
}

function compile(target: Target, dist: string, commit: string): void {
  const outfile = join(dist, binaryName(target));
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
      `--target=${target.bun}`,
      `--define=SKIFF_BUILD_COMMIT=${JSON.stringify(commit)}`,
      join(root, "main.ts"),
      // The transfer worker: embedded as its own entry point (src/runtime/transfer.ts finds it).
      join(root, "src", "content", "transfer", "worker.ts"),
      "--outfile",
      outfile,
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  if (result.status !== 0) {
    console.error(`build failed for ${target.bun}`);
    process.exit(1);
  }
  console.log(`built ${outfile}`);
}

/** Runs `jobs` with at most `limit` at a time; rejects with the first failure. */
async function pool(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  const queue = [...jobs];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at === -1 ? undefined : args[at + 1];
  };
  const dist = option("--outdir") ?? join(root, "dist");
  const named = option("--target")?.split(",");
  for (const name of named ?? []) {
    if (!TARGETS.some((target) => target.name === name)) {
      console.error(`unknown target ${name}; targets: ${TARGETS.map((target) => target.name).join(", ")}`);
      process.exit(2);
    }
  }
  const release = !args.includes("--host") && named === undefined;
  const selected = args.includes("--host")
    ? TARGETS.slice(0, 1)
    : TARGETS.filter((target) => named === undefined || named.includes(target.name));

  mkdirSync(dist, { recursive: true });
  const commit = gitCommit();
  for (const target of selected) compile(target, dist, commit);
  if (!release) return;

  for (const tool of ["tar", "gzip", "xz", "zip"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      console.error(`${tool} is missing; the release archives need tar, gzip, xz and zip (scripts/setup.sh)`);
      process.exit(1);
    }
  }
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string })
    .version;
  const stale = readdirSync(dist).filter(
    (name) => name.startsWith("skiff_") && !name.startsWith(`skiff_${version}_`),
  );
  for (const name of stale) rmSync(join(dist, name), { force: true });
  const files = selected.map(binaryName);
  await pool(
    selected.map((target) => async () => {
      const archives = await writeArchives(join(dist, binaryName(target)), target, version, dist);
      files.push(...archives);
      console.log(`packed ${archives.join(", ")}`);
    }),
    availableParallelism(),
  );
  writeFileSync(join(dist, "SHA256SUMS"), sha256Sums(dist, files));
  console.log(`wrote ${join(dist, "SHA256SUMS")} (${files.length} files)`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
