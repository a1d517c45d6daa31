/**
 * The Windows build, run under Wine (Debian's wine64, which scripts/setup.sh installs) with a
 * bcryptprimitives.dll shim built from tests/fixtures/wine-shim: version, the README's tagless example
 * pull, a push and pull against a real registry on 127.0.0.1, and Windows paths (drive letters,
 * backslashes) in `-o` and `--oci-layout`. Wine maps `Z:\` to `/` and `C:\` to the prefix's drive_c.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildTarget,
  removeBuilds,
  runCommand,
  WINE64,
  wineMissing,
  winePath,
  winePrefix,
} from "../fixtures/cross-run.ts";
import { useRegistries } from "../harness/registry.ts";
import { ROOT, tmpDir } from "../harness/skiff.ts";

const missing = wineMissing();
if (missing) console.log(`skipping the Windows smoke: ${missing}`);

describe.skipIf(missing !== undefined)("windows-x64 under Wine", () => {
  const registries = useRegistries(["plain"]);
  let binary = "";
  let prefix = "";
  /** A directory on Wine's C: drive, as `C:\<name>` and as its Linux path. */
  const driveC = { name: `skiff-test-${process.pid}-${Date.now()}`, linux: "" };
  beforeAll(() => {
    binary = buildTarget("windows-x64");
    prefix = winePrefix();
    driveC.linux = join(prefix, "drive_c", driveC.name);
    mkdirSync(driveC.linux);
  }, 300_000);
  afterAll(() => {
    if (driveC.linux) rmSync(driveC.linux, { recursive: true, force: true });
    removeBuilds();
  });

  const skiff = (args: string[], cwd?: string) =>
    runCommand(WINE64!, [binary, ...args], {
      cwd,
      wine: true,
      env: { WINEPREFIX: prefix, WINEDEBUG: "-all" },
    });

  test("version says windows/amd64", async () => {
    const run = await skiff(["version"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^OS\/Arch: +windows\/amd64\r?$/m);
  }, 60_000);

  test("the README's tagless example pull, into a Z:\\ path with backslashes", async () => {
    const out = join(tmpDir(), "demo");
    const run = await skiff(
      ["pull", "--platform", "linux/arm64/v8:el8", "oci-layout://examples/repo-layout", "-o", winePath(out)],
      ROOT,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Pulled [oci-layout] examples/repo-layout");
    expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("el8.aarch64.rpm");
    expect(readFileSync(join(out, "repodata", "repomd.xml"), "utf8")).toContain("<repomd");
  }, 60_000);

  test("pushes to and pulls from a registry", async () => {
    const work = tmpDir();
    writeFileSync(join(work, "hello.txt"), "hello from windows\n");
    const reference = registries.plain.ref("cross/windows", "v1");
    const push = await skiff(["push", "--plain-http", reference, "hello.txt"], work);
    expect(push.stderr).toBe("");
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`Pushed [registry] ${reference}`);
    const digest = /^Digest: (sha256:[0-9a-f]{64})\r?$/m.exec(push.stdout)?.[1];
    expect(digest).toBeDefined();

    const out = join(work, "out");
    const pull = await skiff([
      "pull",
      "--plain-http",
      registries.plain.ref("cross/windows", digest),
      "-o",
      winePath(out),
    ]);
    expect(pull.stderr).toBe("");
    expect(pull.code).toBe(0);
    expect(readFileSync(join(out, "hello.txt"), "utf8")).toBe("hello from windows\n");
  }, 60_000);

  test("--oci-layout C:\\dir\\layout:tag pushes into a layout on the C: drive", async () => {
    const work = tmpDir();
    writeFileSync(join(work, "a.txt"), "on drive C\n");
    const push = await skiff(["push", "--oci-layout", `C:\\${driveC.name}\\layout:v1`, "a.txt"], work);
    expect(push.stderr).toBe("");
    expect(push.code).toBe(0);
    const index = JSON.parse(readFileSync(join(driveC.linux, "layout", "index.json"), "utf8")) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    expect(index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"])).toEqual(["v1"]);
    // No directory named after the drive or the tag next to it.
    expect(existsSync(join(work, "C"))).toBe(false);
    expect(existsSync(join(driveC.linux, "layout:v1"))).toBe(false);
  }, 60_000);

  test("pulls from a layout by Z:\\ path and tag, by C:/ path and digest, into backslash and drive paths", async () => {
    const work = tmpDir();
    writeFileSync(join(work, "b.txt"), "through two drives\n");
    const layoutLinux = join(driveC.linux, "paths-layout");
    const push = await skiff(["push", "--oci-layout", `${winePath(layoutLinux)}:v2`, "b.txt"], work);
    expect(push.code).toBe(0);
    const digest = /^Digest: (sha256:[0-9a-f]{64})\r?$/m.exec(push.stdout)?.[1];
    expect(digest).toBeDefined();

    // A relative output path with a backslash, a tag after a backslashed drive path.
    const byTag = await skiff(
      ["pull", "--oci-layout", `${winePath(layoutLinux)}:v2`, "-o", "out\\tagged"],
      work,
    );
    expect(byTag.stderr).toBe("");
    expect(byTag.code).toBe(0);
    expect(readFileSync(join(work, "out", "tagged", "b.txt"), "utf8")).toBe("through two drives\n");

    // oci-layout:// with forward slashes after the drive and a digest; output on drive C.
    const byDigest = await skiff(
      ["pull", `oci-layout://C:/${driveC.name}/paths-layout@${digest}`, "-o", `C:\\${driveC.name}\\out`],
      work,
    );
    expect(byDigest.stderr).toBe("");
    expect(byDigest.code).toBe(0);
    expect(readFileSync(join(driveC.linux, "out", "b.txt"), "utf8")).toBe("through two drives\n");
  }, 60_000);

  test("a drive path without a tag resolves tagless: the drive colon is not a tag separator", async () => {
    const out = join(tmpDir(), "tagless");
    const run = await skiff([
      "pull",
      "--platform",
      "linux/amd64:el9",
      "--oci-layout",
      winePath(join(ROOT, "examples", "repo-layout")),
      "-o",
      winePath(out),
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("el9.x86_64.rpm");
  }, 60_000);
});
