/**
 * login and logout against the real registry (basic, token, basic over TLS): the docker config,
 * --registry-config, credential helpers (a test helper on PATH), identity tokens, and the errors
 * for wrong, missing or unreachable credentials.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import {
  PASSWORD_WARNING,
  removeTmpDir,
  runSkiff,
  skiffCommand,
  tmpDir,
  UNDER_DENO,
} from "../harness/skiff.ts";

const registries = useRegistries(["plain", "basic", "token"]);
const secure = useRegistries(["basic"], { tls: true });
// Tokens born expired (past the registry's 60 s leeway), and a token server that grants pull only.
const expired = useRegistries(["token"], { token: { ttlSeconds: -600 } });
const pullOnly = useRegistries(["token"], { token: { policy: () => ["pull"] } });
const work = tmpDir("skiff-e2e-auth-");
afterAll(() => removeTmpDir(work));
const FIXTURES = resolve(import.meta.dir, "..", "fixtures");

let homes = 0;
/** A fresh HOME (DOCKER_CONFIG is HOME/.docker) that several runs share. */
function home(): string {
  const dir = join(work, `home-${homes++}`);
  mkdirSync(join(dir, ".docker"), { recursive: true });
  return dir;
}

const configOf = (dir: string) => JSON.parse(readFileSync(join(dir, ".docker", "config.json"), "utf8"));
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** A small artifact pushed with the harness's own credentials, to read back. */
async function seedArtifact(r: RegistryHandle, repo: string, extra: string[] = []): Promise<string> {
  const dir = join(work, `seed-${repo.replace(/\W/g, "-")}-${r.port}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "a.txt"), `artifact ${repo}\n`);
  const result = await runSkiff(
    ["push", "--format", "json", ...extra, "-u", r.username!, "-p", r.password!, r.ref(repo, "v1"), "a.txt"],
    { cwd: dir },
  );
  expect(result.stderr).toBe(PASSWORD_WARNING); // as ORAS, on every command given -p
  return JSON.parse(result.stdout).digest;
}

describe("login and logout with the docker config", () => {
  for (const mode of ["basic", "token"] as const) {
    test(`${mode}: login stores base64 auth (0600); commands use it; logout removes it`, async () => {
      const r = registries[mode];
      const digest = await seedArtifact(r, `${mode}/login`, ["--plain-http"]);
      const h = home();
      const login = await runSkiff(["login", "--plain-http", "-u", r.username!, "-p", r.password!, r.host], {
        home: h,
      });
      // A password on the command line gets ORAS's warning, and nothing else is said.
      expect({ code: login.code, stdout: login.stdout, stderr: login.stderr }).toEqual({
        code: 0,
        stdout: "Login Succeeded\n",
        stderr: PASSWORD_WARNING,
      });
      const config = configOf(h);
      expect(config.auths[r.host]).toEqual({ auth: b64(`${r.username}:${r.password}`) });
      expect(statSync(join(h, ".docker", "config.json")).mode & 0o777).toBe(0o600);
      const resolved = await runSkiff(["resolve", "--plain-http", r.ref(`${mode}/login`, "v1")], { home: h });
      expect(resolved.stdout).toBe(`${digest}\n`);
      const logout = await runSkiff(["logout", r.host], { home: h });
      expect(logout.code).toBe(0);
      expect(configOf(h).auths[r.host]).toBeUndefined();
      if (mode === "basic") {
        const denied = await runSkiff(["resolve", "--plain-http", r.ref(`${mode}/login`, "v1")], { home: h });
        expect(denied.code).toBe(1);
        expect(denied.stderr).toBe(
          `Error: failed to resolve digest: authentication required for ${r.host}: basic credential not found\nrun \`skiff login ${r.host}\`, or pass -u/--username with -p/--password or --password-stdin\n`,
        );
      }
      expect(logout.stdout).toBe("");
      const again = await runSkiff(["logout", r.host], { home: h });
      expect(again.code).toBe(0);
      expect(again.stdout).toBe("");
      expect(again.stderr).toBe(`Not logged in to ${r.host}\n`);
    });
  }

  test("basic: a wrong password is refused, nothing is stored, the password is not echoed", async () => {
    const r = registries.basic;
    const h = home();
    const result = await runSkiff(
      ["login", "--plain-http", "-u", r.username!, "-p", "wrong-pass-123", r.host],
      { home: h },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(`${PASSWORD_WARNING}Error: ${r.host} refused the credentials`);
    expect(result.stdout + result.stderr).not.toContain("wrong-pass-123");
    expect(existsSync(join(h, ".docker", "config.json"))).toBe(false);
  });

  test("token: a wrong password is refused by the token server", async () => {
    const r = registries.token;
    const h = home();
    const result = await runSkiff(["login", "--plain-http", "-u", r.username!, "-p", "nope-nope", r.host], {
      home: h,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(`${PASSWORD_WARNING}Error: ${r.host} refused the credentials`);
    expect(existsSync(join(h, ".docker", "config.json"))).toBe(false);
  });

  test("--password-stdin; without a terminal and with nothing on stdin, login fails and stores nothing", async () => {
    const r = registries.basic;
    const h = home();
    const ok = await runSkiff(["login", "--plain-http", "-u", r.username!, "--password-stdin", r.host], {
      home: h,
      stdin: `${r.password}\n`,
    });
    expect(ok.stdout).toBe("Login Succeeded\n");
    expect(configOf(h).auths[r.host].auth).toBe(b64(`${r.username}:${r.password}`));
    const before = readFileSync(join(h, ".docker", "config.json"), "utf8");
    const none = await runSkiff(["login", "--plain-http", r.host], { home: h });
    expect(none.code).toBe(1);
    // As in ORAS: no user name read, so a token is asked for, and there is none.
    expect(none.stderr).toBe("Username: Token: Error: token required\n");
    expect(readFileSync(join(h, ".docker", "config.json"), "utf8")).toBe(before);
  });

  test("identity token: login stores it; later commands trade it at the token endpoint (refresh_token grant)", async () => {
    const r = registries.token;
    const digest = await seedArtifact(r, "token/identity", ["--plain-http"]);
    const h = home();
    const login = await runSkiff(
      ["login", "--plain-http", "--identity-token", r.token!.refreshToken, r.host],
      { home: h },
    );
    expect(login.stdout).toBe("Login Succeeded\n");
    expect(configOf(h).auths[r.host]).toEqual({ identitytoken: r.token!.refreshToken });
    const before = r.token!.requests.length;
    const resolved = await runSkiff(["resolve", "--plain-http", r.ref("token/identity", "v1")], { home: h });
    expect(resolved.stdout).toBe(`${digest}\n`);
    const used = r.token!.requests.slice(before);
    expect(used.length).toBeGreaterThan(0);
    expect(
      used.every((q) => q.method === "POST" && q.grantType === "refresh_token" && q.status === 200),
    ).toBe(true);
    const wrong = await runSkiff(["login", "--plain-http", "--identity-token", "refresh-bogus", r.host], {
      home: home(),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the credentials");
  });

  test("a hand-written auths entry with username/password is used", async () => {
    const r = registries.basic;
    const digest = await seedArtifact(r, "basic/hand", ["--plain-http"]);
    const h = home();
    writeFileSync(
      join(h, ".docker", "config.json"),
      JSON.stringify({ auths: { [`http://${r.host}/v2/`]: { username: r.username, password: r.password } } }),
    );
    const resolved = await runSkiff(["resolve", "--plain-http", r.ref("basic/hand", "v1")], { home: h });
    expect(resolved.stdout).toBe(`${digest}\n`);
  });

  test("login over TLS with --ca-file", async () => {
    const r = secure.basic;
    const h = home();
    const noCa = await runSkiff(["login", "-u", r.username!, "-p", r.password!, r.host], { home: h });
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toContain(`the TLS certificate of ${r.host} does not verify`);
    expect(noCa.stderr).toContain("pass --ca-file FILE");
    const login = await runSkiff(
      ["login", "--ca-file", r.caFile!, "-u", r.username!, "-p", r.password!, r.host],
      { home: h },
    );
    expect(login.stdout).toBe("Login Succeeded\n");
  });

  if (UNDER_DENO)
    console.log(
      "auth-login: --insecure needs the Bun binary (see registry-transport.test.ts): skipped under Deno",
    );
  test.skipIf(UNDER_DENO)("login over TLS with --insecure", async () => {
    const r = secure.basic;
    const insecure = await runSkiff(["login", "--insecure", "-u", r.username!, "-p", r.password!, r.host], {
      home: home(),
    });
    expect(insecure.stdout).toBe("Login Succeeded\n");
  });
});

describe("interactive login", () => {
  test("on a terminal: asks for the username (echoed) and the password (hidden)", async () => {
    const r = registries.basic;
    const h = home();
    const { command, args } = skiffCommand();
    const line = [command, ...args, "login", "--plain-http", r.host].map((a) => `'${a}'`).join(" ");
    // `script` gives skiff a pseudo-terminal for stdin and stdout.
    const child = spawn("script", ["-qec", line, "/dev/null"], {
      env: { ...process.env, HOME: h, DOCKER_CONFIG: join(h, ".docker") },
    });
    let screen = "";
    let step = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString();
      if (step === 0 && screen.includes("Username: ")) {
        step = 1;
        child.stdin.write(`${r.username}\r`);
      } else if (step === 1 && screen.includes("Password: ")) {
        step = 2;
        child.stdin.write(`${r.password}\r`);
      }
    });
    const code = await new Promise<number | null>((done) => child.once("close", done));
    expect(code).toBe(0);
    expect(screen).toContain(`Username: ${r.username}`);
    expect(screen).toContain("Login Succeeded");
    expect(screen).not.toContain(r.password!);
    expect(configOf(h).auths[r.host]).toEqual({ auth: b64(`${r.username}:${r.password}`) });
  });
});

describe("--registry-config", () => {
  test("login writes the named file, not the docker config; commands read it only when named", async () => {
    const r = registries.basic;
    const digest = await seedArtifact(r, "basic/regconf", ["--plain-http"]);
    const h = home();
    const file = join(work, "auth", "skiff-auth.json");
    const login = await runSkiff(
      ["login", "--plain-http", "--registry-config", file, "-u", r.username!, "-p", r.password!, r.host],
      { home: h },
    );
    expect(login.stdout).toBe("Login Succeeded\n");
    expect(JSON.parse(readFileSync(file, "utf8")).auths[r.host].auth).toBe(
      b64(`${r.username}:${r.password}`),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(h, ".docker", "config.json"))).toBe(false);
    const withFile = await runSkiff(
      ["resolve", "--plain-http", "--registry-config", file, r.ref("basic/regconf", "v1")],
      { home: h },
    );
    expect(withFile.stdout).toBe(`${digest}\n`);
    const without = await runSkiff(["resolve", "--plain-http", r.ref("basic/regconf", "v1")], { home: h });
    expect(without.code).toBe(1);
    const logout = await runSkiff(["logout", "--registry-config", file, r.host], { home: h });
    expect(logout.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).auths[r.host]).toBeUndefined();
  });
});

describe("credential helpers", () => {
  const helperEnv = (store: string, extra: Record<string, string> = {}) => ({
    PATH: `${FIXTURES}:${process.env.PATH}`,
    SKIFF_TEST_CREDENTIALS: store,
    ...extra,
  });

  test("credsStore: login stores through docker-credential-test, commands get from it, logout erases", async () => {
    const r = registries.token;
    const digest = await seedArtifact(r, "token/helper", ["--plain-http"]);
    chmodSync(join(FIXTURES, "docker-credential-test"), 0o755);
    const h = home();
    const store = join(h, "keychain");
    writeFileSync(join(h, ".docker", "config.json"), JSON.stringify({ credsStore: "test" }));
    const env = helperEnv(store);
    const login = await runSkiff(["login", "--plain-http", "-u", r.username!, "-p", r.password!, r.host], {
      home: h,
      env,
    });
    expect(login.stdout).toBe("Login Succeeded\n");
    // The secret is in the helper's store, not in config.json.
    expect(readFileSync(join(h, ".docker", "config.json"), "utf8")).not.toContain(r.password!);
    expect(readFileSync(join(store, "calls.log"), "utf8")).toBe(`store ${r.host}\n`);
    const resolved = await runSkiff(["resolve", "--plain-http", r.ref("token/helper", "v1")], {
      home: h,
      env,
    });
    expect(resolved.stdout).toBe(`${digest}\n`);
    expect(readFileSync(join(store, "calls.log"), "utf8")).toContain(`get ${r.host}`);
    const logout = await runSkiff(["logout", r.host], { home: h, env });
    // stdout stays empty, as in ORAS; the note goes to stderr.
    expect(logout.code).toBe(0);
    expect(logout.stdout).toBe("");
    expect(logout.stderr).toBe(`Removing login credentials for ${r.host}\n`);
    expect(readFileSync(join(store, "calls.log"), "utf8")).toContain(`erase ${r.host}`);
  });

  test("credHelpers for one host; other hosts fall back to auths", async () => {
    const r = registries.basic;
    const digest = await seedArtifact(r, "basic/helper", ["--plain-http"]);
    const h = home();
    const store = join(h, "keychain");
    mkdirSync(store, { recursive: true });
    writeFileSync(
      join(store, `${r.host.replace(/[^A-Za-z0-9._-]/g, "_")}.json`),
      JSON.stringify({ ServerURL: r.host, Username: r.username, Secret: r.password }),
    );
    writeFileSync(join(h, ".docker", "config.json"), JSON.stringify({ credHelpers: { [r.host]: "test" } }));
    const resolved = await runSkiff(["resolve", "--plain-http", r.ref("basic/helper", "v1")], {
      home: h,
      env: helperEnv(store),
    });
    expect(resolved.stdout).toBe(`${digest}\n`);
  });

  test("a missing helper: the error names it", async () => {
    const r = registries.basic;
    const h = home();
    writeFileSync(join(h, ".docker", "config.json"), JSON.stringify({ credsStore: "absent-helper" }));
    const result = await runSkiff(["resolve", "--plain-http", r.ref("basic/helper", "v1")], { home: h });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "Error: failed to resolve digest: credential helper docker-credential-absent-helper not found in PATH",
    );
  });

  test("a failing helper: the error names it and says what it said", async () => {
    const r = registries.basic;
    const h = home();
    writeFileSync(join(h, ".docker", "config.json"), JSON.stringify({ credsStore: "test" }));
    const result = await runSkiff(["resolve", "--plain-http", r.ref("basic/helper", "v1")], {
      home: h,
      env: helperEnv(join(h, "keychain"), { SKIFF_TEST_HELPER_FAIL: "1" }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Error: failed to resolve digest: credential helper docker-credential-test failed for ${r.host} (exit 3): the test keychain is locked`,
    );
  });

  test("a registry that never challenges never runs the helper; one that does, does", async () => {
    const h = home();
    writeFileSync(join(h, ".docker", "config.json"), JSON.stringify({ credsStore: "absent-helper" }));
    const plain = registries.plain;
    const dir = join(work, "plain-anon");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "c.txt"), "c");
    const pushed = await runSkiff(
      ["push", "--plain-http", "--format", "json", plain.ref("plain/anon", "v1"), "c.txt"],
      {
        home: h,
        cwd: dir,
      },
    );
    expect(pushed.code).toBe(0);
    const resolved = await runSkiff(["resolve", "--plain-http", plain.ref("plain/anon", "v1")], { home: h });
    expect(resolved.stdout).toBe(`${JSON.parse(pushed.stdout).digest}\n`);
    const r = registries.token;
    await seedArtifact(r, "token/anon", ["--plain-http"]);
    const result = await runSkiff(["resolve", "--plain-http", r.ref("token/anon", "v1")], { home: h });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("docker-credential-absent-helper not found");
  });
});

describe("tokens that do not grant enough", () => {
  test("anonymous token mode: pull works, push says to log in", async () => {
    const r = registries.token;
    const digest = await seedArtifact(r, "token/anon-pull", ["--plain-http"]);
    const h = home();
    const resolved = await runSkiff(["resolve", "--plain-http", r.ref("token/anon-pull", "v1")], { home: h });
    expect(resolved.stdout).toBe(`${digest}\n`);
    const dir = join(work, "anon-push");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "b.txt"), "b");
    const pushed = await runSkiff(["push", "--plain-http", r.ref("token/anon-pull", "v2"), "b.txt"], {
      home: h,
      cwd: dir,
    });
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toContain(`authentication required for ${r.host}`);
    expect(pushed.stderr).toContain(`skiff login ${r.host}`);
  });
});

describe("refused tokens", () => {
  test("an expired token: the registry refuses it twice, the error says so and how to log in", async () => {
    const r = expired.token;
    const result = await runSkiff([
      "resolve",
      "--plain-http",
      "-u",
      r.username!,
      "-p",
      r.password!,
      r.ref("any/app", "v1"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(
      `${PASSWORD_WARNING}Error: failed to resolve digest: ${r.host} refused the token (invalid_token`,
    );
    expect(result.stderr).toContain(`skiff login ${r.host}`);
    // Bounded: the first 401, then one fresh token per round, not a loop.
    expect(r.token!.requests.filter((q) => q.status === 200).length).toBeLessThanOrEqual(3);
  });

  test("a token without push: pushing is denied, naming the scope", async () => {
    const r = pullOnly.token;
    const dir = join(work, "pull-only");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "d.txt"), "d");
    const result = await runSkiff(
      ["push", "--plain-http", "-u", r.username!, "-p", r.password!, r.ref("locked/app", "v1"), "d.txt"],
      { cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Error: ${r.host} denied access: the token does not grant repository:locked/app:pull,push`,
    );
    expect(result.stderr).toContain("the account lacks permission for this repository or action");
  });
});
