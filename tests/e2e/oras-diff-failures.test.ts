/**
 * Failures as ORAS 1.3.2 reports them, found by running both side by side: credentials, transport
 * and bad input. Each test checks the exit code and that skiff's first error line carries ORAS's
 * short phrase (the one a script would grep), with skiff's own hint on the next line.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import { removeTmpDir, runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "basic"]);
const secure = useRegistries(["tls"]);
const work = tmpDir("skiff-e2e-oras-failures-");
afterAll(() => removeTmpDir(work));

let dirs = 0;
/** A fresh working directory holding `files`. */
function dirWith(files: Record<string, string> = {}): string {
  const dir = join(work, `d${dirs++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The first line of stderr after ORAS's warning about a secret on the command line, if any. */
function firstErrorLine(stderr: string): string {
  return stderr.replace(/^WARNING! Using --.* via the CLI is insecure\..*\n/, "").split("\n")[0]!;
}

/** Pushes `a.txt` to `repo:v1` with the registry's own credentials. */
async function seed(r: RegistryHandle, repo: string): Promise<void> {
  const login = r.username ? ["-u", r.username, "-p", r.password!] : [];
  const pushed = await runSkiff(["push", "--plain-http", ...login, r.ref(repo, "v1"), "a.txt"], {
    cwd: dirWith({ "a.txt": "hello\n" }),
  });
  expect(pushed.code).toBe(0);
}

describe("basic auth the credentials cannot answer", () => {
  test("no credentials: `basic credential not found` on every command that reads or writes", async () => {
    const r = registries.basic;
    await seed(r, "nocreds");
    const cases: [string[], string][] = [
      [["pull", r.ref("nocreds", "v1")], "Error: authentication required for"],
      [["resolve", r.ref("nocreds", "v1")], "Error: failed to resolve digest: authentication required for"],
      [
        ["manifest", "fetch", r.ref("nocreds", "v1")],
        `Error: failed to fetch the content of "${r.ref("nocreds", "v1")}": authentication required for`,
      ],
      [["repo", "tags", r.ref("nocreds")], "Error: authentication required for"],
      [
        ["repo", "ls", r.host],
        `Error: could not list repositories for "${r.host}": authentication required for`,
      ],
      [["manifest", "delete", "--force", r.ref("nocreds", "v1")], "Error: authentication required for"],
    ];
    for (const [args, start] of cases) {
      const result = await runSkiff([...args, "--plain-http"], { cwd: dirWith() });
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: "" });
      const first = firstErrorLine(result.stderr);
      expect(first).toStartWith(start);
      expect(first).toEndWith(": basic credential not found");
      expect(result.stderr.split("\n")[1]).toContain(`skiff login ${r.host}`);
    }
  });

  test("an identity token or an empty password: `missing username or password for basic auth`", async () => {
    const r = registries.basic;
    await seed(r, "halfcreds");
    const token = await runSkiff([
      "resolve",
      "--plain-http",
      "--identity-token",
      "tok",
      r.ref("halfcreds", "v1"),
    ]);
    expect(token.code).toBe(1);
    expect(firstErrorLine(token.stderr)).toContain(
      "failed to resolve digest: " +
        `${r.host} asks for a username and password: missing username or password for basic auth`,
    );
    const empty = await runSkiff(
      ["resolve", "--plain-http", "-u", r.username!, "--password-stdin", r.ref("halfcreds", "v1")],
      { stdin: "" },
    );
    expect(empty.code).toBe(1);
    expect(firstErrorLine(empty.stderr)).toContain("missing username or password for basic auth");
    // login checks what it would store the same way, and stores nothing.
    const home = dirWith();
    const login = await runSkiff(["login", "--plain-http", "--password-stdin", r.host], {
      stdin: "just-a-token\n",
      home,
    });
    expect(login.code).toBe(1);
    expect(firstErrorLine(login.stderr)).toContain("missing username or password for basic auth");
  });
});

describe("refused credentials", () => {
  test("a wrong password refused on a HEAD still shows the registry's own words, as ORAS's GET does", async () => {
    const r = registries.basic;
    await seed(r, "refused");
    for (const args of [
      ["pull", r.ref("refused", "v1")],
      ["resolve", r.ref("refused", "v1")],
      ["blob", "delete", "--force", r.ref("refused", `sha256:${"1".repeat(64)}`)],
    ]) {
      const result = await runSkiff([...args, "--plain-http", "-u", r.username!, "-p", "wrong"], {
        cwd: dirWith(),
      });
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      const first = firstErrorLine(result.stderr);
      // The HEAD's status as ORAS's HEAD requests say it, then the registry's words as its GETs do.
      expect(first).toContain(
        `${r.host} refused the credentials: Error response from registry: response status code 401: Unauthorized: unauthorized: authentication required`,
      );
    }
  });
});

describe("login", () => {
  test("a check that cannot be made: `failed to validate the credentials for HOST:`, nothing stored", async () => {
    const home = dirWith();
    const down = await runSkiff(["login", "--plain-http", "-u", "me", "--password-stdin", "127.0.0.1:1"], {
      stdin: "secret\n",
      home,
    });
    expect(down.code).toBe(1);
    expect(firstErrorLine(down.stderr)).toBe(
      "Error: failed to validate the credentials for 127.0.0.1:1: cannot reach 127.0.0.1:1: connection refused",
    );
    const tls = await runSkiff(["login", "-u", "me", "--password-stdin", secure.tls.host], {
      stdin: "secret\n",
      home,
    });
    expect(tls.code).toBe(1);
    expect(firstErrorLine(tls.stderr)).toStartWith(
      `Error: failed to validate the credentials for ${secure.tls.host}: the TLS certificate of`,
    );
    expect(await Bun.file(join(home, ".docker", "config.json")).exists()).toBe(false);
  });
});

describe("attach", () => {
  test("a subject that is not there: `failed to resolve TAG:`, and no status line on stdout", async () => {
    const r = registries.plain;
    const result = await runSkiff(
      [
        "attach",
        "--plain-http",
        "--artifact-type",
        "application/vnd.test",
        "-a",
        "k=v",
        r.ref("attached", "nope"),
      ],
      { cwd: dirWith() },
    );
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(result.stderr)).toStartWith(
      `Error: failed to resolve nope: ${r.ref("attached", "nope")}: not found`,
    );
  });
});

describe("credential flags", () => {
  test("flags that exclude each other are refused in ORAS's words before anything is asked", async () => {
    const r = registries.plain;
    const cases: [string[], string][] = [
      [["-p", "x", "--password-stdin"], "--password, --password-stdin"],
      [["-u", "a", "--identity-token", "t"], "--username, --identity-token"],
      [
        ["-u", "a", "--identity-token", "t", "--identity-token-stdin"],
        "--username, --identity-token, --identity-token-stdin",
      ],
      [["-p", "x", "--identity-token", "t"], "--password, --identity-token"],
      [["--password-stdin", "--identity-token-stdin"], "--identity-token-stdin, --password-stdin"],
    ];
    for (const [flags, names] of cases) {
      const result = await runSkiff(["resolve", "--plain-http", ...flags, r.ref("any", "v1")]);
      // No warning either: the secret is never used.
      expect({
        flags,
        code: result.code,
        stdout: result.stdout,
        first: result.stderr.split("\n")[0],
      }).toEqual({
        flags,
        code: 1,
        stdout: "",
        first: `Error: ${names} cannot be used at the same time`,
      });
    }
  });

  test("cp: the same per side, named with the side's prefix", async () => {
    const r = registries.plain;
    for (const [flags, names] of [
      [["--from-username", "a", "--from-identity-token", "t"], "--from-username, --from-identity-token"],
      [["--to-password", "a", "--to-identity-token", "t"], "--to-password, --to-identity-token"],
    ] as const) {
      const result = await runSkiff(["cp", ...flags, r.ref("any", "v1"), r.ref("other", "v1")]);
      expect({ flags, code: result.code, first: result.stderr.split("\n")[0] }).toEqual({
        flags,
        code: 1,
        first: `Error: ${names} cannot be used at the same time`,
      });
    }
  });

  test("--identity-token on the command line gets ORAS's warning, as -p does", async () => {
    const r = registries.plain;
    await seed(r, "warned");
    const result = await runSkiff([
      "resolve",
      "--plain-http",
      "--identity-token",
      "tok",
      r.ref("warned", "v1"),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "WARNING! Using --identity-token via the CLI is insecure. Use --identity-token-stdin.\n",
    );
  });
});

describe("transport failures", () => {
  test("resolve says `failed to resolve digest:` for an unreachable registry too; Go's phrases for DNS and TLS", async () => {
    const refused = await runSkiff(["resolve", "--plain-http", "127.0.0.1:1/any/app:v1"]);
    expect(refused.code).toBe(1);
    expect(firstErrorLine(refused.stderr)).toBe(
      "Error: failed to resolve digest: cannot reach 127.0.0.1:1: connection refused",
    );
    const unknown = await runSkiff(["resolve", "--plain-http", "registry.invalid/any/app:v1"]);
    expect(unknown.code).toBe(1);
    expect(firstErrorLine(unknown.stderr)).toStartWith(
      "Error: failed to resolve digest: cannot reach registry.invalid:",
    );
    expect(firstErrorLine(unknown.stderr)).toContain("(no such host)");
  });

  test("HTTPS to a plain HTTP registry: Go's `server gave HTTP response to HTTPS client`", async () => {
    const r = registries.plain;
    for (const args of [["resolve"], ["pull", "-o", "out"]]) {
      const result = await runSkiff([...args, r.ref("any/app", "v1")], { cwd: dirWith() });
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(firstErrorLine(result.stderr)).toContain(
        `TLS handshake with ${r.host} failed: server gave HTTP response to HTTPS client`,
      );
      expect(result.stderr.split("\n")[1]).toContain("--plain-http");
    }
  });

  test("a certificate from an unknown CA: `x509: certificate signed by unknown authority`, on every command", async () => {
    const r = secure.tls;
    for (const args of [["resolve"], ["pull", "-o", "out"], ["manifest", "fetch"]]) {
      const result = await runSkiff([...args, r.ref("any/app", "v1")], { cwd: dirWith() });
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(firstErrorLine(result.stderr)).toContain(
        `the TLS certificate of ${r.host} does not verify: x509: certificate signed by unknown authority`,
      );
      expect(result.stderr.split("\n")[1]).toContain("--ca-file");
    }
  });
});

describe("bad input", () => {
  test("blob push --size that is not the file's: `does not match the actual content size`", async () => {
    const r = registries.plain;
    const result = await runSkiff(["blob", "push", "--plain-http", "--size", "3", r.ref("sized"), "a.txt"], {
      cwd: dirWith({ "a.txt": "hello\n" }),
    });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(result.stderr)).toBe(
      "Error: input size 3 does not match the actual content size 6 of a.txt",
    );
  });

  test("blob push from stdin without a digest: `content digest must be provided`", async () => {
    const r = registries.plain;
    const result = await runSkiff(["blob", "push", "--plain-http", "--size", "6", r.ref("stdin-blob"), "-"], {
      stdin: "hello\n",
    });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(result.stderr)).toBe(
      "Error: content digest must be provided if it is read from stdin",
    );
  });

  test("pull -k onto a file that is there: `overwrite disallowed`, the file kept", async () => {
    const r = registries.plain;
    await seed(r, "keep");
    const dir = dirWith({ "a.txt": "mine\n" });
    const result = await runSkiff(["pull", "--plain-http", "-k", r.ref("keep", "v1")], { cwd: dir });
    expect(result.code).toBe(1);
    expect(firstErrorLine(result.stderr)).toBe(
      `Error: ${join(dir, "a.txt")} already exists: overwrite disallowed`,
    );
    expect(await Bun.file(join(dir, "a.txt")).text()).toBe("mine\n");
  });

  test("push of two files under one name: `duplicate name`, nothing pushed", async () => {
    const r = registries.plain;
    const result = await runSkiff(["push", "--plain-http", r.ref("dup", "v1"), "a.txt", "./a.txt"], {
      cwd: dirWith({ "a.txt": "hello\n" }),
    });
    expect(result.code).toBe(1);
    expect(firstErrorLine(result.stderr)).toStartWith("Error: a.txt: duplicate name: ");
    expect((await r.fetch("/v2/dup/manifests/v1", { method: "HEAD" })).status).toBe(404);
  });

  test("manifest push of a file that is not JSON: `not a valid json file`", async () => {
    const r = registries.plain;
    const result = await runSkiff(["manifest", "push", "--plain-http", r.ref("badjson", "v1"), "m.json"], {
      cwd: dirWith({ "m.json": "{bad" }),
    });
    expect(result.code).toBe(1);
    expect(firstErrorLine(result.stderr)).toStartWith(
      "Error: invalid manifest m.json: not a valid json file (",
    );
  });

  test("a bad -H or --resolve: `invalid header:`, `failed to parse resolve flag`", async () => {
    const r = registries.plain;
    const header = await runSkiff(["resolve", "--plain-http", "-H", "nocolon", r.ref("any", "v1")]);
    expect(header.code).toBe(1);
    expect(firstErrorLine(header.stderr)).toBe(`Error: invalid header: "nocolon": expected 'Name: value'`);
    const resolve = await runSkiff(["resolve", "--plain-http", "--resolve", "foo:bar", r.ref("any", "v1")]);
    expect(resolve.code).toBe(1);
    expect(firstErrorLine(resolve.stderr)).toBe(
      `Error: failed to parse resolve flag "foo:bar": expected host:port:address[:port]`,
    );
  });
});

describe("files the registry flags name", () => {
  test("--ca-file that holds no certificate: `Failed to load certificate in file`, not a connection error", async () => {
    const r = secure.tls;
    const dir = dirWith({ "ca.pem": "not a certificate\n" });
    const result = await runSkiff(["manifest", "fetch", "--ca-file", "ca.pem", r.ref("any/app", "v1")], {
      cwd: dir,
    });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(result.stderr)).toBe(
      "Error: Failed to load certificate in file: ca.pem: it holds no PEM certificate",
    );
    const missing = await runSkiff(["manifest", "fetch", "--ca-file", "none.pem", r.ref("any/app", "v1")], {
      cwd: dir,
    });
    expect(firstErrorLine(missing.stderr)).toBe(
      "Error: cannot read CA file none.pem: no such file or directory",
    );
  });

  test("--cert-file alone: `must be used in conjunction with --key-file`; a file without PEM data says so", async () => {
    const r = secure.tls;
    const dir = dirWith({ "client.txt": "not pem\n" });
    const alone = await runSkiff(["resolve", "--cert-file", "missing.pem", r.ref("any/app", "v1")], {
      cwd: dir,
    });
    expect(alone.code).toBe(1);
    expect(firstErrorLine(alone.stderr)).toBe(
      "Error: --cert-file must be used in conjunction with --key-file",
    );
    const notPem = await runSkiff(
      [
        "resolve",
        "--insecure",
        "--cert-file",
        "client.txt",
        "--key-file",
        "client.txt",
        r.ref("any/app", "v1"),
      ],
      { cwd: dir },
    );
    expect(notPem.code).toBe(1);
    expect(firstErrorLine(notPem.stderr)).toBe(
      "Error: tls: failed to find any PEM data in certificate input: client.txt",
    );
  });

  test("a --registry-config that is not JSON: `failed to decode config file at PATH: invalid config format`", async () => {
    const r = registries.basic;
    const dir = dirWith({ "auth.json": "{bad json" });
    for (const args of [
      ["resolve", "--plain-http", "--registry-config", "auth.json", r.ref("any", "v1")],
      [
        "login",
        "--plain-http",
        "--registry-config",
        "auth.json",
        "-u",
        r.username!,
        "-p",
        r.password!,
        r.host,
      ],
    ]) {
      const result = await runSkiff(args, { cwd: dir });
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(firstErrorLine(result.stderr)).toContain(
        "failed to decode config file at auth.json: invalid config format: not valid JSON (",
      );
      expect(await Bun.file(join(dir, "auth.json")).text()).toBe("{bad json");
    }
    // A directory, or an "auth" field that is not base64 of USER:PASSWORD: the same words.
    mkdirSync(join(dir, "conf.d"));
    writeFileSync(join(dir, "bad-auth.json"), JSON.stringify({ auths: { [r.host]: { auth: "!!!" } } }));
    for (const [file, words] of [
      [
        "conf.d",
        "failed to decode config file at conf.d: invalid config format: cannot read it: it is a directory",
      ],
      ["bad-auth.json", "failed to decode auth field: invalid config format: "],
    ]) {
      const result = await runSkiff(
        ["resolve", "--plain-http", "--registry-config", file!, r.ref("any", "v1")],
        {
          cwd: dir,
        },
      );
      expect({ file, code: result.code }).toEqual({ file, code: 1 });
      expect(firstErrorLine(result.stderr)).toContain(words!);
    }
  });
});

describe("ORAS's words before what failed", () => {
  test('manifest fetch: `failed to fetch the content of "REF"`, with --descriptor `failed to find "REF"`', async () => {
    const r = registries.plain;
    const missing = r.ref("fetched", "nope");
    const content = await runSkiff(["manifest", "fetch", "--plain-http", missing]);
    expect({ code: content.code, stdout: content.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(content.stderr)).toStartWith(
      `Error: failed to fetch the content of "${missing}": ${missing}: not found`,
    );
    const descriptor = await runSkiff(["manifest", "fetch", "--descriptor", "--plain-http", missing]);
    expect(descriptor.code).toBe(1);
    expect(firstErrorLine(descriptor.stderr)).toStartWith(
      `Error: failed to find "${missing}": ${missing}: not found`,
    );
    const down = await runSkiff(["manifest", "fetch", "--plain-http", "127.0.0.1:1/any/app:v1"]);
    expect(firstErrorLine(down.stderr)).toBe(
      `Error: failed to fetch the content of "127.0.0.1:1/any/app:v1": cannot reach 127.0.0.1:1: connection refused`,
    );
  });

  test('repo ls: `could not list repositories for "HOST"`', async () => {
    const r = registries.basic;
    const result = await runSkiff(["repo", "ls", "--plain-http", r.host]);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(firstErrorLine(result.stderr)).toBe(
      `Error: could not list repositories for "${r.host}": authentication required for ${r.host}: basic credential not found`,
    );
  });
});
