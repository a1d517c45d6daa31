/**
 * The user story's step 4 with the compiled binary: consumers pull `--platform linux/arm64/v8:el8`
 * straight from an OCI layout directory or a layout tar (plain and gzip), with and without a tag,
 * and get exactly that platform's files. Plus resolve / manifest / blob / repo commands on layouts
 * and every bad input of issue 3.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cleanup, LayoutBuilder, MT, sha256, TITLE, tempDir } from "../fixtures/layout-builder.ts";
import { type RunOptions, runSkiff, skiffFails, skiffOk } from "../harness/skiff.ts";

/** The stdout of a skiff run that must succeed. */
const ok = async (args: string[], options: RunOptions = {}) => (await skiffOk(args, options)).stdout;

const EXAMPLE = resolve(import.meta.dir, "..", "..", "examples", "repo-layout");

interface Places {
  dir: string;
  tagged: string;
  tar: string;
  tgz: string;
  taggedTar: string;
}
let places: Places;
let work: string;
let el8Digest: string;
let indexDigest: string;

beforeAll(() => {
  work = tempDir("skiff-e2e-pull-");
  const dir = join(work, "repo-layout");
  cpSync(EXAMPLE, dir, { recursive: true });
  const tagged = join(work, "tagged-layout");
  cpSync(EXAMPLE, tagged, { recursive: true });
  const index = JSON.parse(readFileSync(join(tagged, "index.json"), "utf8"));
  indexDigest = index.manifests[0].digest;
  index.manifests[0].annotations = { "org.opencontainers.image.ref.name": "1.2" };
  writeFileSync(join(tagged, "index.json"), JSON.stringify(index));
  const tar = (from: string, name: string, gzip: boolean) => {
    const out = join(work, name);
    const r = spawnSync("tar", ["-C", from, gzip ? "-czf" : "-cf", out, "."]);
    if (r.status !== 0) throw new Error(String(r.stderr));
    return out;
  };
  places = {
    dir,
    tagged,
    tar: tar(dir, "layout.tar", false),
    tgz: tar(dir, "layout.tar.gz", true),
    taggedTar: tar(tagged, "tagged.tar", false),
  };
  const nested = JSON.parse(readFileSync(join(dir, "blobs", "sha256", indexDigest.slice(7)), "utf8"));
  el8Digest = nested.manifests.find(
    (m: { platform: Record<string, string> }) =>
      m.platform.architecture === "arm64" && m.platform["os.version"] === "el8",
  ).digest;
});
afterAll(cleanup);

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

function expectEl8Arm(out: string): void {
  expect(listFiles(out)).toEqual(["packages.txt", "repodata/repomd.xml"]);
  expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("el8.aarch64.rpm");
  expect(readFileSync(join(out, "repodata/repomd.xml"), "utf8")).toContain(
    "<distro>el8</distro><arch>aarch64</arch>",
  );
}

describe("user story step 4: pull --platform linux/arm64/v8:el8 from layouts", () => {
  const variants: [string, () => string[]][] = [
    ["a directory, tagless, oci-layout://", () => [`oci-layout://${places.dir}`]],
    ["a directory, tagless, --oci-layout", () => ["--oci-layout", places.dir]],
    ["a directory, tagged", () => [`oci-layout://${places.tagged}:1.2`]],
    [
      "a directory, --oci-layout-path with the tag as argument",
      () => ["--oci-layout-path", places.tagged, "1.2"],
    ],
    ["a directory, by digest", () => [`oci-layout://${places.dir}@${indexDigest}`]],
    ["a plain tar, tagless", () => [`oci-layout://${places.tar}`]],
    ["a plain tar, tagged", () => ["--oci-layout", `${places.taggedTar}:1.2`]],
    ["a gzip tar, tagless", () => [`oci-layout://${places.tgz}`]],
  ];
  for (const [name, ref] of variants) {
    test(name, async () => {
      const out = join(tempDir(), "bar");
      const stdout = await ok(["pull", "--platform", "linux/arm64/v8:el8", ...ref(), "--output", out]);
      expectEl8Arm(out);
      expect(stdout).toContain("Pulled [oci-layout]");
      expect(stdout).toContain(`Digest: ${el8Digest}`);
      expect(stdout).toMatch(/Downloaded +[0-9a-f]{12} packages\.txt/);
    });
  }

  test("the README's first command, run from the repository root", async () => {
    const out = join(tempDir(), "out");
    await ok(["pull", "--platform", "linux/arm64/v8:el8", "oci-layout://examples/repo-layout", "-o", out], {
      cwd: resolve(import.meta.dir, "..", ".."),
    });
    expectEl8Arm(out);
  });

  test("--format json lists the files with ORAS keys", async () => {
    const out = join(tempDir(), "out");
    const stdout = await ok([
      "pull",
      "--platform",
      "linux/arm64/v8:el8",
      `oci-layout://${places.tgz}`,
      "-o",
      out,
      "--format",
      "json",
    ]);
    const json = JSON.parse(stdout);
    expect(Object.keys(json)).toEqual(["reference", "files"]);
    expect(json.reference).toBe(`${places.tgz}@${el8Digest}`);
    expect(json.files.map((f: { path: string }) => f.path).sort()).toEqual(
      [join(out, "packages.txt"), join(out, "repodata/repomd.xml")].sort(),
    );
    expect(Object.keys(json.files[0])).toEqual([
      "path",
      "reference",
      "mediaType",
      "digest",
      "size",
      "annotations",
    ]);
    for (const file of json.files) expect(sha256(readFileSync(file.path))).toBe(file.digest);
  });

  test("os.version matters: el9 gets el9's files", async () => {
    const out = join(tempDir(), "out");
    await ok(["pull", "--platform", "linux/amd64:el9", `oci-layout://${places.tar}`, "-o", out]);
    expect(readFileSync(join(out, "packages.txt"), "utf8")).toContain("el9.x86_64.rpm");
  });

  test("an ambiguous platform fails, listing the candidates and the reference that selects each", async () => {
    const run = await runSkiff([
      "pull",
      "--platform",
      "linux/arm64",
      `oci-layout://${places.dir}`,
      "-o",
      join(tempDir(), "o"),
    ]);
    expect(run.code).toBe(1);
    const [first, ...rest] = run.stderr.trimEnd().split("\n");
    expect(first).toMatch(/^Error: 2 manifests in .* match platform linux\/arm64$/);
    const hint = rest.join("\n");
    expect(hint).toContain("linux/arm64/v8:el8");
    expect(hint).toContain("linux/arm64/v8:el9");
    expect(hint).toContain(`oci-layout://${places.dir}@${el8Digest}`);
  });

  test("pulling the whole index without --platform refuses clashing titles before writing", async () => {
    const out = join(tempDir(), "o");
    const run = await runSkiff(["pull", `oci-layout://${places.dir}`, "-o", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('titled "packages.txt"');
    expect(existsSync(out) ? listFiles(out) : []).toEqual([]);
  });

  test("-o - writes the single file of a one-file artifact to stdout", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("only.txt", "just me\n")] })]);
    expect(await ok(["pull", `oci-layout://${b.dir}`, "-o", "-"])).toBe("just me\n");
  });
});

describe("resolve, manifest, blob and repo commands on layouts", () => {
  test("resolve prints the digest, -l the full reference", async () => {
    expect(await ok(["resolve", `oci-layout://${places.tgz}`])).toBe(`${indexDigest}\n`);
    expect(
      await ok(["resolve", "-l", "--platform", "linux/arm64/v8:el8", "--oci-layout", `${places.tagged}:1.2`]),
    ).toBe(`${places.tagged}@${el8Digest}\n`);
  });

  test("manifest fetch: raw, --pretty, --descriptor, --format json, -o FILE", async () => {
    const raw = await ok([
      "manifest",
      "fetch",
      "--platform",
      "linux/arm64/v8:el8",
      `oci-layout://${places.tar}`,
    ]);
    expect(sha256(raw)).toBe(el8Digest);
    const pretty = await ok(["manifest", "fetch", "--pretty", `oci-layout://${places.dir}@${el8Digest}`]);
    expect(pretty).toContain('\n  "schemaVersion": 2');
    const descriptor = JSON.parse(
      await ok(["manifest", "fetch", "--descriptor", `oci-layout://${places.dir}`]),
    );
    expect(descriptor).toMatchObject({ mediaType: MT.index, digest: indexDigest });
    const json = JSON.parse(
      await ok(["manifest", "fetch", "--format", "json", `oci-layout://${places.tgz}`]),
    );
    expect(json.reference).toBe(`${places.tgz}@${indexDigest}`);
    expect(json.content.manifests).toHaveLength(4);
    const file = join(tempDir(), "m.json");
    await ok(["manifest", "fetch", "-o", file, `oci-layout://${places.dir}`]);
    expect(sha256(readFileSync(file))).toBe(indexDigest);
  });

  test("manifest fetch-config needs --platform on an index, and prints the config with it", async () => {
    const run = await runSkiff(["manifest", "fetch-config", `oci-layout://${places.dir}`]);
    expect(run.code).toBe(1); // a usage error (exit 1, as in ORAS): the flag is missing
    expect(run.stderr).toContain("Usage: skiff manifest fetch-config");
    expect(run.stderr).toContain("--platform");
    const config = JSON.parse(
      await ok([
        "manifest",
        "fetch-config",
        "--platform",
        "linux/arm64/v8:el8",
        `oci-layout://${places.dir}`,
      ]),
    );
    expect(config).toMatchObject({ os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" });
  });

  test("blob fetch -o FILE|- and --descriptor", async () => {
    const manifest = JSON.parse(
      readFileSync(join(places.dir, "blobs", "sha256", el8Digest.slice(7)), "utf8"),
    );
    const layer = manifest.layers[0];
    const stdout = await ok(["blob", "fetch", "-o", "-", `oci-layout://${places.tgz}@${layer.digest}`]);
    expect(sha256(stdout)).toBe(layer.digest);
    const file = join(tempDir(), "blob");
    const descriptor = JSON.parse(
      await ok(["blob", "fetch", "--descriptor", "-o", file, `oci-layout://${places.tar}@${layer.digest}`]),
    );
    expect(descriptor).toMatchObject({ digest: layer.digest, size: layer.size });
    expect(sha256(readFileSync(file))).toBe(layer.digest);
    const missing = await runSkiff([
      "blob",
      "fetch",
      "-o",
      "-",
      `oci-layout://${places.dir}@${sha256("nope")}`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(sha256("nope"));
  });

  test("repo tags lists ref names; --format json", async () => {
    expect(await ok(["repo", "tags", `oci-layout://${places.tagged}`])).toBe("1.2\n");
    expect(
      JSON.parse(await ok(["repo", "tags", "--format", "json", "--oci-layout", places.taggedTar])),
    ).toEqual({ tags: ["1.2"] });
    const b = new LayoutBuilder();
    const m = b.manifest({});
    b.writeIndex([
      { ...m, tag: "b" },
      { ...m, tag: "a" },
      { ...m, tag: `sha256-${"c".repeat(64)}` },
    ]);
    expect(await ok(["repo", "tags", `oci-layout://${b.dir}`])).toBe(`a\nb\nsha256-${"c".repeat(64)}\n`);
    expect(await ok(["repo", "tags", "--exclude-digest-tags", "--last", "a", `oci-layout://${b.dir}`])).toBe(
      "b\n",
    );
  });
});

describe("bad input: one-line error naming the file, reference or digest; non-zero exit; nothing written", () => {
  async function fails(args: string[], ...fragments: string[]): Promise<string> {
    const out = join(tempDir(), "out");
    const run = await skiffFails([...args, "-o", out]);
    const first = run.stderr.split("\n")[0]!;
    expect(first.startsWith("Error: ")).toBe(true);
    for (const fragment of fragments) expect(first).toContain(fragment);
    expect(existsSync(out) ? listFiles(out) : []).toEqual([]);
    return run.stderr;
  }

  test("missing oci-layout file", async () => {
    const b = new LayoutBuilder();
    spawnSync("rm", [join(b.dir, "oci-layout")]);
    await fails(["pull", `oci-layout://${b.dir}`], join(b.dir, "oci-layout"));
  });

  test("wrong imageLayoutVersion", async () => {
    const b = new LayoutBuilder();
    writeFileSync(join(b.dir, "oci-layout"), '{"imageLayoutVersion":"9.9.9"}');
    await fails(["pull", `oci-layout://${b.dir}`], "oci-layout", "9.9.9");
  });

  for (const [name, content] of [
    ["malformed", "{not json"],
    [
      "truncated",
      '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","dig',
    ],
    ["empty", ""],
  ] as const) {
    test(`${name} index.json`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([], content);
      await fails(["pull", `oci-layout://${b.dir}`], join(b.dir, "index.json"));
    });
  }

  test("an index.json with no entries", async () => {
    const b = new LayoutBuilder();
    await fails(["pull", `oci-layout://${b.dir}`], "empty");
  });

  test("a blob whose content does not match its digest", async () => {
    const b = new LayoutBuilder();
    const bad = b.blob("tampered", MT.layer, { annotations: { [TITLE]: "f.txt" } }, sha256("original"));
    b.writeIndex([b.manifest({ layers: [bad] })]);
    await fails(["pull", `oci-layout://${b.dir}`], sha256("original"));
  });

  test("a missing blob", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([
      b.manifest({
        layers: [{ mediaType: MT.layer, digest: sha256("gone"), size: 4, annotations: { [TITLE]: "g" } }],
      }),
    ]);
    await fails(["pull", `oci-layout://${b.dir}`], sha256("gone"));
  });

  test("a manifest over 4 MiB", async () => {
    const b = new LayoutBuilder();
    const huge = b.json(
      {
        schemaVersion: 2,
        mediaType: MT.manifest,
        config: b.emptyConfig(),
        layers: [],
        annotations: { x: "y".repeat(4 << 20) },
      },
      MT.manifest,
    );
    b.writeIndex([huge]);
    await fails(["pull", `oci-layout://${b.dir}`], huge.digest);
  });

  for (const title of ["../evil.txt", "/etc/evil.txt", "C:\\evil.txt", "a\\b.txt"]) {
    test(`a hostile title ${JSON.stringify(title)}`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([b.manifest({ layers: [b.blob("x", MT.layer, { annotations: { [TITLE]: title } })] })]);
      await fails(["pull", `oci-layout://${b.dir}`], JSON.stringify(title));
    });
  }

  test("indexes nested too deep", async () => {
    const b = new LayoutBuilder();
    let desc = b.manifest({ layers: [b.file("a", "1")] });
    for (let i = 0; i < 40; i++) desc = b.index([desc]);
    b.writeIndex([desc]);
    await fails(["pull", `oci-layout://${b.dir}`], "32");
  });

  test("a path that is not a layout, and a reference that is not a layout", async () => {
    await fails(["pull", `oci-layout://${join(work, "nowhere")}`], join(work, "nowhere"));
    const notLayout = join(work, "file.txt");
    writeFileSync(notLayout, "hello ".repeat(200));
    await fails(["pull", `oci-layout://${notLayout}`], notLayout);
    const stderr = await fails(["pull", "./some-dir"], "./some-dir");
    expect(stderr).toContain("oci-layout://");
  });
});
