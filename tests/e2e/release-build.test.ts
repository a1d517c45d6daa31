/**
 * scripts/build.ts's release side: the musl and arm64 targets link against the right loader (`file`
 * shows the interpreter; the musl builds cannot run here), and the archives hold `skiff`, LICENSE and
 * README.md under ORAS-style names, with a SHA256SUMS that `sha256sum -c` accepts.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  archiveStem,
  binaryName,
  sha256Sums,
  TARGETS,
  type Target,
  writeArchives,
} from "../../scripts/build.ts";
import { ROOT, removeTmpDir, tmpDir } from "../harness/skiff.ts";

const has = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const target = (name: string): Target => TARGETS.find((candidate) => candidate.name === name)!;

describe("release targets", () => {
  test("are the seven platforms plus three x86_64 -baseline twins, each with a raw binary name and an archive stem", () => {
    expect(TARGETS.map(binaryName)).toEqual([
      "skiff-linux-x64",
      "skiff-linux-arm64",
      "skiff-linux-x64-musl",
      "skiff-linux-arm64-musl",
      "skiff-darwin-x64",
      "skiff-darwin-arm64",
      "skiff-windows-x64.exe",
      "skiff-linux-x64-baseline",
      "skiff-linux-x64-musl-baseline",
      "skiff-windows-x64-baseline.exe",
    ]);
    expect(TARGETS.map((each) => archiveStem(each, "1.2.3"))).toEqual([
      "skiff_1.2.3_linux_amd64",
      "skiff_1.2.3_linux_arm64",
      "skiff_1.2.3_linux-musl_amd64",
      "skiff_1.2.3_linux-musl_arm64",
      "skiff_1.2.3_darwin_amd64",
      "skiff_1.2.3_darwin_arm64",
      "skiff_1.2.3_windows_amd64",
      "skiff_1.2.3_linux_amd64-baseline",
      "skiff_1.2.3_linux-musl_amd64-baseline",
      "skiff_1.2.3_windows_amd64-baseline",
    ]);
  });

  const noFile = has("file") ? undefined : "`file` is not installed (Debian: file)";
  if (noFile) console.log(`skipping the interpreter check: ${noFile}`);
  test.skipIf(noFile !== undefined)(
    "the musl builds ask for the musl loader (they cannot run here: no musl); the -baseline build runs",
    () => {
      const outdir = tmpDir("skiff-musl-build-");
      try {
        const build = spawnSync(
          process.execPath,
          [
            join(ROOT, "scripts", "build.ts"),
            "--target",
            "linux-x64-musl,linux-arm64-musl,linux-x64-baseline",
            "--outdir",
            outdir,
          ],
          { cwd: ROOT, encoding: "utf8" },
        );
        expect(build.stderr).toBe("");
        expect(build.status).toBe(0);
        const fileOf = (name: string): string =>
          spawnSync("file", ["-b", join(outdir, name)], { encoding: "utf8" }).stdout;
        expect(fileOf("skiff-linux-x64-musl")).toContain("x86-64");
        expect(fileOf("skiff-linux-x64-musl")).toContain("interpreter /lib/ld-musl-x86_64.so.1");
        expect(fileOf("skiff-linux-arm64-musl")).toContain("ARM aarch64");
        expect(fileOf("skiff-linux-arm64-musl")).toContain("interpreter /lib/ld-musl-aarch64.so.1");
        // The -baseline build is an ordinary glibc binary that runs here.
        expect(fileOf("skiff-linux-x64-baseline")).toContain("interpreter /lib64/ld-linux-x86-64.so.2");
        const version = spawnSync(join(outdir, "skiff-linux-x64-baseline"), ["version"], {
          encoding: "utf8",
        });
        expect(version.status).toBe(0);
        expect(version.stdout).toMatch(/^OS\/Arch: +linux\/amd64$/m);
      } finally {
        removeTmpDir(outdir); // over 300 MB of binaries
      }
    },
    180_000,
  );
});

const noTools = ["tar", "gzip", "xz", "zip", "unzip", "sha256sum"].filter((tool) => !has(tool));
if (noTools.length > 0) console.log(`skipping the archive checks: ${noTools.join(", ")} not installed`);

describe.skipIf(noTools.length > 0)("release archives", () => {
  const members = (list: string): string[] => list.trim().split("\n").sort();

  test("a unix target gets .tar.gz and .tar.xz with skiff, LICENSE and README.md; SHA256SUMS checks", async () => {
    const dir = tmpDir();
    const binary = join(dir, "binary");
    writeFileSync(binary, "#!/bin/sh\necho packed\n", { mode: 0o755 });
    const written = await writeArchives(binary, target("linux-arm64-musl"), "9.9.9", dir);
    expect(written).toEqual(["skiff_9.9.9_linux-musl_arm64.tar.gz", "skiff_9.9.9_linux-musl_arm64.tar.xz"]);
    for (const name of written) {
      const list = spawnSync("tar", ["-tvf", join(dir, name)], { encoding: "utf8" });
      expect(list.status).toBe(0);
      expect(members(list.stdout.replace(/^.* /gm, ""))).toEqual(["LICENSE", "README.md", "skiff"]);
      expect(list.stdout).toMatch(/^-rwxr-xr-x 0\/0 .* skiff$/m);
    }
    const unpacked = spawnSync("sh", ["-c", 'tar -xzf "$1" -O skiff', "sh", join(dir, written[0]!)], {
      encoding: "utf8",
    });
    expect(unpacked.stdout).toBe("#!/bin/sh\necho packed\n");
    const license = spawnSync(
      "sh",
      ["-c", 'xz -dc "$1" | tar -xf - -O LICENSE', "sh", join(dir, written[1]!)],
      {
        encoding: "utf8",
      },
    );
    expect(license.stdout).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));

    writeFileSync(join(dir, "SHA256SUMS"), sha256Sums(dir, [...written, "binary"]));
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
    expect(check.stdout).toBe(
      "binary: OK\nskiff_9.9.9_linux-musl_arm64.tar.gz: OK\nskiff_9.9.9_linux-musl_arm64.tar.xz: OK\n",
    );
    expect(check.status).toBe(0);
  }, 60_000);

  test("the same input packs to the same bytes", async () => {
    const binary = join(tmpDir(), "binary");
    writeFileSync(binary, "same\n", { mode: 0o755 });
    const [first, second] = [tmpDir(), tmpDir()];
    await writeArchives(binary, target("darwin-x64"), "1.0.0", first);
    await writeArchives(binary, target("darwin-x64"), "1.0.0", second);
    expect(sha256Sums(first, ["skiff_1.0.0_darwin_amd64.tar.gz", "skiff_1.0.0_darwin_amd64.tar.xz"])).toBe(
      sha256Sums(second, ["skiff_1.0.0_darwin_amd64.tar.gz", "skiff_1.0.0_darwin_amd64.tar.xz"]),
    );
  }, 60_000);

  test("windows gets a .zip with skiff.exe, LICENSE and README.md", async () => {
    const dir = tmpDir();
    const binary = join(dir, "binary.exe");
    writeFileSync(binary, "MZ stand-in\n");
    const written = await writeArchives(binary, target("windows-x64"), "9.9.9", dir);
    expect(written).toEqual(["skiff_9.9.9_windows_amd64.zip"]);
    const list = spawnSync("unzip", ["-Z1", join(dir, written[0]!)], { encoding: "utf8" });
    expect(list.status).toBe(0);
    expect(members(list.stdout)).toEqual(["LICENSE", "README.md", "skiff.exe"]);
  }, 60_000);
});
