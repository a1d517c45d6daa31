/**
 * The linux-arm64 build, run under qemu-aarch64 with Debian's arm64 C library (qemu-user and
 * libc6-arm64-cross, which scripts/setup.sh installs): version, the README's tagless example pull,
 * and a push and pull against a real registry on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ARM64_SYSROOT,
  arm64Missing,
  buildTarget,
  QEMU_AARCH64,
  removeBuilds,
  runCommand,
} from "../fixtures/cross-run.ts";
import { useRegistries } from "../harness/registry.ts";
import { ROOT, tmpDir } from "../harness/skiff.ts";

const missing = arm64Missing();
if (missing) console.log(`skipping the arm64 smoke: ${missing}`);

describe.skipIf(missing !== undefined)("linux-arm64 under qemu-aarch64", () => {
  const registries = useRegistries(["plain"]);
  let binary = "";
  beforeAll(() => {
    binary = buildTarget("linux-arm64");
  }, 180_000);
  afterAll(removeBuilds);
  const skiff = (args: string[], cwd?: string) =>
    runCommand(QEMU_AARCH64!, ["-L", ARM64_SYSROOT, binary, ...args], { cwd });

  test("version says linux/arm64", async () => {
    const run = await skiff(["version"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^OS\/Arch: +linux\/arm64$/m);
  }, 60_000);

  test("the README's tagless example pull writes the el8 arm64 files", async () => {
    const out = join(tmpDir(), "demo");
    const run = await skiff(
      ["pull", "--platform", "linux/arm64/v8:el8", "oci-layout://examples/repo-layout", "-o", out],
      ROOT,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Pulled [oci-layout] examples/repo-layout");
    expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("aarch64");
    expect(readFileSync(join(out, "repodata", "repomd.xml"), "utf8")).toContain("<repomd");
  }, 60_000);

  test("pushes to and pulls from a registry", async () => {
    const work = tmpDir();
    writeFileSync(join(work, "hello.txt"), "hello from arm64\n");
    const reference = registries.plain.ref("cross/arm64", "v1");
    const push = await skiff(["push", "--plain-http", reference, "hello.txt"], work);
    expect(push.stderr).toBe("");
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`Pushed [registry] ${reference}`);
    const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(push.stdout)?.[1];
    expect(digest).toBeDefined();

    const pull = await skiff([
      "pull",
      "--plain-http",
      registries.plain.ref("cross/arm64", digest),
      "-o",
      join(work, "out"),
    ]);
    expect(pull.stderr).toBe("");
    expect(pull.code).toBe(0);
    expect(readFileSync(join(work, "out", "hello.txt"), "utf8")).toBe("hello from arm64\n");
  }, 60_000);
});
