/**
 * cp registry -> layout of an 8 x 128 MiB image: skiff vs `skopeo copy --preserve-digests`, on the
 * same local registry in the same run, alternating which goes first. Prints the median wall time,
 * the peak RSS and the ratio skiff / skopeo.
 *
 *   bun scripts/bench-transfer.ts [--rounds 5] [--layers 8] [--mib 128] [--binary dist/skiff-linux-x64]
 *
 * Needs `docker-registry` (CNCF distribution) and `skopeo` on PATH. The image is written as an OCI
 * layout by this script (random layers, a minimal image config) and pushed with skopeo, so the
 * setup does not depend on skiff's own push.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at !== -1 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const ROUNDS = Number(flag("rounds", "5"));
const LAYERS = Number(flag("layers", "8"));
const MIB = Number(flag("mib", "128"));
const BINARY = flag("binary", join(import.meta.dir, "..", "dist", "skiff-linux-x64"));

const work = mkdtempSync(join(tmpdir(), "skiff-bench-transfer-"));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startRegistry(): Promise<{ host: string; stop(): void }> {
  const port = await freePort();
  const storage = join(work, "registry");
  mkdirSync(storage);
  const config = join(work, "registry.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: error, accesslog: { disabled: true } }",
      `storage: { filesystem: { rootdirectory: ${storage} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      "",
    ].join("\n"),
  );
  const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) return { host, stop: () => child.kill("SIGTERM") };
    } catch {
      // not up yet
    }
    await Bun.sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error("docker-registry did not start");
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** An OCI layout with LAYERS random layers of MIB MiB each; returns its directory. */
function makeImageLayout(): string {
  const dir = join(work, "image");
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  const chunk = 4 * 1024 * 1024;
  for (let i = 0; i < LAYERS; i++) {
    const hash = createHash("sha256");
    const temp = join(dir, "blobs", "sha256", `layer-${i}.tmp`);
    const fd = openSync(temp, "w");
    for (let written = 0; written < MIB * 1024 * 1024; written += chunk) {
      const bytes = randomBytes(chunk);
      hash.update(bytes);
      writeSync(fd, bytes);
    }
    closeSync(fd);
    const digest = `sha256:${hash.digest("hex")}`;
    Bun.spawnSync(["mv", temp, join(dir, "blobs", "sha256", digest.slice(7))]);
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: MIB * 1024 * 1024 });
  }
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDesc = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: sha256(config),
    size: config.byteLength,
  };
  writeFileSync(join(dir, "blobs", "sha256", configDesc.digest.slice(7)), config);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: configDesc,
      layers,
    }),
  );
  const manifestDigest = sha256(manifest);
  writeFileSync(join(dir, "blobs", "sha256", manifestDigest.slice(7)), manifest);
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifestDigest,
          size: manifest.byteLength,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    }),
  );
  return dir;
}

interface Sample {
  seconds: number;
  rssMiB: number;
  /** User + system CPU time of the process. */
  cpuSeconds: number;
}

function run(command: string[], env: Record<string, string | undefined> = process.env): Sample {
  const started = performance.now();
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe", env });
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0) {
    throw new Error(`${command.join(" ")} failed (${result.exitCode}):\n${result.stderr.toString()}`);
  }
  const usage = result.resourceUsage;
  return {
    seconds,
    rssMiB: (usage?.maxRSS ?? 0) / (1024 * 1024),
    cpuSeconds: Number(usage?.cpuTime.total ?? 0n) / 1e6,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const skopeoVersion = spawnSync("skopeo", ["--version"], { encoding: "utf8" }).stdout.trim();
  const skiffVersion = spawnSync(BINARY, ["version"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
  const registry = await startRegistry();
  const home = join(work, "home");
  mkdirSync(home);
  const env = { ...process.env, HOME: home, DOCKER_CONFIG: join(home, ".docker") };
  try {
    process.stderr.write(`writing ${LAYERS} x ${MIB} MiB layers...\n`);
    const image = makeImageLayout();
    run(
      [
        "skopeo",
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        `oci:${image}:v1`,
        `docker://${registry.host}/bench:v1`,
      ],
      env,
    );
    rmSync(image, { recursive: true, force: true });
    const source = `${registry.host}/bench:v1`;
    const tools = {
      skiff: (out: string) => [
        BINARY,
        "cp",
        "--no-tty",
        "--from-plain-http",
        source,
        `oci-layout://${out}:v1`,
      ],
      skopeo: (out: string) => [
        "skopeo",
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        `docker://${source}`,
        `oci:${out}:v1`,
      ],
    } as const;
    const samples: Record<keyof typeof tools, Sample[]> = { skiff: [], skopeo: [] };
    // One warm-up each, so the registry's storage is in the page cache for both.
    for (const name of ["skiff", "skopeo"] as const) {
      const out = join(work, `warm-${name}`);
      run(tools[name](out), env);
      rmSync(out, { recursive: true, force: true });
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["skiff", "skopeo"] as const) : (["skopeo", "skiff"] as const);
      for (const name of order) {
        const out = join(work, `out-${name}-${round}`);
        const sample = run(tools[name](out), env);
        samples[name].push(sample);
        rmSync(out, { recursive: true, force: true });
        process.stderr.write(
          `round ${round + 1} ${name}: ${sample.seconds.toFixed(2)} s, ${sample.cpuSeconds.toFixed(2)} CPU-s, ${sample.rssMiB.toFixed(0)} MiB\n`,
        );
      }
    }
    const skiffWall = median(samples.skiff.map((s) => s.seconds));
    const skopeoWall = median(samples.skopeo.map((s) => s.seconds));
    const peak = (name: keyof typeof tools) => Math.max(...samples[name].map((s) => s.rssMiB));
    console.log(`cp registry -> layout, ${LAYERS} x ${MIB} MiB, ${ROUNDS} paired rounds (alternating order)`);
    console.log(`skiff:  ${skiffVersion}`);
    console.log(`skopeo: ${skopeoVersion}`);
    const cpu = (name: keyof typeof tools) => median(samples[name].map((s) => s.cpuSeconds));
    console.log("| tool | median wall | median CPU | peak RSS |");
    console.log("|---|---|---|---|");
    console.log(
      `| skiff cp | ${skiffWall.toFixed(2)} s | ${cpu("skiff").toFixed(2)} s | ${peak("skiff").toFixed(0)} MiB |`,
    );
    console.log(
      `| skopeo copy --preserve-digests | ${skopeoWall.toFixed(2)} s | ${cpu("skopeo").toFixed(2)} s | ${peak("skopeo").toFixed(0)} MiB |`,
    );
    console.log(`ratio skiff / skopeo (wall): ${(skiffWall / skopeoWall).toFixed(2)}`);
  } finally {
    registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
