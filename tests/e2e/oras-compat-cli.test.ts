/**
 * What a script written for ORAS 1.3 sees from skiff, with the compiled binary and real registries:
 * the deprecated `--verbose` and `-o/--output`, `--flag=false`, usage errors (exit 1), ORAS's
 * error phrases (`Error response from registry:` with the registry's own words, `no tag or digest
 * specified`, `not found`, `cannot be both used`...), `PATH:` as an untagged layout, discover's
 * formats, repo/tag/resolve/version/login habits, and referrers lists read as leniently as ORAS
 * reads them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.ts";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import { PASSWORD_WARNING, type RunOptions, removeTmpDir, runSkiff, tmpDir } from "../harness/skiff.ts";

setDefaultTimeout(60_000);

const registries = useRegistries(["plain", "basic"]);
const work = tmpDir("skiff-e2e-oras-compat-");
afterAll(() => removeTmpDir(work));

const VERBOSE_DEPRECATED = "Flag --verbose has been deprecated, and will be removed in a future release.";
const INDEX = "application/vnd.oci.image.index.v1+json";

async function skiff(args: string[], options: RunOptions = {}) {
  return runSkiff(args, { cwd: work, ...options });
}

/** Runs skiff and fails the test with its stderr unless it exits 0; returns stdout. */
async function ok(args: string[], options: RunOptions = {}): Promise<string> {
  const result = await skiff(args, options);
  if (result.code !== 0) throw new Error(`skiff ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

/** Basic-auth flags of a registry. */
const creds = (r: RegistryHandle) => ["-u", r.username!, "-p", r.password!];

let subject: { digest: string; repo: string };
let sbom: { digest: string; created: string };
beforeAll(async () => {
  writeFileSync(join(work, "a.txt"), "a\n");
  writeFileSync(join(work, "sbom.json"), "{}\n");
  const repo = `${registries.plain.localhost}/compat/app`;
  const pushed = JSON.parse(await ok(["push", `${repo}:v1`, "a.txt", "--format", "json"]));
  const attached = JSON.parse(
    await ok([
      "attach",
      `${repo}:v1`,
      "--artifact-type",
      "application/vnd.example.sbom",
      "sbom.json",
      "--format",
      "json",
    ]),
  );
  subject = { digest: pushed.digest, repo };
  sbom = { digest: attached.digest, created: attached.annotations["org.opencontainers.image.created"] };
});

describe("--verbose and --flag=true|false", () => {
  test("--verbose is accepted with ORAS's deprecation line on stderr; stdout is unchanged", async () => {
    const plain = await skiff(["resolve", `${subject.repo}:v1`]);
    for (const flag of ["--verbose", "-v", "--verbose=true"]) {
      const result = await skiff(["resolve", `${subject.repo}:v1`, flag]);
      expect({ flag, code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
        flag,
        code: 0,
        stdout: plain.stdout,
        stderr: `${VERBOSE_DEPRECATED}\n`,
      });
    }
  });

  test("discover shows annotations in the tree by default; --verbose=false leaves them out", async () => {
    const tree = await skiff(["discover", `${subject.repo}:v1`]);
    expect(tree.stdout).toBe(
      [
        `${subject.repo}@${subject.digest}`,
        "└── application/vnd.example.sbom",
        `    └── ${sbom.digest}`,
        "        └── [annotations]",
        `            └── org.opencontainers.image.created: "${sbom.created}"`,
        "",
      ].join("\n"),
    );
    const quiet = await skiff(["discover", `${subject.repo}:v1`, "--verbose=false"]);
    expect(quiet.stdout).toBe(
      [
        `${subject.repo}@${subject.digest}`,
        "└── application/vnd.example.sbom",
        `    └── ${sbom.digest}`,
        "",
      ].join("\n"),
    );
    expect(quiet.stderr).toBe(`${VERBOSE_DEPRECATED}\n`);
  });

  test("--flag=false is the flag left out; a value that is no boolean is refused", async () => {
    const plain = await skiff(["resolve", `${subject.repo}:v1`]);
    const off = await skiff(["resolve", `${subject.repo}:v1`, "--plain-http=false", "--no-tty=0"]);
    expect({ code: off.code, stdout: off.stdout, stderr: off.stderr }).toEqual({
      code: 0,
      stdout: plain.stdout,
      stderr: "",
    });
    const bad = await skiff(["resolve", `${subject.repo}:v1`, "--verbose=maybe"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid argument "maybe" for --verbose');
  });
});

describe("usage errors and error phrases", () => {
  test("a missing or extra argument and an unknown flag exit 1 (as in ORAS) with the usage line", async () => {
    for (const args of [["discover"], ["discover", "a", "b"], ["resolve", "--bogus", "x"]]) {
      const result = await skiff(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toStartWith("Error: ");
      expect(result.stderr).toContain(`Usage: skiff ${args[0]}`);
    }
  });

  test("a missing tag: `Error response from registry:` with the registry's words, and `not found`", async () => {
    for (const args of [
      ["resolve", `${subject.repo}:nope`],
      ["pull", `${subject.repo}:nope`, "-o", join(work, "pulled")],
      ["tag", `${subject.repo}:nope`, "other"],
      ["manifest", "fetch", `${subject.repo}:nope`],
    ]) {
      const result = await skiff(args);
      const first = result.stderr.split("\n")[0];
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(first).toStartWith("Error: ");
      expect(first).toContain("not found");
      expect(first).toContain("Error response from registry: ");
    }
  });

  test("wrong credentials: `Error response from registry:` and the registry's own message, a hint below", async () => {
    const r = registries.basic;
    await ok(["push", "--plain-http", ...creds(r), `${r.host}/compat/auth:v1`, "a.txt"]);
    for (const args of [
      ["resolve", "--plain-http", "-u", r.username!, "-p", "wrong", `${r.host}/compat/auth:v1`],
      ["repo", "ls", "--plain-http", "-u", r.username!, "-p", "wrong", r.host],
    ]) {
      const result = await skiff(args);
      // After the -p warning, when there is one, as in ORAS.
      const [first, hint] = result.stderr.replace(/^WARNING! .*\n/, "").split("\n");
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(first).toMatch(/^Error: .*: Error response from registry: /);
      expect(first).toMatch(/401|unauthorized/);
      expect(hint).toContain("skiff login");
    }
    // Without credentials ORAS asks nothing of the registry's message: `basic credential not found`.
    const none = await skiff(["resolve", "--plain-http", `${r.host}/compat/auth:v1`]);
    const [first, hint] = none.stderr.split("\n");
    expect(none.code).toBe(1);
    expect(first).toBe(
      `Error: failed to resolve digest: authentication required for ${r.host}: basic credential not found`,
    );
    expect(hint).toContain("skiff login");
  });

  test("a reference without tag or digest: `no tag or digest specified`", async () => {
    for (const args of [
      ["resolve", subject.repo],
      ["discover", subject.repo],
      ["resolve", `${subject.repo}:`],
      ["manifest", "delete", "--force", subject.repo],
    ]) {
      const result = await skiff(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr.split("\n")[0]).toBe(`Error: "${subject.repo}": no tag or digest specified`);
    }
  });

  test('an invalid reference: ORAS\'s `"REF": invalid reference:` and the reference form of its hint', async () => {
    const result = await skiff(["resolve", `${registries.plain.localhost}/INVALID`]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toStartWith(
      `Error: "${registries.plain.localhost}/INVALID": invalid reference: `,
    );
    expect(result.stderr).toContain("<registry>/<repo>[:tag|@digest]");
    const empty = await skiff(["push", "/oras"]);
    expect(empty.stderr.split("\n")[0]).toBe('Error: "/oras": invalid reference: invalid registry ""');
  });
});

describe("layout references with an empty tag", () => {
  test("--oci-layout PATH: and oci-layout://PATH: are the layout without a tag", async () => {
    const layout = join(work, "empty-tag-layout");
    const pushed = JSON.parse(
      await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt", "--format", "json"]),
    );
    expect(await ok(["repo", "tags", "--oci-layout", `${layout}:`])).toBe("v1\n");
    expect(await ok(["resolve", `oci-layout://${layout}:`])).toBe(`${pushed.digest}\n`);
    expect(await ok(["resolve", "--oci-layout", `${layout}:`])).toBe(`${pushed.digest}\n`);
  });
});

describe("discover", () => {
  test("-o/--output is the deprecated --format, with ORAS's warning; not together with --format", async () => {
    const viaFormat = await skiff(["discover", `${subject.repo}:v1`, "--format", "json"]);
    for (const flag of ["-o", "--output"]) {
      const viaOutput = await skiff(["discover", `${subject.repo}:v1`, flag, "json"]);
      expect(viaOutput.code).toBe(0);
      expect(viaOutput.stdout).toBe(viaFormat.stdout);
      expect(viaOutput.stderr).toBe("[DEPRECATED] --output is deprecated, try `--format ` instead\n");
    }
    const both = await skiff(["discover", `${subject.repo}:v1`, "--format", "json", "--output", "json"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("Error: --format, --output cannot be used at the same time");
  });

  test("an invalid format names it and the choices; --depth 0 fails", async () => {
    const invalid = await skiff(["discover", `${subject.repo}:v1`, "--output", "ukpkmkk"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('Error: invalid format type: "ukpkmkk"');
    for (const name of ["tree", "table", "json", "go-template"]) expect(invalid.stderr).toContain(name);
    const depth = await skiff(["discover", `${subject.repo}:v1`, "--depth", "0"]);
    expect(depth.code).toBe(1);
    expect(depth.stdout).toBe("");
  });

  test("--format table: direct referrers with their descriptors, and ORAS's deprecation line", async () => {
    const table = await skiff(["discover", `${subject.repo}:v1`, "--format", "table"]);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('Format "table" is deprecated and will be removed in a future release.\n');
    const lines = table.stdout.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      `Discovered 1 artifact referencing ${subject.repo}:v1`,
      `Digest: ${subject.digest}`,
      "",
      "Artifact Type                  Digest",
      `application/vnd.example.sbom   ${sbom.digest}`,
    ]);
    expect(JSON.parse(lines.slice(5).join("\n"))).toMatchObject({
      digest: sbom.digest,
      artifactType: "application/vnd.example.sbom",
    });
    const rows = await skiff(["discover", `${subject.repo}:v1`, "--format", "table", "--verbose=false"]);
    expect(rows.stdout.split("\n")).toHaveLength(6);
  });
});

describe("referrers lists read as ORAS reads them", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: registries.plain.url });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  test('"manifests": null (olareg) is an empty list; an artifact type that is no media type is shown', async () => {
    const repo = `${proxy.host}/compat/app`;
    const answer = (manifests: unknown) => ({
      kind: "status" as const,
      status: 200,
      headers: { "content-type": INDEX },
      body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }),
    });
    proxy.addRule({ method: "GET", path: /\/referrers\//, fault: answer(null) });
    const empty = await skiff(["discover", "--plain-http", `${repo}:v1`]);
    expect({ code: empty.code, stdout: empty.stdout, stderr: empty.stderr }).toEqual({
      code: 0,
      stdout: `${repo}@${subject.digest}\n`,
      stderr: "",
    });

    const odd = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sbom.digest, size: 10 };
    proxy.addRule({
      method: "GET",
      path: /\/referrers\//,
      fault: answer([{ ...odd, artifactType: "test.sbom.file" }]),
    });
    const listed = await skiff(["discover", "--plain-http", `${repo}:v1`, "--format", "json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).referrers.map((r: { artifactType: string }) => r.artifactType)).toEqual([
      "test.sbom.file",
    ]);
  });
});

describe("repo, tag, resolve and version", () => {
  test("`repository` is an alias of repo, `digest` of resolve", async () => {
    expect(await ok(["repository", "show-tags", subject.repo])).toBe(
      await ok(["repo", "tags", subject.repo]),
    );
    expect(await ok(["digest", "-l", `${subject.repo}:v1`])).toBe(`${subject.repo}@${subject.digest}\n`);
  });

  test("repo ls --format json and go-template: the registry and full repository names", async () => {
    const r = registries.plain;
    const all = JSON.parse(await ok(["repo", "ls", r.localhost, "--format", "json"]));
    expect(all.registry).toBe(r.localhost);
    expect(all.repositories).toContain("compat/app");
    const under = JSON.parse(await ok(["repo", "ls", `${r.localhost}/compat`, "--format", "json"]));
    expect(under).toEqual({ registry: r.localhost, repositories: expect.arrayContaining(["compat/app"]) });
    expect(under.repositories.every((name: string) => name.startsWith("compat/"))).toBe(true);
    // The text lists the names under the namespace without it, as before.
    expect((await ok(["repo", "ls", `${r.localhost}/compat`])).split("\n")).toContain("app");
    const template = "{{.registry}}{{println}}{{range .repositories}}{{println .}}{{end}}";
    const text = await ok(["repo", "ls", r.localhost, "--format", `go-template=${template}`]);
    expect(text.split("\n")[0]).toBe(r.localhost);
    expect(text.split("\n")).toContain("compat/app");
  });

  test("repo tags REF:tag lists the tags of that manifest only; a missing tag fails with the registry's error", async () => {
    const repo = `${registries.plain.localhost}/compat/filter`;
    await ok(["cp", `${subject.repo}:v1`, `${repo}:v1,same1,same2`]);
    await ok(["push", `${repo}:other`, "sbom.json"]);
    for (const ref of [`${repo}:v1`, `${repo}@${subject.digest}`]) {
      const result = await skiff(["repo", "tags", ref]);
      expect({ ref, code: result.code, stdout: result.stdout }).toEqual({
        ref,
        code: 0,
        stdout: "same1\nsame2\nv1\n",
      });
      expect(result.stderr).toContain("[Experimental]");
      expect(result.stderr).toContain(subject.digest);
    }
    expect(JSON.parse(await ok(["repo", "tags", `${repo}:v1`, "--format", "json"]))).toEqual({
      tags: ["same1", "same2", "v1"],
    });
    expect(await ok(["repo", "tags", repo])).toBe("other\nsame1\nsame2\nv1\n");
    const missing = await skiff(["repo", "tags", `${repo}:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain("Error response from registry: ");
  });

  test("tag takes full references: the source's repository in a registry, any ref name in a layout", async () => {
    const repo = `${registries.plain.localhost}/compat/tagged`;
    await ok(["cp", `${subject.repo}:v1`, `${repo}:v1`]);
    const tagged = await ok(["tag", `${repo}:v1`, `${repo}:full`, "short"]);
    expect(tagged).toContain(`Tagged ${repo}:full\n`);
    expect(await ok(["repo", "tags", repo])).toBe("full\nshort\nv1\n");
    const elsewhere = await skiff(["tag", `${repo}:v1`, `${registries.plain.localhost}/compat/other:x`]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("mismatch");

    const layout = join(work, "full-ref-layout");
    await ok(["cp", `${subject.repo}:v1`, `oci-layout://${layout}:v1`]);
    await ok([
      "tag",
      "--oci-layout",
      `${layout}:v1`,
      "example.registry.com/foo:latest",
      "example.registry.com/foo:v1.2.6",
      "test.com/bar:v1",
      "example.registry.com/foo:sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]);
    const inLayout = ["repo", "tags", "--oci-layout-path", layout];
    expect(await ok([...inLayout, "example.registry.com/foo", "--exclude-digest-tags"])).toBe(
      "latest\nv1.2.6\n",
    );
    expect(await ok([...inLayout, "example.registry.com/foo:latest"])).toContain("test.com/bar:v1\nv1\n");
    expect(await ok([...inLayout, "test.com/bar", "--format", "json"])).toBe(
      '{\n  "tags": [\n    "v1"\n  ]\n}\n',
    );
  });

  test("tag: ORAS's phrases for an invalid source and for `tag list`", async () => {
    const invalid = await skiff(["tag", `${registries.plain.localhost}/INVALID:test`, "latest"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toStartWith("Error: unable to add tag");
    const list = await skiff(["tag", "list"]);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('there is no "list" sub-command for "skiff tag" command');
    expect(list.stderr).toContain("skiff repo tags");
    const none = await skiff(["tag", `${subject.repo}:v1`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("missing required argument 'tags'");
  });

  test("version ignores extra words with a warning and exits 0", async () => {
    const result = await skiff(["version", "foo", "bar"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(await ok(["version"]));
    expect(result.stderr).toBe('warning: `skiff version` takes no argument, "foo,bar" will be ignored\n');
  });
});

describe("login from a script", () => {
  const configOf = (home: string) => readFileSync(join(home, ".docker", "config.json"), "utf8");

  test("reads the user name and password from piped stdin, one line each (CRLF too)", async () => {
    const r = registries.basic;
    for (const stdin of [
      `${r.username}\n${r.password}\n`,
      `${r.username}\r\n${r.password}\r\n`,
      `${r.username}\n${r.password}`,
    ]) {
      const home = tmpDir("skiff-e2e-login-");
      const login = await skiff(["login", "--plain-http", r.host], { home, stdin });
      expect({ code: login.code, stdout: login.stdout, stderr: login.stderr }).toEqual({
        code: 0,
        stdout: "Login Succeeded\n",
        stderr: "Username: Password: ",
      });
      expect(JSON.parse(configOf(home)).auths[r.host].auth).toBe(
        Buffer.from(`${r.username}:${r.password}`).toString("base64"),
      );
      // The stored login works for the next command.
      expect((await skiff(["repo", "ls", "--plain-http", r.host], { home })).code).toBe(0);
    }
  });

  test("-u with the password piped; an empty answer is refused and nothing is stored", async () => {
    const r = registries.basic;
    const home = tmpDir("skiff-e2e-login-");
    const login = await skiff(["login", "--plain-http", "-u", r.username!, r.host], {
      home,
      stdin: `${r.password}\n`,
    });
    expect([login.code, login.stdout]).toEqual([0, "Login Succeeded\n"]);
    const empty = tmpDir("skiff-e2e-login-");
    const refused = await skiff(["login", "--plain-http", r.host], {
      home: empty,
      stdin: `${r.username}\n\n`,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Error: password required");
    expect(existsSync(join(empty, ".docker", "config.json"))).toBe(false);
  });

  test("--password on the command line gets ORAS's warning; refused credentials carry the registry's words", async () => {
    const r = registries.basic;
    const home = tmpDir("skiff-e2e-login-");
    const warning = PASSWORD_WARNING;
    const ok = await skiff(["login", "--plain-http", "-u", r.username!, "-p", r.password!, r.host], { home });
    expect([ok.code, ok.stderr]).toEqual([0, warning]);
    const wrong = await skiff(["login", "--plain-http", "-u", r.username!, "--password", "wrong", r.host], {
      home,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toStartWith(warning);
    expect(wrong.stderr).toMatch(
      /Error: .* refused the credentials: Error response from registry: unauthorized: /,
    );
  });

  test("every command given -p/--password warns as ORAS does; cp's --from-password and --to-password do not", async () => {
    const r = registries.basic;
    const home = tmpDir("skiff-e2e-login-");
    const warning = PASSWORD_WARNING;
    const user = ["--plain-http", "-u", r.username!];
    const pushed = await skiff(["push", ...user, "-p", r.password!, `${r.host}/warn/app:v1`, "a.txt"], {
      home,
    });
    expect([pushed.code, pushed.stderr]).toEqual([0, warning]);
    const tags = await skiff(["repo", "tags", ...user, "--password", r.password!, `${r.host}/warn/app`], {
      home,
    });
    expect([tags.code, tags.stdout, tags.stderr]).toEqual([0, "v1\n", warning]);
    const copied = await skiff(
      [
        "cp",
        ...["--from-plain-http", "--from-username", r.username!, "--from-password", r.password!],
        ...["--to-plain-http", "--to-username", r.username!, "--to-password", r.password!],
        `${r.host}/warn/app:v1`,
        `${r.host}/warn/app:v2`,
      ],
      { home },
    );
    expect([copied.code, copied.stderr]).toEqual([0, ""]);
  });
});

describe("custom headers", () => {
  test("-H on a layout target is refused, naming custom headers; a header without a name is refused", async () => {
    const layout = join(work, "header-layout");
    await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt"]);
    for (const args of [
      ["resolve", "--oci-layout", `${layout}:v1`, "-H", "a: b"],
      ["attach", "--oci-layout", `${layout}:v1`, "--artifact-type", "doc/example", "-a", "k=v", "-H=foo:bar"],
    ]) {
      const result = await skiff(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr.split("\n")[0]).toContain("custom headers");
    }
    const bad = await skiff(["resolve", `${subject.repo}:v1`, "-H", "foo"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid header: "foo"');
  });

  test("-H reaches the registry, and index create with a layout source among registry ones still works", async () => {
    const proxy = await startFaultProxy({ upstream: registries.plain.url });
    try {
      const repo = `${proxy.host}/compat/app`;
      await ok(["resolve", "--plain-http", "-H", "X-Compat: yes", `${repo}:v1`]);
      expect(proxy.requests.some((r) => r.headers["x-compat"] === "yes")).toBe(true);
    } finally {
      await proxy.stop();
    }
    const layout = join(work, "header-index-layout");
    await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt"]);
    const index = `${registries.plain.localhost}/compat/index:v1`;
    const sources = [`oci-layout://${layout}:v1`, `${subject.repo}:v1`];
    await ok(["index", "create", "--allow-missing-platform", "-H", "X-Compat: yes", index, ...sources]);
  });
});

describe("more of ORAS's phrases", () => {
  test("stdin for content and for the secret: `cannot be both used`", async () => {
    const target = `${subject.repo}-stdin`;
    for (const [flag, secret] of [
      ["--password-stdin", "password"],
      ["--identity-token-stdin", "identity token"],
    ] as const) {
      for (const args of [
        ["blob", "push", target, "-", "--size", "3"],
        ["manifest", "push", `${target}:v1`, "-"],
        ["push", `${target}:v1`, "-"],
      ]) {
        const result = await skiff([...args, flag], { stdin: "{}\n" });
        expect({ args, flag, code: result.code }).toEqual({ args, flag, code: 1 });
        expect(result.stderr.split("\n")[0]).toBe(
          `Error: \`-\` read file from input and \`${flag}\` read ${secret} from input cannot be both used`,
        );
      }
    }
  });

  test("backup and restore refuse digests, malformed ones too; a missing required flag is named", async () => {
    for (const args of [
      ["backup", "--output", join(work, "bk"), "invalid/format@sha256:digest"],
      ["backup", "--output", join(work, "bk"), "invalid/format:v1,@sha256:123abc"],
      ["restore", "--input", join(work, "bk"), `${subject.repo}@${subject.digest}`],
    ]) {
      const result = await skiff(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toContain("digest references are not supported");
    }
    const missing = await skiff(["backup", `${subject.repo}:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n")[0]).toBe('Error: required flag(s) "output" not set');
    expect(missing.stderr).toContain("Usage: skiff backup");
  });
});
