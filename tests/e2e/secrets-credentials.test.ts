/**
 * Secrets: passwords and tokens never appear in --debug output, in error messages, or in the
 * process arguments or environment when --password-stdin is used; config.json is written
 * atomically with mode 0600; tokens live in memory only; credentials go only to the host that
 * challenged for them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import { PASSWORD_WARNING, type RunResult, runSkiff, startSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "basic", "token"]);
let files: string;

beforeAll(() => {
  files = tmpDir("skiff-secrets-files-");
  writeFileSync(join(files, "a.txt"), "secret-free content\n");
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Every form in which a credential could leak. */
function secretForms(registry: RegistryHandle): string[] {
  const forms = [
    registry.password!,
    b64(`${registry.username}:${registry.password}`),
    encodeURIComponent(registry.password!),
  ];
  for (const issued of registry.token?.issued ?? []) forms.push(issued.token, issued.token.split(".")[2]!);
  if (registry.token) forms.push(registry.token.refreshToken);
  return forms.filter((form) => form.length >= 8);
}

function expectNoSecrets(text: string, registry: RegistryHandle, where: string): void {
  for (const form of secretForms(registry)) {
    expect({ where, leaked: text.includes(form) ? `${form.slice(0, 6)}...` : null }).toEqual({
      where,
      leaked: null,
    });
  }
}

/** All text in files under `dir` (recursively). */
function filesText(dir: string): string {
  let out = "";
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) out += filesText(path);
    else if (info.size < 10 * 1024 * 1024) out += readFileSync(path, "latin1");
  }
  return out;
}

function login(registry: RegistryHandle): string[] {
  return ["-u", registry.username!, "-p", registry.password!];
}

describe("--debug output and error messages", () => {
  for (const mode of ["basic", "token"] as const) {
    test(`${mode} mode: push and pull with --debug print no password, auth header or token`, async () => {
      const registry = registries[mode];
      const ref = `${registry.host}/secrets/debug:v1`;
      const pushed = await runSkiff(["push", "--plain-http", "--debug", ...login(registry), ref, "a.txt"], {
        cwd: files,
      });
      expect(pushed.code).toBe(0);
      const out = tmpDir("skiff-secrets-out-");
      const pulled = await runSkiff(["pull", "--plain-http", "--debug", ...login(registry), ref, "-o", out]);
      expect(pulled.code).toBe(0);
      // The debug log is real: it shows the requests, and that an Authorization header was sent (scrubbed).
      expect(pulled.stderr).toMatch(/GET http:\/\/.*\/v2\//);
      expect(pulled.stderr.toLowerCase()).toContain("authorization");
      if (mode === "token") expect(registry.token!.issued.length).toBeGreaterThan(0);
      for (const [name, run] of [
        ["push", pushed],
        ["pull", pulled],
      ] as const) {
        expectNoSecrets(run.stderr, registry, `${mode} ${name} stderr`);
        expectNoSecrets(run.stdout, registry, `${mode} ${name} stdout`);
      }
    });

    test(`${mode} mode: a wrong password is refused with a clear error that does not contain it`, async () => {
      const registry = registries[mode];
      const wrong = `Wr0ng-${crypto.randomUUID()}`;
      const result = await runSkiff([
        "pull",
        "--plain-http",
        "--debug",
        "-u",
        registry.username!,
        "-p",
        wrong,
        `${registry.host}/secrets/debug:v1`,
        "-o",
        tmpDir("skiff-secrets-out-"),
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/^Error: .*(auth|credential|unauthorized|denied|password)/im);
      expect(result.stderr).not.toContain(wrong);
      expect(result.stderr).not.toContain(b64(`${registry.username}:${wrong}`));
      expect(result.stdout).not.toContain(wrong);
    });
  }

  test("token mode: an identity (refresh) token never shows in --debug output", async () => {
    const registry = registries.token;
    const result = await runSkiff([
      "pull",
      "--plain-http",
      "--debug",
      "--identity-token",
      registry.token!.refreshToken,
      `${registry.host}/secrets/debug:v1`,
      "-o",
      tmpDir("skiff-secrets-out-"),
    ]);
    expect({ code: result.code, error: result.stderr.match(/^Error: .*/m)?.[0] ?? null }).toEqual({
      code: 0,
      error: null,
    });
    expectNoSecrets(result.stderr, registry, "identity-token pull stderr");
  });
});

/** Starts skiff, samples /proc/PID/cmdline and environ while it runs, then waits for it. */
async function runSampled(
  args: string[],
  stdin: string,
  home: string,
): Promise<{ code: number | null; stderr: string; samples: string[] }> {
  const run = startSkiff(args, { cwd: home, home, stdin });
  const samples: string[] = [];
  let running = true;
  const ended = () => {
    running = false;
  };
  void run.result.then(ended, ended);
  while (running) {
    try {
      samples.push(readFileSync(`/proc/${run.pid}/cmdline`, "latin1"));
      samples.push(readFileSync(`/proc/${run.pid}/environ`, "latin1"));
    } catch {
      // gone between the check and the read
    }
    await Bun.sleep(20);
  }
  const { code, stderr } = await run.result;
  return { code, stderr, samples };
}

describe("--password-stdin keeps the password out of the process table", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: registries.basic.url });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  test("pull --password-stdin: /proc/PID/cmdline and environ never hold the password while it runs", async () => {
    const registry = registries.basic;
    // Seed, then slow every answer down so the process lives long enough to be sampled many times.
    const seeded = await runSkiff(
      ["push", "--plain-http", ...login(registry), `${registry.host}/secrets/stdin:v1`, "a.txt"],
      { cwd: files },
    );
    expect(seeded.code).toBe(0);
    proxy.clearRules();
    proxy.addRule({ path: /^\/v2\//, fault: { kind: "delay", ms: 300 }, times: Number.POSITIVE_INFINITY });
    const home = tmpDir("skiff-secrets-home-");
    const run = await runSampled(
      [
        "pull",
        "--plain-http",
        "-u",
        registry.username!,
        "--password-stdin",
        `${proxy.host}/secrets/stdin:v1`,
        "-o",
        join(home, "out"),
      ],
      `${registry.password}\n`,
      home,
    );
    proxy.clearRules();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.samples.length).toBeGreaterThan(10);
    expect(run.samples.some((s) => s.includes("--password-stdin"))).toBe(true);
    for (const sample of run.samples) expect(sample.includes(registry.password!)).toBe(false);
  });

  test("login --password-stdin: the same, and the stored config is mode 0600", async () => {
    const registry = registries.basic;
    proxy.clearRules();
    proxy.addRule({ path: /^\/v2\//, fault: { kind: "delay", ms: 500 }, times: Number.POSITIVE_INFINITY });
    const home = tmpDir("skiff-secrets-home-");
    const run = await runSampled(
      ["login", "--plain-http", "-u", registry.username!, "--password-stdin", proxy.host],
      `${registry.password}\n`,
      home,
    );
    proxy.clearRules();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.samples.length).toBeGreaterThan(5);
    for (const sample of run.samples) expect(sample.includes(registry.password!)).toBe(false);
    const config = join(home, ".docker", "config.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
  });
});

describe("config.json", () => {
  test("login writes config.json with mode 0600, keeps other settings, and replaces it atomically", async () => {
    const registry = registries.basic;
    const home = tmpDir("skiff-secrets-home-");
    const dockerDir = join(home, ".docker");
    mkdirSync(dockerDir, { recursive: true });
    const config = join(dockerDir, "config.json");
    const before = { auths: { "other.example": { auth: b64("x:y") } }, psFormat: "table {{.ID}}" };
    writeFileSync(config, JSON.stringify(before), { mode: 0o644 });
    const inodeBefore = statSync(config).ino;
    const result = await runSkiff(
      ["login", "--plain-http", "-u", registry.username!, "--password-stdin", registry.host],
      { home, stdin: `${registry.password}\n` },
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toContain("Login Succeeded");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    // A new file took the name (rename), not a rewrite in place that a crash could truncate.
    expect(statSync(config).ino).not.toBe(inodeBefore);
    const after = JSON.parse(readFileSync(config, "utf8"));
    expect(after.psFormat).toBe(before.psFormat);
    expect(after.auths["other.example"]).toEqual(before.auths["other.example"]);
    expect(Buffer.from(after.auths[registry.host].auth, "base64").toString()).toBe(
      `${registry.username}:${registry.password}`,
    );
    expect(readdirSync(dockerDir).filter((name) => name !== "config.json")).toEqual([]);
    // The stored login works without flags.
    const pulled = await runSkiff(["resolve", "--plain-http", `${registry.host}/secrets/debug:v1`], { home });
    expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: "" });
    const logout = await runSkiff(["logout", registry.host], { home });
    expect(logout.code).toBe(0);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, "utf8")).auths[registry.host]).toBeUndefined();
  });

  test("kill -9 during 20 logins: config.json is always the old or the new file, never torn", async () => {
    const registry = registries.basic;
    const home = tmpDir("skiff-secrets-home-");
    const dockerDir = join(home, ".docker");
    mkdirSync(dockerDir, { recursive: true });
    const config = join(dockerDir, "config.json");
    const old = JSON.stringify({ auths: { "keep.example": { auth: b64("k:v") } }, pad: "p".repeat(200_000) });
    const args = ["login", "--plain-http", "-u", registry.username!, "--password-stdin", registry.host];
    const options = { home, stdin: `${registry.password}\n` };
    // One kill point per twentieth of a measured login, at a random place inside it: a busy
    // machine slows the logins and the kills alike.
    writeFileSync(config, old, { mode: 0o600 });
    const measured = await runSkiff(args, options);
    expect({ code: measured.code, stderr: measured.stderr }).toEqual({ code: 0, stderr: "" });
    let torn = 0;
    let killed = 0;
    let replaced = 0;
    for (let k = 0; k < 20; k++) {
      writeFileSync(config, old, { mode: 0o600 });
      const run = startSkiff(args, options);
      await Promise.race([Bun.sleep(((k + Math.random()) * measured.durationMs) / 20), run.result]);
      run.kill("SIGKILL");
      if ((await run.result).signal === "SIGKILL") killed++;
      const text = readFileSync(config, "utf8");
      let parsed: { auths?: Record<string, unknown> } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        torn++;
      }
      expect(parsed?.auths?.["keep.example"]).toEqual({ auth: b64("k:v") });
      if (parsed?.auths?.[registry.host] !== undefined) replaced++;
      expect(statSync(config).mode & 0o777).toBe(0o600);
    }
    console.log(`login kills: ${killed} of 20 mid-run, ${replaced} had already replaced config.json`);
    expect(torn).toBe(0);
    expect(killed).toBeGreaterThanOrEqual(5);
  }, 60_000);
});

describe("tokens stay in memory", () => {
  test("after token-mode push and pull, no file under HOME or the work folder holds a token", async () => {
    const registry = registries.token;
    const home = tmpDir("skiff-secrets-home-");
    const work = tmpDir("skiff-secrets-work-");
    writeFileSync(join(work, "t.txt"), "t\n");
    const issuedBefore = registry.token!.issued.length;
    const pushed = await runSkiff(
      ["push", "--plain-http", ...login(registry), `${registry.host}/secrets/mem:v1`, "t.txt"],
      {
        home,
        cwd: work,
      },
    );
    expect(pushed.code).toBe(0);
    const pulled = await runSkiff(
      [
        "pull",
        "--plain-http",
        ...login(registry),
        `${registry.host}/secrets/mem:v1`,
        "-o",
        join(work, "out"),
      ],
      { home },
    );
    expect(pulled.code).toBe(0);
    const tokens = registry.token!.issued.slice(issuedBefore).map((t) => t.token);
    expect(tokens.length).toBeGreaterThan(0);
    const onDisk = filesText(home) + filesText(work);
    for (const token of tokens) expect(onDisk.includes(token)).toBe(false);
  });
});

describe("credentials go only to the host that challenged", () => {
  test("a registry that never challenges never receives the credentials given with -u/-p", async () => {
    const proxy = await startFaultProxy({ upstream: registries.plain.url });
    try {
      const result = await runSkiff(
        [
          "push",
          "--plain-http",
          "-u",
          "someone",
          "-p",
          "not-for-you-123",
          `${proxy.host}/secrets/open:v1`,
          "a.txt",
        ],
        { cwd: files },
      );
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
      expect(proxy.requests.length).toBeGreaterThan(3);
      for (const request of proxy.requests) expect(request.headers.authorization).toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });

  test("stored credentials for one registry are not sent to another", async () => {
    const basic = registries.basic;
    const home = tmpDir("skiff-secrets-home-");
    const stored = await runSkiff(
      ["login", "--plain-http", "-u", basic.username!, "--password-stdin", basic.host],
      { home, stdin: `${basic.password}\n` },
    );
    expect(stored.code).toBe(0);
    const proxy = await startFaultProxy({ upstream: registries.plain.url });
    try {
      const result = await runSkiff(["push", "--plain-http", `${proxy.host}/secrets/other:v1`, "a.txt"], {
        home,
        cwd: files,
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      for (const request of proxy.requests) expect(request.headers.authorization).toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });

  test("token mode: the password goes only to the token endpoint, the registry sees only bearer tokens", async () => {
    const registry = registries.token;
    const proxy = await startFaultProxy({ upstream: registry.url });
    try {
      const before = registry.token!.requests.length;
      const result: RunResult = await runSkiff(
        ["push", "--plain-http", ...login(registry), `${proxy.host}/secrets/bearer:v1`, "a.txt"],
        { cwd: files },
      );
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: PASSWORD_WARNING });
      const authorizations = proxy.requests
        .map((r) => r.headers.authorization)
        .filter((a) => a !== undefined);
      expect(authorizations.length).toBeGreaterThan(0);
      for (const header of authorizations) expect(header).toMatch(/^Bearer /);
      const tokenRequests = registry.token!.requests.slice(before);
      expect(tokenRequests.some((r) => r.hadCredentials)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  test("-H headers go to the registry only, never to a redirect target", async () => {
    const { startOtherHost } = await import("../harness/fault-proxy.ts");
    const registry = registries.plain;
    const seeded = await runSkiff(["push", "--plain-http", `${registry.host}/secrets/headers:v1`, "a.txt"], {
      cwd: files,
    });
    expect(seeded.code).toBe(0);
    const proxy = await startFaultProxy({ upstream: registry.url });
    const other = await startOtherHost({ upstream: registry.url });
    try {
      proxy.addRule({
        method: "GET",
        path: /\/blobs\//,
        fault: { kind: "redirect", to: other.url },
        times: Number.POSITIVE_INFINITY,
      });
      const result = await runSkiff([
        "pull",
        "--plain-http",
        "-H",
        "X-Api-Key: hush-hush-4711",
        `${proxy.host}/secrets/headers:v1`,
        "-o",
        tmpDir("skiff-secrets-out-"),
      ]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
      expect(proxy.requests.some((r) => r.headers["x-api-key"] === "hush-hush-4711")).toBe(true);
      expect(other.requests.length).toBeGreaterThan(0);
      for (const request of other.requests)
        expect(JSON.stringify(request.headers)).not.toContain("hush-hush-4711");
    } finally {
      await proxy.stop();
      await other.stop();
    }
  });
});
