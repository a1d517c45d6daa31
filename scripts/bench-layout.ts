/**
 * Layout benchmarks with the compiled binary (issue 3):
 *   1. tagless resolve over an index.json of 10,000 entries (target < 200 ms),
 *   2. pull of a 1 GiB file from a layout vs `cp` of the same blob (target >= 80% of cp's speed),
 *   3. peak RSS of pulls of 100 MiB and 2 GiB blobs (memory independent of blob size).
 *
 *   bun scripts/build.ts --host && bun scripts/bench-layout.ts [--rounds N] [--binary PATH] [--skip-big]
 *
 * Timings are medians over alternating rounds (`sync` before each run, warm page cache), measured
 * with /usr/bin/time. Work files go to .bench/layout (ignored by git).
 */
import { spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";

const root = resolve(import.meta.dirname ?? ".", "..");
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const binary = flag("--binary") ?? join(root, "dist", "skiff-linux-x64");
const rounds = Number(flag("--rounds") ?? 5);
const work = join(root, ".bench", "layout");
mkdirSync(work, { recursive: true });

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const hex = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

interface Measured {
  seconds: number;
  maxRssKiB: number;
}

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS. */
function timed(command: string[], quiet = true): Measured {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", ...command], {
    encoding: "utf8",
    stdio: ["ignore", quiet ? "ignore" : "inherit", "pipe"],
  });
  const last = result.stderr.trim().split("\n").pop() ?? "";
  if (result.status !== 0) throw new Error(`${command.join(" ")} failed:\n${result.stderr}`);
  const [seconds, rss] = last.split(" ").map(Number);
  return { seconds: seconds!, maxRssKiB: rss! };
}

/** Wall time in ms of a command measured in-process (finer than /usr/bin/time's 10 ms). */
function wallMs(command: string[], expectFailure = false): number {
  const start = performance.now();
  const result = spawnSync(command[0]!, command.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - start;
  if ((result.status !== 0) !== expectFailure) {
    throw new Error(`${command.join(" ")} failed: ${result.stderr}`);
  }
  return ms;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function writeBlob(dir: string, bytes: Uint8Array): string {
  const digest = hex(bytes);
  writeFileSync(join(dir, "blobs", "sha256", digest), bytes);
  return `sha256:${digest}`;
}

function newLayout(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
}

/** A layout whose index.json has `count` entries with platforms; exactly one is linux/arm64/v8:el8. */
function bigIndexLayout(count: number): { dir: string; match: string } {
  const dir = join(work, "entries-10k");
  newLayout(dir);
  const empty = writeBlob(dir, new TextEncoder().encode("{}"));
  const manifest = (i: number) =>
    new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        artifactType: "application/vnd.example",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 },
        layers: [],
        annotations: { n: String(i) },
      }),
    );
  const entries = [];
  let match = "";
  for (let i = 0; i < count; i++) {
    const bytes = manifest(i);
    const digest = writeBlob(dir, bytes);
    const platform =
      i === count / 2
        ? { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" }
        : {
            os: "linux",
            architecture: i % 2 ? "amd64" : "arm64",
            variant: i % 2 ? undefined : "v8",
            "os.version": `el${1000 + i}`,
          };
    if (i === count / 2) match = digest;
    entries.push({
      mediaType: MANIFEST,
      digest,
      size: bytes.byteLength,
      platform,
      annotations: { "org.opencontainers.image.ref.name": `tag-${i}` },
    });
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  return { dir, match };
}

/** A layout with one titled random blob of `size` bytes (written in 8 MiB chunks, never whole in memory). */
function bigBlobLayout(name: string, size: number): { dir: string; blob: string } {
  const dir = join(work, name);
  newLayout(dir);
  const temp = join(dir, "blobs", "sha256", "partial");
  const fd = openSync(temp, "w");
  const hash = createHash("sha256");
  const chunk = new Uint8Array(8 << 20);
  for (let done = 0; done < size; ) {
    const n = Math.min(chunk.byteLength, size - done);
    randomFillSync(chunk, 0, n);
    hash.update(chunk.subarray(0, n));
    writeSync(fd, chunk, 0, n);
    done += n;
  }
  closeSync(fd);
  const digest = `sha256:${hash.digest("hex")}`;
  const blob = join(dir, "blobs", "sha256", digest.slice(7));
  renameSync(temp, blob);
  const empty = writeBlob(dir, new TextEncoder().encode("{}"));
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: "application/vnd.example",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest,
          size,
          annotations: { "org.opencontainers.image.title": "big.bin" },
        },
      ],
    }),
  );
  const manifestDigest = writeBlob(dir, manifest);
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MANIFEST, digest: manifestDigest, size: manifest.byteLength }],
    }),
  );
  return { dir, blob };
}

const lines: string[] = [];
const report = (line: string) => {
  lines.push(line);
  console.log(line);
};

report(`binary: ${binary} (${spawnSync(binary, ["version"], { encoding: "utf8" }).stdout.split("\n")[0]})`);
report(`rounds: ${rounds}, cpus: ${(await import("node:os")).cpus().length}`);

// 1. Resolve over 10,000 entries.
{
  const { dir, match } = bigIndexLayout(10_000);
  const cases: [string, string[], boolean][] = [
    [
      "tagless --platform linux/arm64/v8:el8 (1 match of 10,000)",
      ["resolve", "--platform", "linux/arm64/v8:el8", `oci-layout://${dir}`],
      false,
    ],
    ["tag tag-9999", ["resolve", `oci-layout://${dir}:tag-9999`], false],
    [
      "tagless, no platform (ambiguous: error listing 50 of 10,000)",
      ["resolve", `oci-layout://${dir}`],
      true,
    ],
  ];
  const out = spawnSync(binary, cases[0]![1], { encoding: "utf8" }).stdout.trim();
  if (out !== match) throw new Error(`tagless resolve returned ${out}, expected ${match}`);
  for (const [name, command, fails] of cases) {
    const times = Array.from({ length: rounds }, () => wallMs([binary, ...command], fails));
    report(
      `resolve over 10,000 entries, ${name}: median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
    );
  }
  const version = Array.from({ length: rounds }, () => wallMs([binary, "version"]));
  report(`for scale, \`skiff version\`: median ${median(version).toFixed(0)} ms`);
}

// 2 and 3. Pull of big blobs.
if (!args.includes("--skip-big")) {
  const out = join(work, "out");
  const copy = join(work, "copy.bin");
  const pullOnce = (dir: string): Measured => {
    rmSync(out, { recursive: true, force: true });
    spawnSync("sync");
    return timed([binary, "pull", `oci-layout://${dir}`, "-o", out, "--no-tty"]);
  };
  const cpOnce = (blob: string): Measured => {
    rmSync(copy, { force: true });
    spawnSync("sync");
    return timed(["cp", blob, copy]);
  };

  const gib = bigBlobLayout("blob-1g", 1 << 30);
  spawnSync("cat", [gib.blob], { stdio: ["ignore", "ignore", "ignore"] }); // warm the page cache
  const pulls: number[] = [];
  const cps: number[] = [];
  for (let i = 0; i < rounds; i++) {
    pulls.push(pullOnce(gib.dir).seconds);
    cps.push(cpOnce(gib.blob).seconds);
  }
  const pullS = median(pulls);
  const cpS = median(cps);
  report(
    `pull 1 GiB file from a layout: median ${pullS.toFixed(2)} s (${pulls.join(", ")}); cp of the blob: median ${cpS.toFixed(2)} s (${cps.join(", ")}); skiff speed = ${((cpS / pullS) * 100).toFixed(0)}% of cp`,
  );
  const hashStart = performance.now();
  spawnSync(process.execPath, [
    "-e",
    `const h=require("node:crypto").createHash("sha256");const fs=require("node:fs");const fd=fs.openSync(${JSON.stringify(gib.blob)},"r");const b=new Uint8Array(4<<20);let n;while((n=fs.readSync(fd,b))>0)h.update(b.subarray(0,n));`,
  ]);
  report(
    `for scale, reading and sha256-hashing the 1 GiB blob once in-process: ${((performance.now() - hashStart) / 1000).toFixed(2)} s`,
  );
  rmSync(copy, { force: true });

  for (const [name, size] of [
    ["100 MiB", 100 << 20],
    ["2 GiB", 2 ** 31],
  ] as const) {
    const layout = size === 1 << 30 ? gib : bigBlobLayout(`blob-${name.replace(" ", "")}`, size);
    const rss = Array.from({ length: Math.min(rounds, 3) }, () => pullOnce(layout.dir));
    report(
      `pull ${name}: peak RSS median ${(median(rss.map((r) => r.maxRssKiB)) / 1024).toFixed(0)} MiB, wall median ${median(rss.map((r) => r.seconds)).toFixed(2)} s`,
    );
    if (size > 1 << 30) rmSync(layout.dir, { recursive: true, force: true });
  }
  rmSync(out, { recursive: true, force: true });
}

writeFileSync(join(work, "results.txt"), `${lines.join("\n")}\n`);
