/**
 * Differences from ORAS 1.3.2 that its own e2e suite does not check, found by running both side by
 * side on the content commands (push, pull, attach, blob, manifest): files written (modes),
 * layout `index.json`, packed directories, status lines and short error phrases. The compiled
 * binary against a real registry.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { useRegistries } from "../harness/registry.ts";
import { removeTmpDir, runSkiff, skiffOk, tmpDir } from "../harness/skiff.ts";

setDefaultTimeout(60_000);

const registries = useRegistries(["plain"]);
const work = tmpDir("skiff-e2e-oras-diff-");
afterAll(() => removeTmpDir(work));

async function skiff(args: string[]) {
  return runSkiff(args, { cwd: work });
}

/** Runs skiff in the work folder, asserting exit 0; returns stdout. */
async function ok(args: string[]): Promise<string> {
  return (await skiffOk(args, { cwd: work })).stdout;
}

/** Runs `body` with the process umask set to `mask` (skiff inherits it), then restores it. */
async function withUmask<T>(mask: number, body: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await body();
  } finally {
    process.umask(before);
  }
}

const mode = (path: string): number => statSync(path).mode & 0o777;

let repo: string;
let blob: string;
beforeAll(async () => {
  writeFileSync(join(work, "a.txt"), "hello\n");
  repo = `${registries.plain.localhost}/diff/app`;
  await ok(["push", `${repo}:v1`, "a.txt"]);
  blob = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
});

/** Pushes directory `name` of `root` into the layout `root/layout:v1`; its layer's tar digest. */
async function pushedTarDigest(root: string, name: string): Promise<string> {
  const result = await runSkiff(
    ["push", "--oci-layout", `${join(root, "layout")}:v1`, name, "--export-manifest", "manifest.json"],
    { cwd: root },
  );
  expect(result.code).toBe(0);
  const layer = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")).layers[0];
  return layer.annotations["io.deis.oras.content.digest"];
}

describe("files written over existing ones keep their mode; new ones get 0666 less the umask", () => {
  test("blob fetch -o, manifest fetch -o and pull", async () => {
    await withUmask(0o002, async () => {
      const out = join(work, "modes");
      mkdirSync(out);
      // New files: 0666 & ~umask, as a plain create (and ORAS) gives them.
      await ok(["blob", "fetch", `${repo}@${blob}`, "-o", join(out, "new.bin")]);
      await ok(["manifest", "fetch", `${repo}:v1`, "-o", join(out, "new.json")]);
      await ok(["pull", `${repo}:v1`, "-o", join(out, "pulled")]);
      expect([
        mode(join(out, "new.bin")),
        mode(join(out, "new.json")),
        mode(join(out, "pulled", "a.txt")),
      ]).toEqual([0o664, 0o664, 0o664]);
      // A private file stays private when it is written again.
      for (const name of ["secret.bin", "secret.json"]) {
        writeFileSync(join(out, name), "old");
        chmodSync(join(out, name), 0o600);
      }
      chmodSync(join(out, "pulled", "a.txt"), 0o600);
      await ok(["blob", "fetch", `${repo}@${blob}`, "-o", join(out, "secret.bin")]);
      await ok(["manifest", "fetch", `${repo}:v1`, "-o", join(out, "secret.json")]);
      await ok(["pull", `${repo}:v1`, "-o", join(out, "pulled")]);
      expect(readFileSync(join(out, "secret.bin"), "utf8")).toBe("hello\n");
      expect(readFileSync(join(out, "pulled", "a.txt"), "utf8")).toBe("hello\n");
      expect([
        mode(join(out, "secret.bin")),
        mode(join(out, "secret.json")),
        mode(join(out, "pulled", "a.txt")),
      ]).toEqual([0o600, 0o600, 0o600]);
    });
  });

  test("-o naming a directory: one line saying so, exit 1, the directory untouched", async () => {
    const dir = join(work, "a-dir");
    mkdirSync(dir);
    for (const args of [
      ["blob", "fetch", `${repo}@${blob}`, "-o", dir],
      ["manifest", "fetch", `${repo}:v1`, "-o", dir],
    ]) {
      const result = await skiff(args);
      expect(result.code).toBe(1);
      expect(result.stderr.split("\n")[0]).toBe(`Error: cannot write ${dir}: it is a directory`);
      expect(result.stderr.split("\n")[1]).toBe("move the directory away, or write the file elsewhere");
      expect(statSync(dir).isDirectory()).toBe(true);
    }
  });
});

test("pull -o naming a file: `not a directory`, as ORAS says, and the file untouched", async () => {
  const file = join(work, "in-the-way.txt");
  writeFileSync(file, "keep me");
  const result = await skiff(["pull", `${repo}:v1`, "-o", file]);
  expect(result.code).toBe(1);
  expect(result.stderr.split("\n")[0]).toBe(`Error: cannot create output directory ${file}: not a directory`);
  expect(readFileSync(file, "utf8")).toBe("keep me");
});

test("-o into a missing directory: the file asked for and `no such file or directory`, no temporary name", async () => {
  const missing = join(work, "no-such-dir");
  for (const [args, file] of [
    [["blob", "fetch", `${repo}@${blob}`, "-o", join(missing, "x.bin")], join(missing, "x.bin")],
    [["manifest", "fetch", `${repo}:v1`, "-o", join(missing, "m.json")], join(missing, "m.json")],
  ] as const) {
    const result = await skiff([...args]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe(`Error: cannot write ${file}: no such file or directory`);
  }
});

describe("layout index.json after push and attach", () => {
  test("the tagged entry comes first and keeps the manifest's annotations; the referrer follows", async () => {
    const layout = join(work, "layout");
    const created = "2020-01-01T00:00:00Z";
    const pushed = JSON.parse(
      await ok([
        "push",
        "--oci-layout",
        `${layout}:v1`,
        "a.txt",
        "-a",
        `org.opencontainers.image.created=${created}`,
        "-a",
        "team=blue",
        "--format",
        "json",
      ]),
    );
    const attached = JSON.parse(
      await ok([
        "attach",
        "--oci-layout",
        `${layout}:v1`,
        "--artifact-type",
        "sig/x",
        "a.txt",
        "--format",
        "json",
      ]),
    );
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((entry: { digest: string }) => entry.digest)).toEqual([
      pushed.digest,
      attached.digest,
    ]);
    expect(index.manifests[0].annotations).toEqual({
      "org.opencontainers.image.created": created,
      "org.opencontainers.image.ref.name": "v1",
      team: "blue",
    });
    expect(index.manifests[1].annotations["org.opencontainers.image.ref.name"]).toBeUndefined();
  });
});

describe("push of a directory", () => {
  test("packs the tar ORAS packs: the same io.deis.oras.content.digest, and it pulls back", async () => {
    const root = join(work, "packed");
    const tree = join(root, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    writeFileSync(join(tree, "sub", "x.txt"), "x\n");
    writeFileSync(join(tree, "y.txt"), "y\n");
    for (const [path, mode] of [
      ["tree", 0o755],
      ["tree/sub", 0o755],
      ["tree/y.txt", 0o644],
      ["tree/sub/x.txt", 0o644],
    ] as const) {
      chmodSync(join(root, path), mode);
    }
    // Times between seconds: Go's tar writer rounds them to the nearest second.
    utimesSync(join(tree, "sub", "x.txt"), 1_600_000_000.6, 1_600_000_000.6);
    utimesSync(join(tree, "y.txt"), 1_600_000_001.2, 1_600_000_001.2);
    utimesSync(join(tree, "sub"), 1_600_000_002.5, 1_600_000_002.5);
    utimesSync(tree, 1_600_000_003.9, 1_600_000_003.9);
    const tarDigest = await pushedTarDigest(root, "tree");
    // What ORAS 1.3.2 writes for this tree (tar members without a trailing "/", rounded times).
    expect(tarDigest).toBe("sha256:17f25023053eecd52d624398ca0ac66f26d875c26f3afc2a51eef89db01e85da");
    const out = join(root, "out");
    const pulled = JSON.parse(
      await ok(["pull", "--oci-layout", `${join(root, "layout")}:v1`, "-o", out, "--format", "json"]),
    );
    // As ORAS names it: the directory with a trailing separator.
    expect(pulled.files.map((file: { path: string }) => file.path)).toEqual([`${join(out, "tree")}/`]);
    expect(readFileSync(join(out, "tree", "sub", "x.txt"), "utf8")).toBe("x\n");
    expect(Math.round(statSync(join(out, "tree", "sub", "x.txt")).mtimeMs / 1000)).toBe(1_600_000_001);
  });
});

test("push of a directory with long and non-ASCII names and links: ORAS's tar (ustar prefix, Go's pax headers)", async () => {
  const root = join(work, "names-root");
  const tree = join(root, "names");
  const split = join(tree, "d".repeat(60), "e".repeat(60));
  mkdirSync(split, { recursive: true });
  mkdirSync(join(tree, "x"));
  mkdirSync(join(tree, "p".repeat(200)));
  writeFileSync(join(split, "f".repeat(90)), "a long path ustar splits\n");
  writeFileSync(join(tree, "x", "n".repeat(150)), "a name pax carries\n");
  writeFileSync(join(tree, "ünïcödé.txt"), "accents\n");
  symlinkSync(`../${"l".repeat(120)}`, join(tree, "x", "long-link"));
  symlinkSync("ü.txt", join(tree, "x", "unicode-link"));
  const files = [join(split, "f".repeat(90)), join(tree, "x", "n".repeat(150)), join(tree, "ünïcödé.txt")];
  const dirs = [tree, join(tree, "d".repeat(60)), split, join(tree, "x"), join(tree, "p".repeat(200))];
  for (const file of files) chmodSync(file, 0o644);
  for (const dir of dirs) chmodSync(dir, 0o755);
  for (const link of ["long-link", "unicode-link"])
    lutimesSync(join(tree, "x", link), 1_600_000_000, 1_600_000_000);
  for (const path of [...files, ...dirs.reverse()]) utimesSync(path, 1_600_000_000, 1_600_000_000);
  const tarDigest = await pushedTarDigest(root, "names");
  // What ORAS 1.3.2 writes for this tree.
  expect(tarDigest).toBe("sha256:14a8549e59c77ab0add12ae1da9bc63f494f05a4bf70c143e2d07e7671eaa011");
  const out = join(root, "out");
  await ok(["pull", "--oci-layout", `${join(root, "layout")}:v1`, "-o", out]);
  expect(readFileSync(join(out, "names", "x", "n".repeat(150)), "utf8")).toBe("a name pax carries\n");
  expect(readFileSync(join(out, "names", "ünïcödé.txt"), "utf8")).toBe("accents\n");
});

describe("status lines of a manifest the target already has", () => {
  const manifestLine = /^Exists +[0-9a-f]{12} application\/vnd\.oci\.image\.manifest\.v1\+json$/m;

  test("push again under a tag at a registry: no Exists line for the manifest (it is stored under the tag)", async () => {
    const ref = `${registries.plain.localhost}/diff/again`;
    const fixed = ["-a", "org.opencontainers.image.created=2020-01-01T00:00:00Z"];
    await ok(["push", `${ref}:v1`, "a.txt", ...fixed]);
    const again = await ok(["push", `${ref}:v2`, "a.txt", ...fixed]);
    expect(again).not.toMatch(manifestLine);
    expect(again).toContain(`Pushed [registry] ${ref}:v2\n`);
    // Without a tag it is skipped, and says so.
    expect(await ok(["push", ref, "a.txt", ...fixed])).toMatch(manifestLine);
  });

  test("manifest push: Exists only when the tag already names it; a new tag is an upload", async () => {
    const ref = `${registries.plain.localhost}/diff/mpush`;
    await ok(["push", `${ref}:base`, "a.txt"]);
    const file = join(work, "mpush.json");
    writeFileSync(file, await ok(["manifest", "fetch", `${ref}:base`]));
    const upload = await ok(["manifest", "push", `${ref}:t1`, file]);
    expect(
      upload
        .split("\n")
        .slice(0, 2)
        .map((line) => line.split(" ")[0]),
    ).toEqual(["Uploading", "Uploaded"]);
    expect(await ok(["manifest", "push", `${ref}:t1`, file])).toMatch(manifestLine);
  });

  test("blob push NAME@DIGEST: the Pushed line names the reference as given", async () => {
    const ref = `${registries.plain.localhost}/diff/blob@${blob}`;
    expect(await ok(["blob", "push", ref, "a.txt"])).toContain(`Pushed: [registry] ${ref}\n`);
  });
});

describe("a registry's error entries read as ORAS words them", () => {
  test("manifest push of a manifest whose blobs are missing: `manifest blob unknown: blob unknown to registry`", async () => {
    const file = join(work, "orphan.json");
    const config = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
        layers: [],
      }),
    );
    const result = await skiff(["manifest", "push", `${registries.plain.localhost}/diff/orphan:v1`, file]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toContain(
      "Error response from registry: manifest blob unknown: blob unknown to registry",
    );
  });
});

describe("manifest delete in a layout", () => {
  test("takes the manifest's referrers and what only they reached with it, as ORAS does", async () => {
    const layout = join(work, "gc-layout");
    writeFileSync(join(work, "only-v1.txt"), "only in v1\n");
    writeFileSync(join(work, "sig.txt"), "a signature\n");
    const digestOf = async (args: string[]) =>
      JSON.parse(await ok([...args, "--format", "json"])).digest as string;
    const v1 = await digestOf(["push", "--oci-layout", `${layout}:v1`, "a.txt", "only-v1.txt"]);
    const v2 = await digestOf(["push", "--oci-layout", `${layout}:v2`, "a.txt"]);
    const sig = await digestOf([
      "attach",
      "--oci-layout",
      `${layout}:v1`,
      "--artifact-type",
      "sig/x",
      "sig.txt",
    ]);
    const blobs = () => new Set(readdirSync(join(layout, "blobs", "sha256")).map((hex) => `sha256:${hex}`));
    const before = blobs();
    expect(await ok(["manifest", "delete", "--oci-layout", `${layout}:v1`, "--force"])).toBe(
      `Deleted [oci-layout] ${layout}:v1\n`,
    );
    const after = blobs();
    const gone = [...before].filter((digest) => !after.has(digest));
    const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
    // v1, its referrer and the two files only they had; a.txt and the empty config stay for v2.
    expect(gone.sort()).toEqual([v1, sig, sha("only in v1\n"), sha("a signature\n")].sort());
    expect(after.has(sha("hello\n"))).toBe(true);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((entry: { digest: string }) => entry.digest)).toEqual([v2]);
  });

  test("leaves the blobs while another skiff process writes to the layout, collects them once it has died", async () => {
    const layout = join(work, "gc-busy-layout");
    const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
    const blobs = () => new Set(readdirSync(join(layout, "blobs", "sha256")).map((hex) => `sha256:${hex}`));
    writeFileSync(join(work, "busy-1.txt"), "only in busy v1\n");
    writeFileSync(join(work, "busy-2.txt"), "only in busy v2\n");
    await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt", "busy-1.txt"]);
    await ok(["push", "--oci-layout", `${layout}:v2`, "a.txt", "busy-2.txt"]);
    const v1 = (await ok(["resolve", "--oci-layout", `${layout}:v1`])).trim();
    // Writers leave no marker behind once they have ended.
    const writers = join(layout, ".skiff-writers");
    expect(existsSync(writers)).toBe(false);

    // A live writer (this test process stands in for a skiff push in progress).
    mkdirSync(writers);
    const live = join(writers, `${process.pid}@${hostname()}`);
    writeFileSync(live, "");
    await ok(["manifest", "delete", "--oci-layout", `${layout}:v1`, "--force"]);
    expect(blobs().has(v1)).toBe(false);
    expect(blobs().has(sha("only in busy v1\n"))).toBe(true);
    expect((await skiff(["resolve", "--oci-layout", `${layout}:v1`])).code).toBe(1);

    // The same writer, dead: v2's own file goes with v2, the dead marker with it.
    const dead = spawnSync("true").pid;
    const deadMarker = join(writers, `${dead}@${hostname()}`);
    renameSync(live, deadMarker);
    await ok(["manifest", "delete", "--oci-layout", `${layout}:v2`, "--force"]);
    expect(blobs().has(sha("only in busy v2\n"))).toBe(false);
    expect(existsSync(deadMarker)).toBe(false);
    expect(existsSync(writers)).toBe(false);
  });
});

test("manifest push --descriptor prints media type, digest and size only, as ORAS does", async () => {
  const ref = `${registries.plain.localhost}/diff/descriptor`;
  await ok(["push", `${ref}:base`, "a.txt"]);
  const file = join(work, "descriptor.json");
  writeFileSync(file, await ok(["manifest", "fetch", `${ref}:base`]));
  const printed = await ok(["manifest", "push", `${ref}:again`, file, "--descriptor"]);
  expect(Object.keys(JSON.parse(printed))).toEqual(["mediaType", "digest", "size"]);
  expect(printed.endsWith("}")).toBe(true);
});

test("push and attach without files: `Uploading empty artifact` first, then the usual lines, as ORAS prints", async () => {
  const ref = `${registries.plain.localhost}/diff/empty`;
  const pushed = await ok(["push", `${ref}:v1`]);
  const manifestUpload = /^Uploaded {2}[0-9a-f]{12} application\/vnd\.oci\.image\.manifest\.v1\+json$/m;
  expect(pushed.split("\n")[0]).toBe("Uploading empty artifact");
  expect(pushed).toMatch(manifestUpload);
  expect(pushed).toContain(`Pushed [registry] ${ref}:v1\n`);
  const attached = await ok(["attach", `${ref}:v1`, "--artifact-type", "note/x", "-a", "k=v"]);
  expect(attached.split("\n")[0]).toBe("Uploading empty artifact");
  expect(attached).toMatch(manifestUpload);
  // With files, the lines are as before.
  expect(await ok(["push", `${ref}:v2`, "a.txt"])).not.toContain("empty artifact");
});

test("manifest push of a missing file: its name and `no such file or directory`", async () => {
  const result = await skiff(["manifest", "push", `${repo}:missing`, "no-such-manifest.json"]);
  expect(result.code).toBe(1);
  expect(result.stderr.split("\n")[0]).toBe(
    "Error: cannot read no-such-manifest.json: no such file or directory",
  );
});

test("an annotation-file key that names no pushed file is ignored with a warning (ORAS ignores it), the others apply", async () => {
  const layout = join(work, "annotation-reuse");
  writeFileSync(join(work, "shared-annotations.json"), '{"a.txt":{"k":"v"},"not-pushed.txt":{"k":"w"}}');
  const result = await skiff([
    "push",
    "--oci-layout",
    `${layout}:v1`,
    "--annotation-file",
    "shared-annotations.json",
    "a.txt",
    "--format",
    "json",
  ]);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe(
    'warning: the annotation file has annotations for "not-pushed.txt", which is not among the pushed files: ignored\n',
  );
  const manifest = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${layout}:v1`]));
  expect(
    manifest.layers.map((layer: { annotations: Record<string, string> }) => layer.annotations.k),
  ).toEqual(["v"]);
});

test("-o naming a FIFO or a device writes into it and leaves it one (never a regular file in its place)", async () => {
  const fifo = join(work, "out.fifo");
  expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  const manifest = await ok(["manifest", "fetch", `${repo}:v1`]);
  for (const args of [
    ["manifest", "fetch", `${repo}:v1`, "-o", fifo],
    ["blob", "fetch", `${repo}@${JSON.parse(manifest).layers[0].digest}`, "-o", fifo],
  ]) {
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    const result = await skiff(args);
    expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: "" });
    const read = await new Response(reader.stdout).text();
    expect(read.length).toBeGreaterThan(0);
    if (args[0] === "manifest") expect(read).toBe(manifest);
    expect(statSync(fifo).isFIFO()).toBe(true);
  }
});
