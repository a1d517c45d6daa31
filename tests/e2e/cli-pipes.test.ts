/**
 * skiff in pipes: what each stdin/stdout path writes and reads, byte for byte, against the real
 * registry and a layout. Paths already covered elsewhere are not repeated here: `blob fetch -o -`,
 * `manifest fetch` and `manifest fetch-config` to stdout and `blob push -` / `manifest push -` to a
 * registry are in registry-commands.test.ts; `pull -o -` and `blob fetch -o -` from a layout in
 * pull-layout.test.ts. This file adds `pull -o -` from a registry (a multi-MiB binary file), the
 * several-files error, stdin into a layout, and whole pipelines where one run's stdout is the
 * next run's stdin, in both directions.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MT } from "../fixtures/layout-builder.ts";
import { useRegistries } from "../harness/registry.ts";
import { type RunOptions, runSkiff, skiffOk, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain"]);
const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** 3 MiB of bytes that are not text, so any re-encoding on the way to stdout shows. */
const BIG = new Uint8Array(3 * 1024 * 1024);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 131 + (i >> 12)) % 256;

let work: string;
/** Registry references, seeded in beforeAll. */
let single: string;
let several: string;
/** A layout holding the same two artifacts under the same tags. */
let layout: string;

/** skiff runs in the work folder and must succeed. */
const ok = (args: string[], options: RunOptions = {}) => skiffOk(args, { cwd: work, ...options });

beforeAll(async () => {
  work = tmpDir("skiff-pipes-");
  writeFileSync(join(work, "big.bin"), BIG);
  writeFileSync(join(work, "a.txt"), "a\n");
  writeFileSync(join(work, "b.txt"), "b\n");
  const host = registries.plain.host;
  single = `${host}/pipes/single:v1`;
  several = `${host}/pipes/several:v1`;
  layout = join(work, "layout");
  await ok(["push", "--plain-http", single, "big.bin"]);
  await ok(["push", "--plain-http", several, "a.txt", "b.txt"]);
  await ok(["push", "--oci-layout", `${layout}:single`, "big.bin"]);
  await ok(["push", "--oci-layout", `${layout}:several`, "a.txt", "b.txt"]);
}, 60_000);

describe("pull -o -", () => {
  test("registry: the single file on stdout, byte for byte, and nothing else", async () => {
    const result = await ok(["pull", "--plain-http", single, "-o", "-"]);
    expect(result.stdoutBytes.length).toBe(BIG.length);
    expect(sha256(result.stdoutBytes)).toBe(sha256(BIG));
    expect(result.stderr).toBe("");
  });

  test("an artifact with several files: a usage error (exit 1, with the usage line), nothing on stdout, the files listed", async () => {
    for (const [where, args] of [
      ["registry", ["--plain-http", several]],
      ["layout", [`oci-layout://${layout}:several`]],
    ] as const) {
      const result = await runSkiff(["pull", ...args, "-o", "-"], { cwd: work });
      expect({ where, code: result.code, stdout: result.stdout }).toEqual({ where, code: 1, stdout: "" });
      const [error, hint] = result.stderr.trimEnd().split("\n");
      expect(error).toMatch(
        /^Error: -o - needs an artifact with exactly one file; sha256:[0-9a-f]{64} has 2$/,
      );
      expect(hint).toBe("files: a.txt, b.txt; pull into a directory with -o DIR");
      expect(result.stderr).toContain("Usage: skiff pull");
    }
  });
});

describe("push - from stdin", () => {
  test("push - reads the file from stdin; the layer's digest is that of the bytes; pull gives it back", async () => {
    const out = join(tmpDir(), "layout");
    const result = await ok(["push", "--oci-layout", "--format", "json", `${out}:v1`, "-"], {
      stdin: BIG,
    });
    const digest = JSON.parse(result.stdout).digest as string;
    const manifest = JSON.parse(readFileSync(join(out, "blobs", "sha256", digest.slice(7)), "utf8"));
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]).toMatchObject({ digest: sha256(BIG), size: BIG.length });
    expect(manifest.layers[0].annotations["org.opencontainers.image.title"]).toBe("stdin");
    const pulled = await ok(["pull", `oci-layout://${out}:v1`, "-o", "-"]);
    expect(sha256(pulled.stdoutBytes)).toBe(sha256(BIG));
  });

  test("--stdin-name names it and -- -:TYPE gives its media type, to a registry; attach reads - too", async () => {
    const registry = registries.plain;
    const text = "build log\n";
    const ref = `${registry.host}/pipes/log:v1`;
    const pushed = await ok(
      ["push", "--plain-http", "--format", "json", "--stdin-name", "build.log", ref, "--", "-:text/plain"],
      { stdin: text },
    );
    const manifest = JSON.parse((await ok(["manifest", "fetch", "--plain-http", ref])).stdout);
    expect(manifest.layers[0]).toMatchObject({ mediaType: "text/plain", digest: sha256(text) });
    expect(manifest.layers[0].annotations["org.opencontainers.image.title"]).toBe("build.log");
    const attached = await ok(
      ["attach", "--plain-http", "--format", "json", "--artifact-type", "application/x.sig", ref, "-"],
      { stdin: "signature" },
    );
    const referrer = JSON.parse(
      (
        await ok([
          "manifest",
          "fetch",
          "--plain-http",
          `${registry.host}/pipes/log@${JSON.parse(attached.stdout).digest}`,
        ])
      ).stdout,
    );
    expect(referrer.subject.digest).toBe(JSON.parse(pushed.stdout).digest);
    expect(referrer.layers[0].digest).toBe(sha256("signature"));
  });

  test("stdin cannot be both a file and the password", async () => {
    const result = await runSkiff(
      ["push", "--plain-http", "-u", "x", "--password-stdin", `${registries.plain.host}/pipes/x:v1`, "-"],
      { cwd: work, stdin: "secret" },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("a file and the password cannot both come from stdin");
  });
});

describe("stdin into a layout", () => {
  test("blob push - and manifest push - write the exact bytes under their digests", async () => {
    const out = join(tmpDir(), "layout");
    const text = "from stdin\n";
    const blob = await ok(
      ["blob", "push", "--oci-layout", "--size", String(text.length), `${out}@${sha256(text)}`, "-"],
      { stdin: text },
    );
    expect(blob.stdout).toContain(`Digest: ${sha256(text)}`);
    expect(readFileSync(join(out, "blobs", "sha256", sha256(text).slice(7)), "utf8")).toBe(text);

    // A manifest naming that blob and the empty config (pushed the same way).
    const empty = "{}";
    await ok(["blob", "push", "--oci-layout", "--size", "2", `${out}@${sha256(empty)}`, "-"], {
      stdin: empty,
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.empty, digest: sha256(empty), size: 2 },
      layers: [
        {
          mediaType: MT.layer,
          digest: sha256(text),
          size: text.length,
          annotations: { "org.opencontainers.image.title": "stdin.txt" },
        },
      ],
    });
    const pushed = await ok(["manifest", "push", "--oci-layout", `${out}:v1`, "-"], { stdin: manifest });
    expect(pushed.stdout).toContain(`Digest: ${sha256(manifest)}`);
    expect((await ok(["pull", `oci-layout://${out}:v1`, "-o", "-"])).stdout).toBe(text);
  });

  test("blob push - refuses bytes that do not match the digest, and stores nothing", async () => {
    const out = join(tmpDir(), "layout");
    const result = await runSkiff(
      ["blob", "push", "--oci-layout", "--size", "5", `${out}@${sha256("other")}`, "-"],
      { stdin: "hello", cwd: work },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*sha256:/);
    expect(result.stdout).not.toMatch(/Uploaded|Pushed/);
    expect(existsSync(join(out, "blobs", "sha256", sha256("other").slice(7)))).toBe(false);
    expect(existsSync(join(out, "blobs", "sha256", sha256("hello").slice(7)))).toBe(false);
  });
});

describe("pipelines: one run's stdout is the next run's stdin", () => {
  /** A place to copy from or to: its flags and its name (`host/repo` or a layout path). */
  interface Place {
    flags: string[];
    name: string;
  }

  /** Copies `from`'s single-file artifact blob by blob with fetch | push, then pulls the file back. */
  async function copyThroughPipes(from: Place, tag: string, to: Place): Promise<void> {
    const source = `${from.name}:${tag}`;
    const manifestBytes = (await ok(["manifest", "fetch", ...from.flags, source])).stdoutBytes;
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString("utf8"));
    const config = (await ok(["manifest", "fetch-config", ...from.flags, source])).stdoutBytes;
    expect(sha256(config)).toBe(manifest.config.digest);
    const layer = manifest.layers[0];
    const layerBytes = (await ok(["blob", "fetch", ...from.flags, "-o", "-", `${from.name}@${layer.digest}`]))
      .stdoutBytes;
    expect(sha256(layerBytes)).toBe(layer.digest);

    for (const [bytes, digest] of [
      [config, manifest.config.digest],
      [layerBytes, layer.digest],
    ] as const) {
      await ok(["blob", "push", ...to.flags, "--size", String(bytes.length), `${to.name}@${digest}`, "-"], {
        stdin: bytes,
      });
    }
    const pushed = await ok(["manifest", "push", ...to.flags, "--format", "json", `${to.name}:copied`, "-"], {
      stdin: manifestBytes,
    });
    // The manifest went through two pipes unchanged: the same digest on both sides.
    expect(JSON.parse(pushed.stdout).digest).toBe(sha256(manifestBytes));
    const pulled = await ok(["pull", ...to.flags, `${to.name}:copied`, "-o", "-"]);
    expect(sha256(pulled.stdoutBytes)).toBe(sha256(BIG));
  }

  const registry = (repo: string): Place => ({
    flags: ["--plain-http"],
    name: `${registries.plain.host}/${repo}`,
  });

  test("registry -> layout", async () => {
    const out = join(tmpDir(), "layout");
    await copyThroughPipes(registry("pipes/single"), "v1", { flags: ["--oci-layout"], name: out });
  });

  test("layout -> registry", async () => {
    await copyThroughPipes({ flags: ["--oci-layout"], name: layout }, "single", registry("pipes/copied"));
  });
});
