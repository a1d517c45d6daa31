/**
 * ORAS's behaviour for pull, push, attach, cp, backup and restore, where ORAS scripts depend on it:
 * flags (`pull --config`, `--concurrency 0`, `--artifact-type ""`, `FILE:TYPE` with any type, `../`
 * paths), the order of checks, and the short phrases of errors (`no tag or digest specified`,
 * `neither file nor annotation`, `required flag(s) "output" not set`, `digest references are not
 * supported`, `no such file or directory`, `no tags found`, `invalid OCI Image Layout`,
 * `Error from destination registry for "REF"`). The compiled binary against real registries.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff, tmpDir } from "../harness/skiff.ts";

let plain: RunningRegistry;
let basic: RunningRegistry;
let work: string;

async function skiff(args: string[], cwd = work) {
  const result = await runSkiff(args, { cwd, timeoutMs: 60_000 });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

async function ok(args: string[], cwd = work): Promise<string> {
  const result = await skiff(args, cwd);
  if (result.code !== 0)
    throw new Error(`skiff ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

/**
 * The first two lines of stderr: the error and skiff's hint. Every failure exits 1, as in ORAS; a
 * usage error also shows the command's usage line.
 */
async function failure(
  args: string[],
  kind: "failure" | "usage" = "failure",
  cwd = work,
): Promise<[string, string]> {
  const result = await skiff(args, cwd);
  expect(result.code).toBe(1);
  if (kind === "usage") expect(result.stderr).toContain("\nUsage: skiff ");
  const [first = "", second = ""] = result.stderr.split("\n");
  return [first, second];
}

beforeAll(async () => {
  work = tmpDir("skiff-oras-transfer-");
  mkdirSync(join(work, "sub"));
  writeFileSync(join(work, "a.txt"), "a\n");
  writeFileSync(join(work, "b.txt"), "b\n");
  writeFileSync(join(work, "config.json"), '{"x":1}');
  [plain, basic] = await Promise.all([startRegistry("plain"), startRegistry("basic")]);
  await ok([
    "push",
    "--artifact-type",
    "application/vnd.example",
    "--config",
    "config.json:application/vnd.example.config+json",
    `${plain.localhost}/app:v1`,
    "a.txt",
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([plain?.stop(), basic?.stop()]);
});

describe("references without tag or digest, and the order of checks", () => {
  test("pull and cp: ORAS's phrase `no tag or digest specified`", async () => {
    for (const args of [
      ["pull", `${plain.localhost}/app`],
      ["cp", `${plain.localhost}/app`, `${plain.localhost}/copy:v1`],
    ]) {
      const [error] = await failure(args);
      expect(error).toBe(`Error: "${plain.localhost}/app": no tag or digest specified`);
    }
  });

  test("attach: the subject's form is checked first, with a hint for a missing subject", async () => {
    const [noFiles, hint] = await failure(["attach", "--artifact-type", "a/b", "localhost:1/app"]);
    expect(noFiles).toBe('Error: "localhost:1/app": no tag or digest specified');
    expect(hint).toContain("name the subject");
    const [withFile, fileHint] = await failure([
      "attach",
      "--artifact-type",
      "a/b",
      "localhost:1/app",
      "a.txt",
    ]);
    expect(withFile).toContain("no tag or digest specified");
    expect(fileHint).toContain("localhost:1/app:latest");
  });

  test("attach without files or annotations fails before any registry or layout is opened", async () => {
    // localhost:1 refuses connections and the layout does not exist: neither is reached.
    for (const subject of [["localhost:1/app:v1"], ["--oci-layout", join(work, "no-layout:v1")]]) {
      const [error, hint] = await failure(["attach", "--artifact-type", "a/b", ...subject], "usage");
      expect(error).toStartWith("Error: neither file nor annotation provided in the command");
      expect(hint).toContain("-a key=value");
    }
    expect(existsSync(join(work, "no-layout"))).toBe(false);
  });

  test('required flags: ORAS\'s `required flag(s) "NAME" not set`, after the arguments', async () => {
    const cases: [string[], string][] = [
      [["attach", "localhost:1/app:v1", "a.txt"], "artifact-type"],
      [["backup", "localhost:1/app:v1"], "output"],
      [["restore", "localhost:1/app:v1"], "input"],
    ];
    for (const [args, flag] of cases) {
      const [error] = await failure(args, "usage");
      expect(error).toBe(`Error: required flag(s) "${flag}" not set`);
    }
    const missingArgument = await skiff(["backup"]);
    expect(missingArgument.stderr).toContain("missing required argument");
  });

  test("backup and restore refuse digests, also malformed ones, as digests", async () => {
    for (const command of [
      ["backup", "--output", "out"],
      ["restore", "--input", "in"],
    ]) {
      for (const ref of ["invalid/format@sha256:digest", "invalid/format:v1,@sha256:123abc"]) {
        const [error] = await failure([...command, ref], "usage");
        expect(error).toBe(`Error: digest references are not supported: "${ref}"`);
      }
    }
  });
});

describe("restore and backup inputs and outputs", () => {
  test("a missing input: `no such file or directory`", async () => {
    for (const name of ["missing", "missing.tar"]) {
      const [error] = await failure(["restore", "--input", join(work, name), `${plain.localhost}/r`]);
      expect(error).toContain("no such file or directory");
    }
  });

  test("a directory that is no layout has no tags; restore writes nothing into it", async () => {
    const empty = join(work, "empty-backup");
    const junk = join(work, "junk-backup");
    mkdirSync(empty);
    mkdirSync(junk);
    writeFileSync(join(junk, "notes.txt"), "not a layout");
    for (const dir of [empty, junk]) {
      const [error] = await failure(["restore", "--input", dir, `${plain.localhost}/r`]);
      expect(error).toStartWith(`Error: no tags found in OCI layout "${dir}"`);
    }
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(junk)).toEqual(["notes.txt"]);
  });

  test("an empty tar: `invalid OCI Image Layout`", async () => {
    const tar = join(work, "invalid-backup.tar");
    writeFileSync(tar, "");
    const [error] = await failure(["restore", "--input", tar, `${plain.localhost}/r`]);
    expect(error).toStartWith("Error: invalid OCI Image Layout");
    expect(error).toContain(tar);
  });

  test("a layout without tags: `no tags found`, and where to list its tags", async () => {
    const layout = join(work, "untagged");
    await ok(["push", "--oci-layout", layout, "a.txt"]);
    const [error, hint] = await failure(["restore", "--input", layout, `${plain.localhost}/r`]);
    expect(error).toBe(`Error: no tags found in OCI layout "${layout}"`);
    expect(hint).toContain(`skiff repo tags --oci-layout ${layout}`);
  });

  test("backup to a FILE.tar that is a directory: ORAS's first line", async () => {
    const output = join(work, "conflict.tar");
    mkdirSync(output);
    const [error] = await failure(["backup", "--output", output, `${plain.localhost}/app:v1`]);
    expect(error).toBe(`Error: the output path "${output}" already exists and is a directory`);
  });
});

describe("push and attach flags", () => {
  test("--image-spec: ORAS's phrase and the options", async () => {
    const [error, options] = await failure(["push", "--image-spec", "v2", "localhost:1/app:v1"], "usage");
    expect(error).toContain("unknown image specification flag: v2");
    expect(options).toBe("Available options: v1.1, v1.0");
  });

  test("--config without --artifact-type under image-spec v1.1: ORAS's phrase", async () => {
    const [error] = await failure(
      ["push", "--image-spec", "v1.1", "--config", "config.json", "--oci-layout", join(work, "x:v1")],
      "usage",
    );
    expect(error).toContain("missing artifact type for OCI image-spec v1.1 artifacts");
  });

  test("a missing file: the error names it as given and where it was looked for, then the reason", async () => {
    const [error] = await failure(["push", "--oci-layout", join(work, "nf:v1"), "file/not/found"]);
    expect(error).toBe(
      `Error: cannot read file "file/not/found" (${join(work, "file/not/found")}): no such file or directory`,
    );
  });

  test("referenceAsTags lists the tags sorted, as ORAS does", async () => {
    const text = await ok([
      "push",
      "--format",
      "go-template={{range .referenceAsTags}}{{println .}}{{end}}",
      `${plain.localhost}/tags:e2e,2e2,abc,Zed`,
      "a.txt",
    ]);
    const name = `${plain.localhost}/tags`;
    expect(text).toBe(`${name}:2e2\n${name}:Zed\n${name}:abc\n${name}:e2e\n`);
  });

  test("an artifact type that is no media type: ORAS's `invalid media type`", async () => {
    const [error] = await failure(
      ["push", "--artifact-type", "nonsense", "--oci-layout", join(work, "t:v1"), "a.txt"],
      "usage",
    );
    expect(error).toBe('Error: invalid artifact type "nonsense": invalid media type');
  });

  test('--artifact-type "" is the default artifact type', async () => {
    const json = JSON.parse(
      await ok([
        "push",
        "--format",
        "json",
        "--artifact-type",
        "",
        "--oci-layout",
        join(work, "empty-type:v1"),
        "a.txt",
      ]),
    );
    expect(json.artifactType).toBe("application/vnd.unknown.artifact.v1");
  });

  test("a relative path leaving the directory is pushed as titled; pull wants -T for it", async () => {
    const layout = join(work, "up-layout");
    await ok(["push", "--oci-layout", `${layout}:v1`, "../a.txt"], join(work, "sub"));
    const manifest = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${layout}:v1`]));
    expect(manifest.layers[0].annotations["org.opencontainers.image.title"]).toBe("../a.txt");
    const out = join(work, "pulled-up", "inner");
    expect((await skiff(["pull", "--oci-layout", `${layout}:v1`, "-o", out])).code).not.toBe(0);
    await ok(["pull", "-T", "--oci-layout", `${layout}:v1`, "-o", out]);
    expect(readFileSync(join(work, "pulled-up", "a.txt"), "utf8")).toBe("a\n");
    const [absolute] = await failure(["push", "--oci-layout", `${layout}:v2`, join(work, "a.txt")]);
    expect(absolute).toContain("absolute file path");
  });

  test("FILE:TYPE takes a type without a slash, and skiff reads it back everywhere", async () => {
    const layout = join(work, "typed");
    await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt:layer.type"]);
    const manifest = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${layout}:v1`]));
    expect(manifest.layers[0].mediaType).toBe("layer.type");
    await ok(["pull", "--oci-layout", `${layout}:v1`, "-o", join(work, "typed-out")]);
    expect(readFileSync(join(work, "typed-out", "a.txt"), "utf8")).toBe("a\n");
    await ok(["cp", "--from-oci-layout", `${layout}:v1`, `${plain.localhost}/typed:v1`]);
    const [spaced] = await failure(["push", "--oci-layout", `${layout}:v2`, "a.txt:not a type"], "usage");
    expect(spaced).toContain('invalid media type "not a type"');
  });
});

describe("pull --config and --format", () => {
  test("--config FILE writes the config into the output directory; JSON lists only the files", async () => {
    const out = join(work, "with-config");
    const json = JSON.parse(
      await ok(["pull", "--format", "json", "--config", "cfg.json", `${plain.localhost}/app:v1`, "-o", out]),
    );
    expect(readFileSync(join(out, "cfg.json"), "utf8")).toBe('{"x":1}');
    expect(readFileSync(join(out, "a.txt"), "utf8")).toBe("a\n");
    expect(json.files.map((f: { path: string }) => f.path)).toEqual([join(out, "a.txt")]);
  });

  test("--config FILE:TYPE writes it only when the config has that media type", async () => {
    const matching = join(work, "config-match");
    await ok([
      "pull",
      "--config",
      "cfg.json:application/vnd.example.config+json",
      `${plain.localhost}/app:v1`,
      "-o",
      matching,
    ]);
    expect(existsSync(join(matching, "cfg.json"))).toBe(true);
    const other = join(work, "config-other");
    const text = await ok(["pull", "--config", "cfg.json:???", `${plain.localhost}/app:v1`, "-o", other]);
    expect(existsSync(join(other, "cfg.json"))).toBe(false);
    expect(existsSync(join(other, "a.txt"))).toBe(true);
    expect(text).not.toContain("cfg.json");
  });

  test("--template without go-template and an invalid --format: ORAS's phrases", async () => {
    const [template] = await failure(
      ["pull", "--format", "json", "--template", "{{.}}", "localhost:1/a:v1"],
      "usage",
    );
    expect(template).toContain("--template must be used with --format go-template");
    const [format] = await failure(
      ["pull", "--format", "json", "--format", "=", "localhost:1/a:v1"],
      "usage",
    );
    expect(format).toBe('Error: invalid format type: ""');
    const [empty] = await failure(["pull", "--format", "go-template=", "localhost:1/a:v1"], "usage");
    expect(empty).toContain("format specified but no template given");
  });
});

describe("cp", () => {
  test("--concurrency 0 (and less) is the default limit, as in ORAS", async () => {
    await ok(["cp", "--concurrency", "0", `${plain.localhost}/app:v1`, `${plain.localhost}/c0:v1`]);
    await ok(["cp", "--concurrency", "-1", `${plain.localhost}/app:v1`, `${plain.localhost}/c1:v1`]);
    const [bad] = await failure(
      ["cp", "--concurrency", "two", `${plain.localhost}/app:v1`, `${plain.localhost}/c:v1`],
      "usage",
    );
    expect(bad).toContain('--concurrency must be a whole number, got "two"');
  });

  test('errors of the destination registry: `Error from destination registry for "REF"`', async () => {
    const to = `${basic.localhost}/dest`;
    const wrong = await skiff([
      "cp",
      `${plain.localhost}/app:v1`,
      to,
      "--to-username",
      basic.username!,
      "--to-password",
      "wrong",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split("\n")[0]).toStartWith(`Error from destination registry for "${to}": `);
    const anonymous = await skiff(["cp", `${plain.localhost}/app:v1`, to]);
    expect(anonymous.stderr.split("\n")[0]).toStartWith(`Error from destination registry for "${to}": `);
    await ok([
      "cp",
      `${plain.localhost}/app:v1`,
      to,
      "--to-username",
      basic.username!,
      "--to-password",
      basic.password!,
    ]);
  });

  test('errors of the source: `Error from source registry|oci-layout for "REF"`, never the destination\'s', async () => {
    const missing = `${plain.localhost}/app:nope`;
    const result = await skiff(["cp", missing, `${plain.localhost}/c2:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toStartWith(`Error from source registry for "${missing}": `);
    expect(result.stderr.split("\n")[0]).toContain(`${missing}: not found`);
    const locked = `${basic.localhost}/dest:v1`;
    const source = await skiff(["cp", locked, `${plain.localhost}/c3:v1`]);
    expect(source.code).toBe(1);
    expect(source.stderr).toStartWith(`Error from source registry for "${locked}": `);
    const unreachable = await skiff(["cp", "localhost:1/app:v1", `${plain.localhost}/c4:v1`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toStartWith('Error from source registry for "localhost:1/app:v1": ');
    const platform = await skiff([
      "cp",
      "--platform",
      "linux/s390x",
      `${plain.localhost}/app:v1`,
      `${plain.localhost}/c5:v1`,
    ]);
    expect(platform.code).toBe(1);
    expect(platform.stderr).toStartWith(`Error from source registry for "${plain.localhost}/app:v1": `);

    const layout = join(work, "source-layout");
    await ok(["cp", `${plain.localhost}/app:v1`, "--to-oci-layout", `${layout}:v1`]);
    const fromLayout = await skiff(["cp", "--from-oci-layout", `${layout}:nope`, `${plain.localhost}/c6:v1`]);
    expect(fromLayout.code).toBe(1);
    expect(fromLayout.stderr.split("\n")[0]).toStartWith(
      `Error from source oci-layout for "${layout}:nope": `,
    );
    expect(fromLayout.stderr.split("\n")[0]).toContain("not found");
    // A layout path that is not there is the command line's error, as in ORAS.
    const noLayout = await skiff([
      "cp",
      "--from-oci-layout",
      `${join(work, "none")}:v1`,
      `${plain.localhost}/c7:v1`,
    ]);
    expect(noLayout.stderr).toStartWith("Error: ");
  });

  test('a layout destination that cannot be written: `Error from destination oci-layout for "REF"`', async () => {
    const broken = join(work, "broken-layout");
    mkdirSync(join(broken, "blobs"), { recursive: true });
    writeFileSync(join(broken, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(broken, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    writeFileSync(join(broken, "blobs", "sha256"), "not a directory");
    const result = await skiff(["cp", `${plain.localhost}/app:v1`, "--to-oci-layout", `${broken}:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toStartWith(`Error from destination oci-layout for "${broken}:v1": `);
  });
});
