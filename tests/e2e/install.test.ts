/**
 * The curl-pipe installer and the setup-skiff action against a local "release" server on 127.0.0.1:
 * it picks the archive for the OS, CPU and libc (.tar.xz, .tar.gz, .zip; the raw binary only when
 * the release has no archive), verifies SHA256SUMS, unpacks, installs, and refuses tampered files.
 * The archives are packed by scripts/build.ts's own code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { sha256Sums, TARGETS, type Target, writeArchives } from "../../scripts/build.ts";
import { ROOT, removeTmpDir, SKIFF_BINARY, tmpDir } from "../harness/skiff.ts";

const INSTALLER = join(ROOT, "scripts", "install.sh");
const VERSION = "0.1.0";
const target = (name: string): Target => TARGETS.find((candidate) => candidate.name === name)!;
/** What the installer picks on this CPU: the -baseline build when it lacks AVX2. */
const HOST_AVX2 = /^flags\b.*\savx2(\s|$)/m.test(readFileSync("/proc/cpuinfo", "utf8"));
const BASE = HOST_AVX2 ? "" : "-baseline";
const HOST_ASSET = `skiff-linux-x64${BASE}`;
const XZ = `skiff_${VERSION}_linux_amd64${BASE}.tar.xz`;
const GZ = `skiff_${VERSION}_linux_amd64${BASE}.tar.gz`;
const WINDOWS_ZIP = `skiff_${VERSION}_windows_amd64${BASE}.zip`;

/**
 * Release directories served under /<name>/:
 *   full      archives for linux x64 and its -baseline twin (.tar.xz: a stand-in, .tar.gz: the real
 *             binary), linux-musl, darwin arm64 and windows (stand-ins), and the raw host binary
 *   raw       raw binaries only, as before there were archives
 *   tampered  `full` with one byte flipped in the linux and windows archives
 *   nosum     the raw host binary, but SHA256SUMS has no line for it
 *   old       a release from before the -baseline builds: only the default linux .tar.xz
 */
const releases: Record<string, string> = {};
const requests: string[] = [];
let server: Server;
let baseUrl: string;
let releaseRoot = "";

const sha256File = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const standIn = (what: string): string => `#!/bin/sh\necho "${what} stand-in"\n`;

function writeSums(dir: string): void {
  writeFileSync(join(dir, "SHA256SUMS"), sha256Sums(dir, readdirSync(dir)));
}

function flipMiddleByte(path: string): void {
  const fd = openSync(path, "r+");
  const middle = Math.floor(statSync(path).size / 2);
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, middle);
  byte[0] = byte[0]! ^ 0xff;
  writeSync(fd, byte, 0, 1, middle);
  closeSync(fd);
}

beforeAll(async () => {
  const root = tmpDir("skiff-release-");
  releaseRoot = root;
  const stands = join(root, "stand-ins");
  mkdirSync(stands);
  const standInFile = (what: string): string => {
    const path = join(stands, what);
    writeFileSync(path, standIn(what), { mode: 0o755 });
    return path;
  };

  const full = join(root, "full");
  mkdirSync(full);
  copyFileSync(SKIFF_BINARY, join(full, HOST_ASSET));
  await writeArchives(SKIFF_BINARY, target("linux-x64"), VERSION, full, ["tar.gz"]);
  await writeArchives(standInFile("linux-xz"), target("linux-x64"), VERSION, full, ["tar.xz"]);
  // The -baseline twins hold the same files: what tells them apart here is the name requested.
  for (const kind of ["tar.gz", "tar.xz"]) {
    copyFileSync(
      join(full, `skiff_${VERSION}_linux_amd64.${kind}`),
      join(full, `skiff_${VERSION}_linux_amd64-baseline.${kind}`),
    );
  }
  for (const name of ["linux-x64-musl", "linux-x64-musl-baseline"]) {
    await writeArchives(standInFile("linux-musl"), target(name), VERSION, full);
  }
  await writeArchives(standInFile("darwin-arm64"), target("darwin-arm64"), VERSION, full, ["tar.gz"]);
  for (const name of ["windows-x64", "windows-x64-baseline"]) {
    await writeArchives(standInFile("windows"), target(name), VERSION, full);
  }
  writeSums(full);

  const raw = join(root, "raw");
  mkdirSync(raw);
  copyFileSync(SKIFF_BINARY, join(raw, HOST_ASSET));
  writeFileSync(join(raw, "skiff-darwin-arm64"), standIn("raw darwin-arm64"));
  writeFileSync(join(raw, "skiff-windows-x64.exe"), "MZ windows stand-in\n");
  writeSums(raw);

  const tampered = join(root, "tampered");
  mkdirSync(tampered);
  for (const name of readdirSync(full)) copyFileSync(join(full, name), join(tampered, name));
  flipMiddleByte(join(tampered, XZ));
  flipMiddleByte(join(tampered, GZ));
  flipMiddleByte(join(tampered, WINDOWS_ZIP));

  const nosum = join(root, "nosum");
  mkdirSync(nosum);
  copyFileSync(SKIFF_BINARY, join(nosum, HOST_ASSET));
  writeFileSync(join(nosum, "SHA256SUMS"), `${"0".repeat(64)}  skiff-darwin-arm64\n`);

  const old = join(root, "old");
  mkdirSync(old);
  copyFileSync(
    join(full, `skiff_${VERSION}_linux_amd64.tar.xz`),
    join(old, `skiff_${VERSION}_linux_amd64.tar.xz`),
  );
  writeSums(old);

  Object.assign(releases, { full, raw, tampered, nosum, old });
  server = createServer((request, response) => {
    requests.push(request.url ?? "");
    const [, release, file] = (request.url ?? "").split("/");
    const dir = releases[release ?? ""];
    const path = dir && file && !file.includes("..") ? join(dir, file) : "";
    if (!path || !existsSync(path)) {
      response.writeHead(404).end("not found\n");
      return;
    }
    response.writeHead(200, { "content-length": statSync(path).size });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(() => {
  server?.closeAllConnections();
  server?.close();
  if (releaseRoot) removeTmpDir(releaseRoot); // several copies of the binary
});

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script (async: the release server lives in this process). */
function runScript(shell: string, args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const runInstaller = (args: string[], env: Record<string, string>): Promise<ScriptRun> =>
  runScript("/bin/sh", [INSTALLER, ...args], env);

/** A PATH directory with only the named tools (symlinks to the real ones) plus optional fake scripts. */
function toolDir(tools: string[], fakes: Record<string, string> = {}): string {
  const dir = tmpDir("skiff-path-");
  for (const tool of tools) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (!found) throw new Error(`${tool} is not installed`);
    symlinkSync(found, join(dir, tool));
  }
  for (const [name, script] of Object.entries(fakes)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/** What the installer needs besides a downloader, uname and the archive tools. */
const CORE_TOOLS = ["awk", "cat", "chmod", "cp", "cut", "mkdir", "mktemp", "mv", "rm", "sha256sum"];
const TAR_GZ = ["tar", "gzip"];
const fakeUname = (os: string, cpu: string): string =>
  `case "$1" in -s) echo ${os} ;; -m) echo ${cpu} ;; *) echo ${os} ;; esac`;

function baseEnv(release: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: tmpDir("skiff-install-home-"),
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    SKIFF_BASE_URL: `${baseUrl}/${release}`,
    ...extra,
  };
}

function expectRuns(installed: string): void {
  const version = spawnSync(installed, ["version"], { encoding: "utf8" });
  expect(version.status).toBe(0);
  expect(version.stdout).toMatch(/^Version: +\d+\.\d+\.\d+/m);
}

describe("install.sh", () => {
  test("takes the .tar.xz when xz is there: verifies, unpacks, installs only the binary, says how to add it to PATH", async () => {
    const dir = join(tmpDir(), "bin");
    const seen = requests.length;
    const run = await runInstaller(["--dir", dir], baseEnv("full"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(requests.slice(seen)).toEqual(["/full/SHA256SUMS", `/full/${XZ}`]);
    expect(readdirSync(dir)).toEqual(["skiff"]);
    expect(readFileSync(join(dir, "skiff"), "utf8")).toBe(standIn("linux-xz"));
    expect(statSync(join(dir, "skiff")).mode & 0o111).toBe(0o111);
    expect(run.stdout).toContain("checksum verified");
    expect(run.stdout).toContain(`is not on your PATH`);
    expect(run.stdout).toContain(`export PATH="${dir}:$PATH"`);
  }, 60_000);

  test("takes the .tar.gz without xz, and the binary in it runs", async () => {
    const path = toolDir([...CORE_TOOLS, ...TAR_GZ, "curl", "uname"]);
    const dir = join(tmpDir(), "bin");
    const seen = requests.length;
    const run = await runInstaller(["--dir", dir], baseEnv("full", { PATH: path }));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(requests.slice(seen)).toEqual(["/full/SHA256SUMS", `/full/${GZ}`]);
    expect(sha256File(join(dir, "skiff"))).toBe(sha256File(SKIFF_BINARY));
    expectRuns(join(dir, "skiff"));
  }, 60_000);

  test("falls back to the raw binary when the release has no archive", async () => {
    const dir = join(tmpDir(), "bin");
    const seen = requests.length;
    const run = await runInstaller(["--dir", dir], baseEnv("raw"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(requests.slice(seen)).toEqual(["/raw/SHA256SUMS", `/raw/${HOST_ASSET}`]);
    expect(sha256File(join(dir, "skiff"))).toBe(sha256File(SKIFF_BINARY));
    expectRuns(join(dir, "skiff"));
  }, 60_000);

  test("takes the raw binary, and says why, when nothing here unpacks the archives", async () => {
    const path = toolDir([...CORE_TOOLS, "wget", "uname"]);
    const dir = join(tmpDir(), "bin");
    const run = await runInstaller(["--dir", dir], baseEnv("full", { PATH: path }));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("no tool here unpacks the linux_amd64 archives");
    expect(sha256File(join(dir, "skiff"))).toBe(sha256File(SKIFF_BINARY));
  }, 60_000);

  test("defaults to ~/.local/bin, honours SKIFF_INSTALL_DIR, and gives no PATH hint when the dir is on PATH", async () => {
    const env = baseEnv("full");
    const byDefault = await runInstaller([], env);
    expect(byDefault.code).toBe(0);
    expect(existsSync(join(env.HOME!, ".local", "bin", "skiff"))).toBe(true);

    const dir = join(tmpDir(), "tools");
    const onPath = await runInstaller([], { ...env, SKIFF_INSTALL_DIR: dir, PATH: `${dir}:${env.PATH}` });
    expect(onPath.code).toBe(0);
    expect(existsSync(join(dir, "skiff"))).toBe(true);
    expect(onPath.stdout).not.toContain("not on your PATH");
  }, 60_000);

  test("refuses a tampered .tar.xz, .tar.gz and .zip: non-zero exit, a checksum message, nothing installed or replaced", async () => {
    const fresh = join(tmpDir(), "fresh");
    const run = await runInstaller(["--dir", fresh], baseEnv("tampered"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`checksum mismatch for ${XZ}`);
    expect(run.stderr).toContain("refusing to install");
    expect(existsSync(fresh)).toBe(false);

    const existing = tmpDir();
    writeFileSync(join(existing, "skiff"), "the old skiff\n");
    const path = toolDir([...CORE_TOOLS, ...TAR_GZ, "curl", "uname"]);
    const again = await runInstaller(["--dir", existing], baseEnv("tampered", { PATH: path }));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`checksum mismatch for ${GZ}`);
    expect(readFileSync(join(existing, "skiff"), "utf8")).toBe("the old skiff\n");
    expect(readdirSync(existing)).toEqual(["skiff"]);

    const windows = toolDir([...CORE_TOOLS, "unzip", "curl"], {
      uname: fakeUname("MINGW64_NT-10.0-19045", "x86_64"),
    });
    const winDir = join(tmpDir(), "bin");
    const zip = await runInstaller(["--dir", winDir], baseEnv("tampered", { PATH: windows }));
    expect(zip.code).not.toBe(0);
    expect(zip.stderr).toContain(`checksum mismatch for ${WINDOWS_ZIP}`);
    expect(existsSync(winDir)).toBe(false);
  }, 60_000);

  test("refuses when SHA256SUMS has no line for the asset", async () => {
    const dir = join(tmpDir(), "bin");
    const run = await runInstaller(["--dir", dir], baseEnv("nosum"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`no checksum for ${HOST_ASSET}`);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  test("picks by uname: macOS on arm64 (.tar.gz), Windows through MINGW (.zip), and refuses SunOS", async () => {
    const archiveTools = [...CORE_TOOLS, ...TAR_GZ, "xz", "unzip", "curl"];
    const mac = toolDir(archiveTools, { uname: fakeUname("Darwin", "arm64") });
    const macDir = join(tmpDir(), "bin");
    const seen = requests.length;
    const macRun = await runInstaller(["--dir", macDir], baseEnv("full", { PATH: mac }));
    expect(macRun.code).toBe(0);
    expect(requests.slice(seen)).toEqual(["/full/SHA256SUMS", `/full/skiff_${VERSION}_darwin_arm64.tar.gz`]);
    expect(readFileSync(join(macDir, "skiff"), "utf8")).toBe(standIn("darwin-arm64"));

    const windows = toolDir(archiveTools, { uname: fakeUname("MINGW64_NT-10.0-19045", "x86_64") });
    const winDir = join(tmpDir(), "bin");
    const winRun = await runInstaller(["--dir", winDir], baseEnv("full", { PATH: windows }));
    expect(winRun.stderr).toBe("");
    expect(winRun.code).toBe(0);
    expect(winRun.stdout).toContain(`downloading ${WINDOWS_ZIP}`);
    expect(readdirSync(winDir)).toEqual(["skiff.exe"]);
    expect(readFileSync(join(winDir, "skiff.exe"), "utf8")).toBe(standIn("windows"));

    const sun = toolDir([...CORE_TOOLS, "curl"], { uname: fakeUname("SunOS", "sparc64") });
    const sunRun = await runInstaller(["--dir", join(tmpDir(), "bin")], baseEnv("full", { PATH: sun }));
    expect(sunRun.code).not.toBe(0);
    expect(sunRun.stderr).toContain("unsupported operating system: SunOS");
  }, 60_000);

  const muslLibsPresent = ["/usr/lib", "/lib", "/usr/local/lib"].some((dir) =>
    existsSync(join(dir, "libstdc++.so.6")),
  );
  if (muslLibsPresent)
    console.log("skipping the musl test: this system has libstdc++ where musl looks for it");
  test.skipIf(muslLibsPresent)(
    "on musl (ldd says so) takes the linux-musl archive and names the apk line for the missing libraries",
    async () => {
      const path = toolDir([...CORE_TOOLS, ...TAR_GZ, "xz", "curl", "uname"], {
        ldd: 'echo "musl libc (x86_64)" >&2; echo "Version 1.2.5" >&2; exit 1',
      });
      const dir = join(tmpDir(), "bin");
      const seen = requests.length;
      const run = await runInstaller(["--dir", dir], baseEnv("full", { PATH: path }));
      expect(run.code).toBe(0);
      expect(requests.slice(seen)).toEqual([
        "/full/SHA256SUMS",
        `/full/skiff_${VERSION}_linux-musl_amd64${BASE}.tar.xz`,
      ]);
      expect(readFileSync(join(dir, "skiff"), "utf8")).toBe(standIn("linux-musl"));
      expect(run.stderr).toContain("needs libstdc++.so.6 libgcc_s.so.1");
      expect(run.stderr).toContain("apk add libstdc++ libgcc");
    },
    60_000,
  );

  test("SKIFF_BASELINE=1 takes the -baseline archive (x86_64 without AVX2), on Linux and Windows", async () => {
    const dir = join(tmpDir(), "bin");
    const seen = requests.length;
    const run = await runInstaller(["--dir", dir], baseEnv("full", { SKIFF_BASELINE: "1" }));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(requests.slice(seen)).toEqual([
      "/full/SHA256SUMS",
      `/full/skiff_${VERSION}_linux_amd64-baseline.tar.xz`,
    ]);

    const windows = toolDir([...CORE_TOOLS, "unzip", "curl"], {
      uname: fakeUname("MINGW64_NT-10.0-19045", "x86_64"),
    });
    const winRun = await runInstaller(
      ["--dir", join(tmpDir(), "bin")],
      baseEnv("full", { PATH: windows, SKIFF_BASELINE: "1" }),
    );
    expect(winRun.code).toBe(0);
    expect(winRun.stdout).toContain(`downloading skiff_${VERSION}_windows_amd64-baseline.zip`);
  }, 60_000);

  test("a release without -baseline builds: warns about AVX2 and takes the default one", async () => {
    const dir = join(tmpDir(), "bin");
    const run = await runInstaller(["--dir", dir], baseEnv("old", { SKIFF_BASELINE: "1" }));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("no build for x86_64 without AVX2 (linux_amd64-baseline)");
    expect(run.stderr).toContain("Illegal instruction");
    expect(run.stdout).toContain(`downloading skiff_${VERSION}_linux_amd64.tar.xz`);
    expect(readFileSync(join(dir, "skiff"), "utf8")).toBe(standIn("linux-xz"));
  }, 60_000);

  const noNamespace =
    spawnSync("unshare", ["-m", "true"]).status === 0
      ? undefined
      : "cannot make a private mount namespace (unshare -m)";
  if (noNamespace) console.log(`skipping the /proc/cpuinfo test: ${noNamespace}`);
  test.skipIf(noNamespace !== undefined)(
    "a CPU without AVX2 (/proc/cpuinfo bind-mounted in a private mount namespace) gets the -baseline archive",
    async () => {
      const cpuinfo = join(tmpDir(), "cpuinfo");
      writeFileSync(cpuinfo, readFileSync("/proc/cpuinfo", "utf8").replace(/ avx2\b/g, ""));
      const dir = join(tmpDir(), "bin");
      const seen = requests.length;
      const script = 'mount --bind "$1" /proc/cpuinfo && exec sh "$2" --dir "$3"';
      const run = await runScript(
        "unshare",
        ["-m", "sh", "-c", script, "sh", cpuinfo, INSTALLER, dir],
        baseEnv("full"),
      );
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(requests.slice(seen)).toEqual([
        "/full/SHA256SUMS",
        `/full/skiff_${VERSION}_linux_amd64-baseline.tar.xz`,
      ]);
    },
    60_000,
  );

  test("a missing release fails with the URL it tried", async () => {
    const run = await runInstaller(["--dir", join(tmpDir(), "bin")], baseEnv("no-such-release"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`could not download ${baseUrl}/no-such-release/SHA256SUMS`);
  }, 60_000);
});

describe("action.yml (setup-skiff)", () => {
  interface ActionStep {
    name: string;
    shell: string;
    env?: Record<string, string>;
    run: string;
  }
  const action = Bun.YAML.parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as {
    inputs: Record<string, { default?: string }>;
    runs: { using: string; steps: ActionStep[] };
  };

  /**
   * Runs the action's steps with bash the way a runner does: `${{ inputs.* }}` filled in (defaults
   * from action.yml), GITHUB_ACTION_PATH at this checkout, and GITHUB_PATH's lines put on PATH for
   * the steps after the one that wrote them.
   */
  async function runAction(inputs: Record<string, string>): Promise<{ runs: ScriptRun[]; dirs: string[] }> {
    const runner = tmpDir("skiff-runner-");
    const githubPath = join(runner, "github_path");
    writeFileSync(githubPath, "");
    const value = (name: string): string => inputs[name] ?? action.inputs[name]?.default ?? "";
    const runs: ScriptRun[] = [];
    for (const step of action.runs.steps) {
      const added = readFileSync(githubPath, "utf8").split("\n").filter(Boolean).reverse();
      const env: Record<string, string> = {
        HOME: join(runner, "home"),
        PATH: [...added, process.env.PATH ?? "/usr/bin:/bin"].join(":"),
        RUNNER_TEMP: join(runner, "temp"),
        GITHUB_ACTION_PATH: ROOT,
        GITHUB_PATH: githubPath,
      };
      for (const [name, text] of Object.entries(step.env ?? {})) {
        env[name] = text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, input: string) => value(input));
      }
      expect(step.run).not.toContain("${{");
      const run = await runScript(step.shell === "bash" ? "bash" : step.shell, ["-e", "-c", step.run], env);
      runs.push(run);
      if (run.code !== 0) break;
    }
    return { runs, dirs: readFileSync(githubPath, "utf8").split("\n").filter(Boolean) };
  }

  test("is a composite action named setup-skiff with version and install-dir inputs", () => {
    expect(action.runs.using).toBe("composite");
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(["version", "install-dir"]));
    expect(action.inputs.version?.default).toBe("latest");
  });

  test("installs the verified skiff into install-dir, puts it on PATH, and the next step runs it", async () => {
    const dir = join(tmpDir(), "tools");
    const { runs, dirs } = await runAction({ "install-dir": dir, "base-url": `${baseUrl}/full` });
    expect(runs.map((run) => run.code)).toEqual(action.runs.steps.map(() => 0));
    expect(runs[0]!.stdout).toContain("checksum verified");
    expect(dirs).toEqual([dir]);
    expect(readFileSync(join(dir, "skiff"), "utf8")).toBe(standIn("linux-xz"));
    expect(runs.at(-1)!.stdout).toBe("linux-xz stand-in\n");
  }, 60_000);

  test("defaults install-dir to the runner's temp dir", async () => {
    const { runs, dirs } = await runAction({ "base-url": `${baseUrl}/raw` });
    expect(runs.every((run) => run.code === 0)).toBe(true);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toEndWith("/temp/skiff-bin");
    expect(runs.at(-1)!.stdout).toMatch(/^Version: +\d+\.\d+\.\d+/m);
  }, 60_000);

  test("fails on a tampered archive and puts nothing on PATH", async () => {
    const { runs, dirs } = await runAction({ "base-url": `${baseUrl}/tampered` });
    expect(runs).toHaveLength(1);
    expect(runs[0]!.code).not.toBe(0);
    expect(runs[0]!.stderr).toContain("checksum mismatch");
    expect(dirs).toEqual([]);
  }, 60_000);
});
