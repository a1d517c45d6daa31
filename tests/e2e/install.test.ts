/**
 * The curl-pipe installer against a local "release" server on 127.0.0.1: it picks the asset for the
 * OS and CPU, verifies SHA256SUMS, installs, and refuses a tampered binary.
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
import { ROOT, SKIFF_BINARY, tmpDir } from "../harness/skiff.ts";

const INSTALLER = join(ROOT, "scripts", "install.sh");
const HOST_ASSET = "skiff-linux-x64";

/**
 * Release directories served under /<name>/: `good` (the real host binary), `small` (a small
 * stand-in host asset, for tests that never run what they install: 112 MB fewer to download),
 * `tampered` (`small` with one flipped byte), `nosum`.
 */
const releases: Record<string, string> = {};
const requests: string[] = [];
/** SHA-256 of the host binary (hashed once). */
let binarySum: string;
let server: Server;
let baseUrl: string;

const sha256File = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

function writeSums(dir: string, sums: Record<string, string>): void {
  writeFileSync(
    join(dir, "SHA256SUMS"),
    Object.entries(sums)
      .map(([name, sum]) => `${sum}  ${name}\n`)
      .join(""),
  );
}

beforeAll(async () => {
  const root = tmpDir("skiff-release-");
  const good = join(root, "good");
  mkdirSync(good);
  copyFileSync(SKIFF_BINARY, join(good, HOST_ASSET));
  // Stand-ins for the other platforms: the installer only downloads, verifies and copies them.
  writeFileSync(join(good, "skiff-darwin-arm64"), "#!/bin/sh\necho darwin-arm64 stand-in\n");
  writeFileSync(join(good, "skiff-windows-x64.exe"), "MZ windows stand-in\n");
  const sums: Record<string, string> = {};
  for (const name of [HOST_ASSET, "skiff-darwin-arm64", "skiff-windows-x64.exe"]) {
    sums[name] = sha256File(join(good, name));
  }
  writeSums(good, sums);
  binarySum = sums[HOST_ASSET]!;

  const small = join(root, "small");
  mkdirSync(small);
  writeFileSync(join(small, HOST_ASSET), `#!/bin/sh\necho linux-x64 stand-in\n${"#".repeat(64 * 1024)}\n`);
  writeSums(small, { [HOST_ASSET]: sha256File(join(small, HOST_ASSET)) });

  const tampered = join(root, "tampered");
  mkdirSync(tampered);
  copyFileSync(join(small, HOST_ASSET), join(tampered, HOST_ASSET));
  copyFileSync(join(small, "SHA256SUMS"), join(tampered, "SHA256SUMS"));
  const fd = openSync(join(tampered, HOST_ASSET), "r+");
  const middle = Math.floor(statSync(join(tampered, HOST_ASSET)).size / 2);
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, middle);
  byte[0] = byte[0]! ^ 0xff;
  writeSync(fd, byte, 0, 1, middle);
  closeSync(fd);

  const nosum = join(root, "nosum");
  mkdirSync(nosum);
  copyFileSync(join(small, HOST_ASSET), join(nosum, HOST_ASSET));
  writeSums(nosum, { "skiff-darwin-arm64": sums["skiff-darwin-arm64"]! });

  Object.assign(releases, { good, small, tampered, nosum });
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
}, 60_000);

afterAll(() => {
  server?.closeAllConnections();
  server?.close();
});

interface InstallRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sh install.sh ARGS` (async: the release server lives in this process). */
function runInstaller(args: string[], env: Record<string, string>): Promise<InstallRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", [INSTALLER, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
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

/** What the installer needs besides a downloader and uname. */
const CORE_TOOLS = ["awk", "cat", "chmod", "cp", "cut", "mkdir", "mktemp", "mv", "rm", "sha256sum"];
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

describe("install.sh", () => {
  test("installs the verified host binary into --dir, which then runs, and says how to add it to PATH", async () => {
    const dir = join(tmpDir(), "bin");
    const seen = requests.length;
    const run = await runInstaller(["--dir", dir], baseEnv("good"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(requests.slice(seen)).toEqual([`/good/${HOST_ASSET}`, "/good/SHA256SUMS"]);
    const installed = join(dir, "skiff");
    expect(sha256File(installed)).toBe(binarySum);
    expect(statSync(installed).mode & 0o111).toBe(0o111);
    expect(run.stdout).toContain("checksum verified");
    expect(run.stdout).toContain(`is not on your PATH`);
    expect(run.stdout).toContain(`export PATH="${dir}:$PATH"`);
    const version = spawnSync(installed, ["version"], { encoding: "utf8" });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^Version: +\d+\.\d+\.\d+/m);
  }, 60_000);

  test("defaults to ~/.local/bin, honours SKIFF_INSTALL_DIR, and gives no PATH hint when the dir is on PATH", async () => {
    const env = baseEnv("small");
    const byDefault = await runInstaller([], env);
    expect(byDefault.code).toBe(0);
    expect(existsSync(join(env.HOME!, ".local", "bin", "skiff"))).toBe(true);

    const dir = join(tmpDir(), "tools");
    const onPath = await runInstaller([], { ...env, SKIFF_INSTALL_DIR: dir, PATH: `${dir}:${env.PATH}` });
    expect(onPath.code).toBe(0);
    expect(existsSync(join(dir, "skiff"))).toBe(true);
    expect(onPath.stdout).not.toContain("not on your PATH");
  }, 60_000);

  test("refuses a tampered binary: non-zero exit, a checksum message, nothing installed or replaced", async () => {
    const fresh = join(tmpDir(), "fresh");
    const run = await runInstaller(["--dir", fresh], baseEnv("tampered"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("checksum mismatch");
    expect(run.stderr).toContain("refusing to install");
    expect(existsSync(fresh)).toBe(false);

    const existing = tmpDir();
    writeFileSync(join(existing, "skiff"), "the old skiff\n");
    const again = await runInstaller(["--dir", existing], baseEnv("tampered"));
    expect(again.code).not.toBe(0);
    expect(readFileSync(join(existing, "skiff"), "utf8")).toBe("the old skiff\n");
  }, 60_000);

  test("refuses when SHA256SUMS has no line for the asset", async () => {
    const dir = join(tmpDir(), "bin");
    const run = await runInstaller(["--dir", dir], baseEnv("nosum"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`no checksum for ${HOST_ASSET}`);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  test("works with wget when curl is missing", async () => {
    const path = toolDir([...CORE_TOOLS, "wget", "uname"]);
    const dir = join(tmpDir(), "bin");
    const run = await runInstaller(["--dir", dir], baseEnv("good", { PATH: path }));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(sha256File(join(dir, "skiff"))).toBe(binarySum);
  }, 60_000);

  test("picks the asset from uname: macOS on arm64, Windows through MINGW", async () => {
    const mac = toolDir([...CORE_TOOLS, "curl"], { uname: fakeUname("Darwin", "arm64") });
    const macDir = join(tmpDir(), "bin");
    const seen = requests.length;
    const macRun = await runInstaller(["--dir", macDir], baseEnv("good", { PATH: mac }));
    expect(macRun.code).toBe(0);
    expect(requests.slice(seen)).toEqual(["/good/skiff-darwin-arm64", "/good/SHA256SUMS"]);
    expect(readFileSync(join(macDir, "skiff"), "utf8")).toContain("darwin-arm64 stand-in");

    const windows = toolDir([...CORE_TOOLS, "curl"], { uname: fakeUname("MINGW64_NT-10.0-19045", "x86_64") });
    const winDir = join(tmpDir(), "bin");
    const winRun = await runInstaller(["--dir", winDir], baseEnv("good", { PATH: windows }));
    expect(winRun.code).toBe(0);
    expect(readFileSync(join(winDir, "skiff.exe"), "utf8")).toContain("windows stand-in");

    const sun = toolDir([...CORE_TOOLS, "curl"], { uname: fakeUname("SunOS", "sparc64") });
    const sunRun = await runInstaller(["--dir", join(tmpDir(), "bin")], baseEnv("good", { PATH: sun }));
    expect(sunRun.code).not.toBe(0);
    expect(sunRun.stderr).toContain("unsupported operating system: SunOS");
  }, 60_000);

  test("a missing asset fails with the URL it tried", async () => {
    const run = await runInstaller(["--dir", join(tmpDir(), "bin")], baseEnv("no-such-release"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`could not download ${baseUrl}/no-such-release/${HOST_ASSET}`);
  }, 60_000);
});
