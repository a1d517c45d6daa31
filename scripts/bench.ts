/**
 * Transfer and layout benchmarks (issues 3, 5, 7 and 13): skiff against ORAS and skopeo on the same
 * content in the same run, alternating which goes first, every run into a fresh directory or
 * repository, output on disk. Prints the median wall time, CPU time (user + sys) and peak RSS of
 * each tool and the ratios skiff / ORAS and skiff / skopeo, next to the issue's target.
 *
 *   npx bun scripts/build.ts --host && npm run bench -- [--cases a,b] [--rounds 5] [--quick]
 *       [--mib 128] [--big-mib 1024] [--huge-mib 4096] [--parallel 10] [--binary dist/skiff-linux-x64]
 *
 * The skiff binary is `--binary`, else `SKIFF_BIN`, else dist/skiff-linux-x64. ORAS is `ORAS_BIN`,
 * else ../shared/oras-e2e/bin/oras (relative to the repository root) when it is there; without it
 * the ORAS columns stay empty. skopeo comes from PATH.
 *
 * Cases (default: all):
 *   pull-files      pull of 8 x MIB titled files          (ORAS pull; skopeo copy of the image to oci:)
 *   pull-big        pull of one BIG-MIB file               (same peers)
 *   pull-huge       pull of one HUGE-MIB file              (same peers)
 *   push-files      push of the 8 files to a fresh repo    (ORAS push; skopeo copy oci: -> docker:)
 *   cp-to-layout    cp registry -> layout, the 8-file image (ORAS cp --to-oci-layout; skopeo docker: -> oci:)
 *   cp-to-registry  cp layout -> registry, fresh repos     (ORAS cp --from-oci-layout; skopeo oci: -> docker:)
 *   parallel-pulls  PARALLEL pulls of the BIG-MIB file at once (ORAS the same)
 *   rss             peak RSS of a pull of a 100 MiB and a HUGE-MIB file
 *   layout-pull     skiff pull of a BIG-MIB file from a layout vs `cp` of the blob file
 *   resolve         tagless resolve over a 10,000-entry index.json (and two variants)
 *
 * Needs `docker-registry` and `skopeo` on PATH; the registry is the test harness's (plain HTTP on
 * 127.0.0.1). Content is written by this script as OCI layouts and pushed with skopeo, so the setup
 * does not depend on skiff. skopeo runs with `--preserve-digests` (no recompression) and a fresh
 * blob-info cache per run, so it cannot mount blobs it pushed in an earlier round.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { type RegistryHandle, startRegistry } from "../tests/harness/registry.ts";

const root = resolve(import.meta.dirname ?? ".", "..");
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const quick = args.includes("--quick");
const ROUNDS = Number(flag("rounds") ?? (quick ? 1 : 5));
const MIB = Number(flag("mib") ?? (quick ? 16 : 128));
const BIG_MIB = Number(flag("big-mib") ?? (quick ? 128 : 1024));
const HUGE_MIB = Number(flag("huge-mib") ?? (quick ? 512 : 4096));
const PARALLEL = Number(flag("parallel") ?? (quick ? 3 : 10));
const FILES = 8;
/** Sizes are multiplied, not shifted: `4096 << 20` overflows 32 bits. */
const MiB = 2 ** 20;
const BINARY = resolve(flag("binary") ?? process.env.SKIFF_BIN ?? join(root, "dist", "skiff-linux-x64"));
/** ../shared/oras-e2e/bin/oras from the repository root (from a worktree under ../wt/, one more up). */
const defaultOras = [join(root, ".."), join(root, "..", "..")]
  .map((dir) => join(dir, "shared", "oras-e2e", "bin", "oras"))
  .find((path) => existsSync(path));
const ORAS = process.env.ORAS_BIN || defaultOras;
/** The side `make` describes when there is an ORAS binary. */
const ifOras = <T>(make: (oras: string) => T): T | undefined => (ORAS ? make(ORAS) : undefined);
const ALL_CASES = [
  "pull-files",
  "pull-big",
  "pull-huge",
  "push-files",
  "cp-to-layout",
  "cp-to-registry",
  "parallel-pulls",
  "rss",
  "layout-pull",
  "resolve",
] as const;
type CaseName = (typeof ALL_CASES)[number];
const CASES = (flag("cases")?.split(",") ?? [...ALL_CASES]) as CaseName[];
for (const name of CASES) {
  if (!ALL_CASES.includes(name)) throw new Error(`unknown case ${name}; cases: ${ALL_CASES.join(", ")}`);
}
const work = join(root, ".bench", "transfer");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Content

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar";
const TITLE = "org.opencontainers.image.title";
const REF_NAME = "org.opencontainers.image.ref.name";
const sha256 = (bytes: Uint8Array | string): string =>
  `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function newLayout(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
}

function writeBlob(dir: string, bytes: Uint8Array): Desc {
  const digest = sha256(bytes);
  writeFileSync(join(dir, "blobs", "sha256", digest.slice(7)), bytes);
  return { mediaType: "application/octet-stream", digest, size: bytes.byteLength };
}

/** A random blob of `size` bytes written in 8 MiB chunks (never whole in memory); returns its path. */
function writeRandomBlob(dir: string, size: number): { path: string; digest: string } {
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
  const path = join(dir, "blobs", "sha256", digest.slice(7));
  renameSync(temp, path);
  return { path, digest };
}

/**
 * An OCI image layout tagged `v1`: a minimal image config and one titled random layer per size
 * (titled layers are files to `skiff pull`; to skopeo it is an ordinary image). Returns the layer
 * files' paths.
 */
function imageLayout(name: string, sizes: number[]): { dir: string; layers: string[] } {
  const dir = join(work, name);
  newLayout(dir);
  const layers: Desc[] = [];
  const paths: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const { path, digest } = writeRandomBlob(dir, size);
    paths.push(path);
    layers.push({ mediaType: LAYER, digest, size, annotations: { [TITLE]: `file-${i}.bin` } });
  }
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDesc = { ...writeBlob(dir, config), mediaType: "application/vnd.oci.image.config.v1+json" };
  const manifest = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: configDesc, layers }),
  );
  const manifestDesc = { ...writeBlob(dir, manifest), mediaType: MANIFEST };
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifestDesc, annotations: { [REF_NAME]: "v1" } }] }),
  );
  return { dir, layers: paths };
}

/** A layout whose index.json has `count` entries with platforms; exactly one is linux/arm64/v8:el8. */
function bigIndexLayout(count: number): { dir: string; match: string } {
  const dir = join(work, "entries-10k");
  newLayout(dir);
  const empty = writeBlob(dir, new TextEncoder().encode("{}"));
  const entries = [];
  let match = "";
  for (let i = 0; i < count; i++) {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        artifactType: "application/vnd.example",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty.digest, size: 2 },
        layers: [],
        annotations: { n: String(i) },
      }),
    );
    const { digest } = writeBlob(dir, bytes);
    const wanted = i === count / 2;
    const platform = wanted
      ? { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" }
      : {
          os: "linux",
          architecture: i % 2 ? "amd64" : "arm64",
          variant: i % 2 ? undefined : "v8",
          "os.version": `el${1000 + i}`,
        };
    if (wanted) match = digest;
    entries.push({
      mediaType: MANIFEST,
      digest,
      size: bytes.byteLength,
      platform,
      annotations: { [REF_NAME]: `tag-${i}` },
    });
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: entries }));
  return { dir, match };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  seconds: number;
  cpuSeconds: number;
  rssMiB: number;
}

/**
 * Runs a command to completion: wall time, and user + sys CPU and peak RSS from GNU time (the
 * child's own rusage is no good here: a child spawned with vfork starts exec with this process's
 * RSS as its high-water mark). Asynchronous, so the event loop keeps draining the registry's
 * output pipes meanwhile.
 */
async function run(
  command: string[],
  env: Record<string, string | undefined> = process.env,
  cwd?: string,
): Promise<Sample> {
  const usageFile = join(work, "usage.txt");
  const started = performance.now();
  const child = Bun.spawn(["/usr/bin/time", "-o", usageFile, "-f", "%U %S %M", ...command], {
    stdout: "ignore",
    stderr: "pipe",
    env,
    ...(cwd ? { cwd } : {}),
  });
  const stderr = await new Response(child.stderr).text();
  const exitCode = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  if (exitCode !== 0) throw new Error(`${command.join(" ")} failed (${exitCode}):\n${stderr}`);
  const [user, sys, maxRssKiB] = readFileSync(usageFile, "utf8")
    .trim()
    .split("\n")
    .pop()!
    .split(" ")
    .map(Number);
  return { seconds, cpuSeconds: user! + sys!, rssMiB: maxRssKiB! / 1024 };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One side of a comparison: the command for round `round`, and what to remove after it. */
interface Side {
  label: string;
  command(round: number): { argv: string[]; cwd?: string; env?: Record<string, string | undefined> };
  cleanup?(round: number): void;
}

type Peer = "oras" | "skopeo" | "cp";

interface Row {
  name: string;
  target: string;
  /** The peer the targets are measured against. */
  versus?: Peer;
  /** The wall-time ratio skiff / `versus` at or under which the target is met. */
  maxRatio?: number;
  /** The CPU-time ratio skiff / `versus` at or under which the target is met. */
  maxCpuRatio?: number;
  /** The peak RSS in MiB at or under which the target is met. */
  maxRssMiB?: number;
  skiff: Sample[];
  peers: Map<Peer, { label: string; samples: Sample[] }>;
}

const rows: Row[] = [];
const say = (line: string) => process.stderr.write(`${line}\n`);
const format = (s: Sample) =>
  `${s.seconds.toFixed(2)} s, ${s.cpuSeconds.toFixed(2)} CPU-s, ${s.rssMiB.toFixed(0)} MiB`;

/** Warm-up run of each side, then `rounds` rounds, the order of the sides rotating every round. */
async function compare(
  name: string,
  target: string,
  limits: Pick<Row, "versus" | "maxRatio" | "maxCpuRatio" | "maxRssMiB">,
  skiff: Side,
  peers: Partial<Record<Peer, Side | undefined>>,
  rounds = ROUNDS,
): Promise<void> {
  const others = Object.entries(peers).filter((entry): entry is [Peer, Side] => entry[1] !== undefined);
  const sides = [skiff, ...others.map(([, side]) => side)];
  const samples = new Map<Side, Sample[]>(sides.map((side) => [side, []]));
  const once = async (side: Side, round: number): Promise<Sample> => {
    const { argv, cwd, env } = side.command(round);
    spawnSync("sync");
    try {
      return await run(argv, env, cwd);
    } finally {
      side.cleanup?.(round);
    }
  };
  for (const side of sides) await once(side, -1); // page cache and registry warm for all
  for (let round = 0; round < rounds; round++) {
    const shift = round % sides.length;
    const order = [...sides.slice(shift), ...sides.slice(0, shift)];
    for (const side of round % 2 === 0 ? order : order.reverse()) {
      const sample = await once(side, round);
      samples.get(side)!.push(sample);
      say(`${name} round ${round + 1} ${side.label}: ${format(sample)}`);
    }
  }
  rows.push({
    name,
    target,
    ...limits,
    skiff: samples.get(skiff)!,
    peers: new Map(others.map(([peer, side]) => [peer, { label: side.label, samples: samples.get(side)! }])),
  });
}

// ---------------------------------------------------------------------------------------------
// The cases

const skiffVersion = spawnSync(BINARY, ["version"], { encoding: "utf8" }).stdout.split("\n")[0];
const skopeoVersion = spawnSync("skopeo", ["--version"], { encoding: "utf8" }).stdout.trim();
const orasVersion = ORAS
  ? spawnSync(ORAS, ["version"], { encoding: "utf8" }).stdout.split("\n")[0]
  : "no ORAS";
const home = join(work, "home");
mkdirSync(home);
const toolEnv = { ...process.env, HOME: home, DOCKER_CONFIG: join(home, ".docker") };
const out = (tool: string, round: number) => join(work, `out-${tool}-${round < 0 ? "warm" : round}`);
const removeOut = (tool: string) => (round: number) =>
  rmSync(out(tool, round), { recursive: true, force: true });

/**
 * skopeo as root keeps a blob-info cache in /var/lib/containers and would mount blobs it pushed in
 * an earlier round instead of uploading them; a private mount namespace with an empty cache
 * directory stops that without touching the machine's cache.
 */
const skopeoCache = join(work, "skopeo-cache");
function skopeo(...argv: string[]): string[] {
  rmSync(skopeoCache, { recursive: true, force: true });
  mkdirSync(skopeoCache);
  const copy = ["skopeo", "--insecure-policy", "copy", "--quiet", "--preserve-digests", ...argv];
  return [
    "unshare",
    "-m",
    "sh",
    "-c",
    `mount --bind ${skopeoCache} /var/lib/containers/cache && exec "$@"`,
    "sh",
    ...copy,
  ];
}

/** `count` copies of `argv(i)` at once, as one command (GNU time sums their CPU, keeps the largest RSS). */
function together(count: number, argv: (i: number) => string[]): string[] {
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
  const each = Array.from({ length: count }, (_, i) => `${argv(i).map(quote).join(" ")} & pids="$pids $!";`);
  return [
    "sh",
    "-c",
    `fail=0; pids=""; ${each.join(" ")} for pid in $pids; do wait $pid || fail=1; done; exit $fail`,
  ];
}

let registry: RegistryHandle | undefined;
const needsRegistry = CASES.some((c) => !["layout-pull", "resolve"].includes(c));
try {
  if (needsRegistry) registry = await startRegistry("plain");
  const host = registry?.host ?? "";
  const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
  const seeded = new Map<string, { dir: string; layers: string[] }>();
  /** The image `name` with layers of `sizes` as a layout and in the registry as `host/name:v1`. */
  const seed = async (name: string, sizes: number[]) => {
    let image = seeded.get(name);
    if (!image) {
      say(`writing ${name}: ${sizes.length} x ${sizes[0]! / MiB} MiB...`);
      image = imageLayout(name, sizes);
      await registry!.seed(`oci:${image.dir}:v1`, `${name}:v1`);
      seeded.set(name, image);
    }
    return image;
  };
  const files8 = async () =>
    seed(
      "files8",
      Array.from({ length: FILES }, () => MIB * MiB),
    );
  const skiffPull = (ref: string): Side => ({
    label: "skiff pull",
    command: (round) => ({
      argv: [BINARY, "pull", "--no-tty", "--plain-http", ref, "-o", out("skiff", round)],
      env: toolEnv,
    }),
    cleanup: removeOut("skiff"),
  });
  const orasPull = (ref: string): Side | undefined =>
    ifOras((oras) => ({
      label: "oras pull",
      command: (round) => ({
        argv: [oras, "pull", "--plain-http", ref, "-o", out("oras", round)],
        env: toolEnv,
      }),
      cleanup: removeOut("oras"),
    }));
  const skopeoToLayout = (ref: string): Side => ({
    label: "skopeo copy to oci:",
    command: (round) => ({ argv: skopeo(...tls, `docker://${ref}`, `oci:${out("skopeo", round)}:v1`) }),
    cleanup: removeOut("skopeo"),
  });
  /** Fresh repositories per tool and round (no tool finds its blobs already there). */
  let fresh = 0;
  const freshRepo = (tool: string) => `${host}/fresh-${tool}-${++fresh}:v1`;
  const pullLimits = { versus: "oras" as const, maxCpuRatio: 1.1, maxRssMiB: 100 };

  for (const name of CASES) {
    if (name === "pull-files") {
      await files8();
      const ref = `${host}/files8:v1`;
      await compare(
        `pull ${FILES} x ${MIB} MiB files`,
        "<= 1.0 x ORAS",
        { ...pullLimits, maxRatio: 1.0 },
        skiffPull(ref),
        { oras: orasPull(ref), skopeo: skopeoToLayout(ref) },
      );
    } else if (name === "pull-big" || name === "pull-huge") {
      const mib = name === "pull-big" ? BIG_MIB : HUGE_MIB;
      await seed(`file-${mib}`, [mib * MiB]);
      const ref = `${host}/file-${mib}:v1`;
      await compare(
        `pull one ${mib} MiB file`,
        "<= 0.7 x ORAS",
        { ...pullLimits, maxRatio: 0.7 },
        skiffPull(ref),
        { oras: orasPull(ref), skopeo: skopeoToLayout(ref) },
      );
    } else if (name === "push-files") {
      const image = await files8();
      const files = join(work, "push-files");
      mkdirSync(files, { recursive: true });
      const names = image.layers.map((path, i) => {
        linkSync(path, join(files, `file-${i}.bin`));
        return `file-${i}.bin`;
      });
      await compare(
        `push ${FILES} x ${MIB} MiB files to a fresh repository`,
        "<= 1.0 x ORAS",
        { versus: "oras", maxRatio: 1.0, maxRssMiB: 100 },
        {
          label: "skiff push",
          command: () => ({
            argv: [BINARY, "push", "--no-tty", "--plain-http", freshRepo("skiff"), ...names],
            cwd: files,
            env: toolEnv,
          }),
        },
        {
          oras: ifOras((oras) => ({
            label: "oras push",
            command: () => ({
              argv: [oras, "push", "--plain-http", freshRepo("oras"), ...names],
              cwd: files,
              env: toolEnv,
            }),
          })),
          skopeo: {
            label: "skopeo copy oci: to docker:",
            command: () => ({
              argv: skopeo(...tls, `oci:${image.dir}:v1`, `docker://${freshRepo("skopeo")}`),
            }),
          },
        },
      );
    } else if (name === "cp-to-layout") {
      await files8();
      const ref = `${host}/files8:v1`;
      await compare(
        `cp registry -> layout, ${FILES} x ${MIB} MiB image`,
        "<= 1.0 x ORAS",
        { versus: "oras", maxRatio: 1.0, maxRssMiB: 100 },
        {
          label: "skiff cp",
          command: (round) => ({
            argv: [
              BINARY,
              "cp",
              "--no-tty",
              "--from-plain-http",
              ref,
              `oci-layout://${out("skiff", round)}:v1`,
            ],
            env: toolEnv,
          }),
          cleanup: removeOut("skiff"),
        },
        {
          oras: ifOras((oras) => ({
            label: "oras cp --to-oci-layout",
            command: (round) => ({
              argv: [oras, "cp", "--from-plain-http", ref, "--to-oci-layout", `${out("oras", round)}:v1`],
              env: toolEnv,
            }),
            cleanup: removeOut("oras"),
          })),
          skopeo: skopeoToLayout(ref),
        },
      );
    } else if (name === "cp-to-registry") {
      const image = await files8();
      await compare(
        `cp layout -> registry, ${FILES} x ${MIB} MiB image`,
        "<= 1.0 x ORAS",
        { versus: "oras", maxRatio: 1.0, maxRssMiB: 100 },
        {
          label: "skiff cp",
          command: () => ({
            argv: [
              BINARY,
              "cp",
              "--no-tty",
              "--to-plain-http",
              `oci-layout://${image.dir}:v1`,
              freshRepo("skiff"),
            ],
            env: toolEnv,
          }),
        },
        {
          oras: ifOras((oras) => ({
            label: "oras cp --from-oci-layout",
            command: () => ({
              argv: [
                oras,
                "cp",
                "--from-oci-layout",
                `${image.dir}:v1`,
                "--to-plain-http",
                freshRepo("oras"),
              ],
              env: toolEnv,
            }),
          })),
          skopeo: {
            label: "skopeo copy oci: to docker:",
            command: () => ({
              argv: skopeo(...tls, `oci:${image.dir}:v1`, `docker://${freshRepo("skopeo")}`),
            }),
          },
        },
      );
    } else if (name === "parallel-pulls") {
      await seed(`file-${BIG_MIB}`, [BIG_MIB * MiB]);
      const ref = `${host}/file-${BIG_MIB}:v1`;
      const many = (tool: string, argv: (dir: string) => string[]): Side => ({
        label: `${PARALLEL} x ${tool} pull`,
        command: (round) => ({
          argv: together(PARALLEL, (i) => argv(join(out(tool, round), String(i)))),
          env: toolEnv,
        }),
        cleanup: removeOut(tool),
      });
      await compare(
        `${PARALLEL} parallel pulls of one ${BIG_MIB} MiB file`,
        "<= 1.2 x ORAS",
        { versus: "oras", maxRatio: 1.2, maxRssMiB: 100 },
        many("skiff", (dir) => [BINARY, "pull", "--no-tty", "--plain-http", ref, "-o", dir]),
        { oras: ifOras((oras) => many("oras", (dir) => [oras, "pull", "--plain-http", ref, "-o", dir])) },
        Math.min(ROUNDS, 3),
      );
    } else if (name === "rss") {
      for (const mib of [100, HUGE_MIB]) {
        await seed(`file-${mib}`, [mib * MiB]);
        await compare(
          `peak RSS, pull of one ${mib} MiB file`,
          "RSS <= 100 MiB",
          { maxRssMiB: 100 },
          skiffPull(`${host}/file-${mib}:v1`),
          {},
          Math.min(ROUNDS, 2),
        );
      }
    } else if (name === "layout-pull") {
      const { dir, layers } = imageLayout("layout-big", [BIG_MIB * MiB]);
      await compare(
        `pull one ${BIG_MIB} MiB file from a layout`,
        ">= 80% of cp's speed",
        { versus: "cp", maxRatio: 1.25 },
        {
          label: "skiff pull",
          command: (round) => ({
            argv: [BINARY, "pull", "--no-tty", `oci-layout://${dir}:v1`, "-o", out("skiff", round)],
          }),
          cleanup: removeOut("skiff"),
        },
        {
          cp: {
            label: "cp",
            command: (round) => ({ argv: ["cp", layers[0]!, out("cp", round)] }),
            cleanup: removeOut("cp"),
          },
        },
      );
    } else if (name === "resolve") {
      const { dir, match } = bigIndexLayout(10_000);
      const found = spawnSync(
        BINARY,
        ["resolve", "--platform", "linux/arm64/v8:el8", `oci-layout://${dir}`],
        {
          encoding: "utf8",
        },
      ).stdout.trim();
      if (found !== match) throw new Error(`tagless resolve returned ${found}, expected ${match}`);
      const resolveRounds = Math.max(ROUNDS, 5);
      await compare(
        "tagless resolve --platform over a 10,000-entry index.json",
        "<= 200 ms",
        {},
        {
          label: "skiff resolve",
          command: () => ({
            argv: [BINARY, "resolve", "--platform", "linux/arm64/v8:el8", `oci-layout://${dir}`],
          }),
        },
        {},
        resolveRounds,
      );
      await compare(
        "resolve of a tag among 10,000 entries",
        "",
        {},
        {
          label: "skiff resolve",
          command: () => ({ argv: [BINARY, "resolve", `oci-layout://${dir}:tag-9999`] }),
        },
        {},
        resolveRounds,
      );
    }
  }
} finally {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The table

const cpuSeconds = (samples: Sample[]) => median(samples.map((s) => s.cpuSeconds));
const wall = (samples: Sample[]) => median(samples.map((s) => s.seconds));
const peakRss = (samples: Sample[]) => Math.max(...samples.map((s) => s.rssMiB));
const seconds = (value: number) => (value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`);
const ratio = (skiff: number, peer: number | undefined) =>
  peer === undefined ? "" : (skiff / peer).toFixed(2);

console.log(`skiff ${skiffVersion} (${BINARY}); ORAS ${orasVersion}; ${skopeoVersion}`);
console.log(
  `${ROUNDS} rounds; ${cpus().length} CPUs; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} at the end`,
);
console.log("");
console.log(
  "| case | skiff wall | skiff CPU | skiff RSS | ORAS wall | ORAS CPU | ORAS RSS | skopeo wall | skopeo RSS | skiff/ORAS wall | skiff/ORAS CPU | skiff/skopeo wall | target | met |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) {
  const oras = row.peers.get("oras") ?? row.peers.get("cp");
  const skopeoRun = row.peers.get("skopeo");
  const versus = row.versus ? row.peers.get(row.versus) : undefined;
  const wallRatio = versus ? wall(row.skiff) / wall(versus.samples) : undefined;
  const cpuRatio = versus ? cpuSeconds(row.skiff) / cpuSeconds(versus.samples) : undefined;
  const rss = peakRss(row.skiff);
  const checks = [
    row.maxRatio === undefined || (wallRatio !== undefined && wallRatio <= row.maxRatio),
    row.maxCpuRatio === undefined || (cpuRatio !== undefined && cpuRatio <= row.maxCpuRatio),
    row.maxRssMiB === undefined || rss <= row.maxRssMiB,
    row.target !== "<= 200 ms" || wall(row.skiff) <= 0.2,
  ];
  const targets = [
    row.target,
    row.maxCpuRatio !== undefined ? `CPU <= ${row.maxCpuRatio} x ORAS` : "",
    row.maxRssMiB !== undefined && row.maxRatio !== undefined ? `RSS <= ${row.maxRssMiB} MiB` : "",
  ].filter(Boolean);
  const peerColumns = (peer: { label: string; samples: Sample[] } | undefined, withCpu: boolean) =>
    peer
      ? [
          seconds(wall(peer.samples)),
          ...(withCpu ? [seconds(cpuSeconds(peer.samples))] : []),
          `${peakRss(peer.samples).toFixed(0)} MiB`,
        ]
      : withCpu
        ? ["", "", ""]
        : ["", ""];
  console.log(
    `| ${[
      row.name,
      seconds(wall(row.skiff)),
      seconds(cpuSeconds(row.skiff)),
      `${rss.toFixed(0)} MiB`,
      ...peerColumns(oras, true),
      ...peerColumns(skopeoRun, false),
      ratio(wall(row.skiff), oras && wall(oras.samples)),
      ratio(cpuSeconds(row.skiff), oras && cpuSeconds(oras.samples)),
      ratio(wall(row.skiff), skopeoRun && wall(skopeoRun.samples)),
      targets.join("; "),
      row.target === "" ? "" : checks.every(Boolean) ? "yes" : "**no**",
    ].join(" | ")} |`,
  );
}
