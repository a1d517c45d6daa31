/**
 * README's two commands stay in their form: (a) is `bash scripts/setup.sh && build && example pull &&
 * ls`, (b) is `npm test`, and .ci/run calls the same set-up script and test command. The pull part of
 * (a) is run for real; scripts/setup.sh runs with fake `apt-get`, `sudo`, `id` and `npm` on PATH, to
 * show what it would install: only what is missing, sudo only when not root, npm only when absent.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tmpDir } from "../harness/skiff.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");
const SETUP = join(ROOT, "scripts", "setup.sh");

/** The one-line `sh` block after the paragraph that starts with `**(label)`. */
function command(label: string): string {
  const match = new RegExp(`^\\*\\*\\(${label}\\)[^]*?\\n\\n\`\`\`sh\\n([^\\n]*)\\n\`\`\`$`, "m").exec(
    readme,
  );
  if (!match) throw new Error(`README.md has no one-line sh block under **(${label})`);
  return match[1]!;
}

const EXAMPLE_PULL =
  "./dist/skiff-linux-x64 pull --platform linux/arm64/v8:el8 oci-layout://examples/repo-layout -o /tmp/skiff-demo";

describe("README command (a)", () => {
  test("is set-up script, host build, the tagless example pull, ls: no sudo, no apt-get of its own", () => {
    const parts = command("a").split(" && ");
    expect(parts).toEqual([
      "bash scripts/setup.sh",
      "npm run build -- --host",
      EXAMPLE_PULL,
      "ls -R /tmp/skiff-demo",
    ]);
  });

  test("its pull and ls, run as written from the repository root, print the pulled files", () => {
    const out = join(tmpDir(), "skiff-demo");
    const tail = command("a").split(" && ").slice(2).join(" && ").replaceAll("/tmp/skiff-demo", out);
    const run = spawnSync("bash", ["-c", tail], { cwd: ROOT, encoding: "utf8", env: { ...process.env } });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Pulled [oci-layout] examples/repo-layout\n");
    expect(run.stdout).toMatch(/^packages\.txt$/m);
    expect(run.stdout).toMatch(/^repomd\.xml$/m);
    expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("el8.aarch64.rpm");
  }, 60_000);
});

describe("README command (b) and .ci/run", () => {
  test("(b) is npm test, the command .ci/run runs after the same set-up script", () => {
    expect(command("b")).toBe("npm test");
    expect(ci).toMatch(/^bash scripts\/setup\.sh <\/dev\/null$/m);
    expect(ci).toMatch(/^npm test <\/dev\/null$/m);
    expect(ci).not.toMatch(/apt-get/);
  });
});

describe("scripts/setup.sh", () => {
  /** command -> Debian package, as the script declares them. */
  const provider = Object.fromEntries(
    [...readFileSync(SETUP, "utf8").matchAll(/^ {2}\[([\w.+-]+)\]=([\w.+-]+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const BASIC = ["bash", "env", "sort", "dirname", "cat"];

  /**
   * Runs setup.sh with a PATH of the basic tools, fakes for `present` commands, and fakes of `id`
   * (answering `uid`), `apt-get`, `npm` and optionally `sudo` that log their arguments.
   */
  function setup(options: { uid: number; present: string[]; sudo: boolean }) {
    const bin = tmpDir("skiff-setup-path-");
    const log = join(bin, "calls.log");
    writeFileSync(log, "");
    for (const tool of BASIC) {
      symlinkSync(
        spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(),
        join(bin, tool),
      );
    }
    const fake = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!${join(bin, "bash")}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    for (const name of options.present) fake(name, "exit 0");
    fake("id", `echo ${options.uid}`);
    fake("apt-get", `echo "apt-get $*" >> ${log}`);
    if (options.present.includes("npm")) fake("npm", `echo "npm $*" >> ${log}`);
    if (options.sudo) fake("sudo", `echo "sudo $1" >> ${log}; exec "$@"`);
    const run = spawnSync(join(bin, "bash"), [SETUP], {
      encoding: "utf8",
      env: { PATH: bin, HOME: tmpDir("skiff-setup-home-") },
    });
    return { ...run, calls: readFileSync(log, "utf8").trim().split("\n").filter(Boolean) };
  }
  /** The packages of the one `apt-get install` call (after its flags), or undefined without one. */
  const installed = (calls: string[]): string[] | undefined =>
    calls
      .find((call) => call.startsWith("apt-get install"))
      ?.split(" ")
      .slice(4);
  const sysrootMissing = !existsSync("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1");

  test("declares the build, test and cross-test tools", () => {
    expect(provider).toMatchObject({
      node: "nodejs",
      npm: "npm",
      "docker-registry": "docker-registry",
      skopeo: "skopeo",
      xz: "xz-utils",
      zip: "zip",
      "qemu-aarch64": "qemu-user",
      "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64",
    });
  });

  test("as root with Node.js and npm present: apt-get without sudo, never for npm or nodejs, then npm ci", () => {
    const present = Object.keys(provider).filter((name) => name !== "docker-registry" && name !== "skopeo");
    const run = setup({ uid: 0, present: [...present, "sudo"], sudo: true });
    expect(run.status).toBe(0);
    expect(run.calls.some((call) => call.startsWith("sudo"))).toBe(false);
    expect(run.calls[0]).toBe("apt-get update");
    const packages = installed(run.calls)!;
    expect(packages).toEqual(expect.arrayContaining(["ca-certificates", "docker-registry", "skopeo"]));
    expect(packages).not.toContain("npm");
    expect(packages).not.toContain("nodejs");
    expect(run.calls.at(-1)).toBe("npm ci --no-audit --no-fund");
  });

  test("as a user: through sudo, with nodejs and npm when both are absent", () => {
    const present = Object.keys(provider).filter((name) => name !== "node" && name !== "npm");
    const run = setup({ uid: 1000, present, sudo: true });
    expect(run.calls.slice(0, 2)).toEqual(["sudo env", "apt-get update"]);
    expect(run.calls[2]).toBe("sudo env");
    expect(installed(run.calls)).toEqual(expect.arrayContaining(["nodejs", "npm"]));
    // npm itself is absent in this fake world, so the script stops at npm ci.
    expect(run.status).not.toBe(0);
  });

  test("as a user without sudo: says to run as root, installs nothing", () => {
    const run = setup({ uid: 1000, present: ["npm"], sudo: false });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("needs root: run this as root, or install sudo");
    expect(run.calls).toEqual([]);
  });

  test("with everything present: no apt-get at all, just npm ci", () => {
    const run = setup({ uid: 0, present: [...Object.keys(provider), "wine64"], sudo: false });
    expect(run.status).toBe(0);
    // The arm64 C library is a file, not a command: the one thing this machine itself may lack.
    expect(installed(run.calls)).toEqual(
      sysrootMissing ? ["ca-certificates", "libc6-arm64-cross"] : undefined,
    );
    expect(run.calls.at(-1)).toBe("npm ci --no-audit --no-fund");
  });
});
