/**
 * skiff backup and restore with the compiled binary against the real registry: every tag or named
 * tags, with referrers by default, into a layout directory or a tar archive and back into another
 * repository; dry runs; --exclude-referrers; what skopeo and tar(1) make of the archive; bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff, skiffOk } from "../harness/skiff.ts";

let registry: RunningRegistry;
let host: string;
let work: string;
let index: Descriptor;
let single: Descriptor;
let sig: string;
/** Every descriptor of the v1 and v2 graphs (by digest), as crafted. */
const graph = new Map<string, Descriptor>();

/** The stdout of a skiff run in the work folder that must succeed. */
const ok = async (args: string[]) => (await skiffOk(args, { cwd: work })).stdout;

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function tagsOf(repo: string): Promise<string[]> {
  const response = await fetch(`http://${host}/v2/${repo}/tags/list`);
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  return (((await response.json()) as { tags?: string[] }).tags ?? []).sort();
}

async function manifestDigest(repo: string, reference: string): Promise<string | undefined> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: [MT.index, MT.manifest].join(", ") },
  });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return sha256(new Uint8Array(await response.arrayBuffer()));
}

function layoutHas(dir: string, desc: Descriptor): boolean {
  const path = join(dir, "blobs", "sha256", desc.digest.slice(7));
  return existsSync(path) && sha256(readFileSync(path)) === desc.digest;
}

function entries(dir: string): { digest: string; annotations?: Record<string, string> }[] {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests;
}

function collectGraph(dir: string, root: Descriptor): void {
  graph.set(root.digest, root);
  if (root.mediaType !== MT.index && root.mediaType !== MT.manifest) return;
  const json = JSON.parse(readFileSync(join(dir, "blobs", "sha256", root.digest.slice(7)), "utf8"));
  for (const child of (json.manifests ?? [json.config, ...json.layers]) as Descriptor[])
    collectGraph(dir, child);
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = tempDir("skiff-backup-");
  const b = new LayoutBuilder();
  const arm = b.platformManifest(
    { os: "linux", architecture: "arm64", variant: "v8" },
    { "arm.bin": "arm ".repeat(5000) },
  );
  const amd = b.platformManifest({ os: "linux", architecture: "amd64" }, { "amd.bin": "amd ".repeat(5000) });
  index = b.index([arm, amd]);
  single = b.manifest({
    layers: [b.file("notes.txt", "release notes\n")],
    artifactType: "application/vnd.example.notes",
  });
  b.writeIndex([
    { ...index, tag: "v1" },
    { ...single, tag: "v2" },
  ]);
  collectGraph(b.dir, index);
  collectGraph(b.dir, single);
  await ok(["cp", `oci-layout://${b.dir}:v1`, `${host}/app:v1`]);
  await ok(["cp", `oci-layout://${b.dir}:v2`, `${host}/app:v2`]);
  writeFileSync(join(work, "sig.txt"), "signature\n");
  sig = JSON.parse(
    await ok([
      "attach",
      "--format",
      "json",
      "--artifact-type",
      "application/vnd.example.sig.v1",
      `${host}/app:v1`,
      "sig.txt",
    ]),
  ).digest;
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("backup", () => {
  test("every tag into a directory, referrers included, fallback tags left out", async () => {
    expect(await tagsOf("app")).toEqual([`sha256-${index.digest.slice(7)}`, "v1", "v2"]);
    const out = join(work, "dir-backup");
    const stdout = await ok(["backup", "--no-tty", "--output", out, `${host}/app`]);
    // ORAS's wording: scripts grep for it.
    expect(stdout).toContain(`Found 2 tag(s) in ${host}/app: v1, v2\n`);
    expect(stdout).toContain("Pulled tag v1 with 1 referrer(s)\n");
    expect(stdout).toContain("Pulled tag v2 with 0 referrer(s)\n");
    expect(stdout).toMatch(
      new RegExp(`^Successfully backed up 2 tag\\(s\\) from "${host}/app" to "${out}" in \\d`, "m"),
    );
    expect(stdout).toMatch(/^Pulled {4}[0-9a-f]{12} /m);
    for (const desc of graph.values()) expect(layoutHas(out, desc)).toBe(true);
    const tags = entries(out)
      .map((e) => e.annotations?.[REF_NAME])
      .filter(Boolean)
      .sort();
    expect(tags).toEqual(["v1", "v2"]);
    expect(entries(out).map((e) => e.digest)).toContain(sig);
  });

  test("named tags into a tar: an OCI layout archive that tar(1), skiff and skopeo read", async () => {
    const out = join(work, "v1.tar");
    const stdout = await ok(["backup", "--no-tty", "-o", out, `${host}/app:v1`]);
    expect(stdout).toContain(`Exporting to ${out}\n`);
    expect(stdout).toMatch(new RegExp(`Exported to ${out} \\(\\d+(\\.\\d+)? KB\\)`));
    expect(readdirSync(work).filter((name) => name.includes("v1.tar"))).toEqual(["v1.tar"]);
    const listing = spawnSync("tar", ["-tf", out], { encoding: "utf8" });
    expect(listing.status).toBe(0);
    expect(listing.stdout.split("\n").slice(0, 2)).toEqual(["oci-layout", "index.json"]);
    const resolved = await ok(["resolve", `oci-layout://${out}:v1`]);
    expect(resolved.trim()).toBe(index.digest);
    const skopeo = spawnSync("skopeo", ["inspect", "--raw", `oci-archive:${out}:v1`], {
      encoding: "utf8",
      env: { ...process.env, HOME: tmpdir() },
    });
    expect(skopeo.status, skopeo.stderr).toBe(0);
    expect(sha256(new TextEncoder().encode(skopeo.stdout))).toBe(index.digest);
  });

  test("--exclude-referrers, --format json", async () => {
    const out = join(work, "no-referrers");
    const json = JSON.parse(
      await ok(["backup", "--exclude-referrers", "--format", "json", "--output", out, `${host}/app:v1`]),
    );
    expect(json).toMatchObject({ source: `${host}/app`, output: out, format: "directory", dryRun: false });
    expect(json.tags).toEqual([
      {
        tag: "v1",
        reference: `${host}/app@${index.digest}`,
        mediaType: MT.index,
        digest: index.digest,
        size: index.size,
        referrers: 0,
      },
    ]);
    expect(entries(out).map((e) => e.digest)).not.toContain(sig);
  });

  test("--dry-run writes nothing", async () => {
    const out = join(work, "dry.tar");
    const stdout = await ok(["backup", "--dry-run", "--output", out, `${host}/app`]);
    expect(stdout).toContain("Dry run: would pull tag v1 with 1 referrer(s)");
    expect(stdout).toContain("(no data written)");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).some((name) => name.includes("dry"))).toBe(false);
  });
});

describe("restore", () => {
  test("a tar back into another repository: tags, graphs, referrers and their fallback index", async () => {
    const tar = join(work, "all.tar");
    await ok(["backup", "--output", tar, `${host}/app`]);
    const stdout = await ok(["restore", "--no-tty", "--input", tar, `${host}/restored`]);
    expect(stdout).toMatch(new RegExp(`^Loaded backup archive: ${tar} \\(\\d+(\\.\\d+)? KB\\)$`, "m"));
    expect(stdout).toContain("Found 2 tag(s) in the backup: v1, v2\n");
    expect(stdout).toContain("Pushed tag v1 with 1 referrer(s)\n");
    expect(stdout).toMatch(
      new RegExp(`^Successfully restored 2 tag\\(s\\) to "${host}/restored" in \\d`, "m"),
    );
    expect(await tagsOf("restored")).toEqual([`sha256-${index.digest.slice(7)}`, "v1", "v2"]);
    expect(await manifestDigest("restored", "v1")).toBe(index.digest);
    expect(await manifestDigest("restored", "v2")).toBe(single.digest);
    expect(await manifestDigest("restored", sig)).toBe(sig);
    for (const desc of graph.values()) {
      const kind = desc.mediaType === MT.index || desc.mediaType === MT.manifest ? "manifests" : "blobs";
      const response = await fetch(`http://${host}/v2/restored/${kind}/${desc.digest}`, {
        method: "HEAD",
        headers: { Accept: [MT.index, MT.manifest].join(", ") },
      });
      expect(response.status).toBe(200);
    }
  });

  test("named tags from a directory, --exclude-referrers; a second restore finds everything (Exists)", async () => {
    const dir = join(work, "dir-for-restore");
    await ok(["backup", "--output", dir, `${host}/app`]);
    await ok(["restore", "--exclude-referrers", "--input", dir, `${host}/partial:v1`]);
    expect(await tagsOf("partial")).toEqual(["v1"]);
    expect(await manifestDigest("partial", sig)).toBeUndefined();
    const again = await ok([
      "restore",
      "--no-tty",
      "--exclude-referrers",
      "--input",
      dir,
      `${host}/partial:v1`,
    ]);
    expect(again).not.toMatch(/^Pushing /m);
    expect(again).toMatch(/^Exists /m);
  });

  test("--dry-run pushes nothing", async () => {
    const dir = join(work, "dir-for-dry");
    await ok(["backup", "--output", dir, `${host}/app`]);
    const stdout = await ok(["restore", "--dry-run", "--input", dir, `${host}/dry-restore`]);
    expect(stdout).toContain("Dry run: would push tag v1 with 1 referrer(s)");
    expect(stdout).toContain("(no data pushed)");
    expect(await tagsOf("dry-restore")).toEqual([]);
  });
});

describe("the Found line", () => {
  test("over five tags: ORAS's `Found N tag(s) in REPO:` then one tag a line, in backup and restore", async () => {
    const tags = ["t1", "t2", "t3", "t4", "t5", "t6"];
    for (const tag of tags) await ok(["cp", `${host}/app:v2`, `${host}/many:${tag}`]);
    const out = join(work, "many-backup");
    const backedUp = await ok(["backup", "--no-tty", "--output", out, `${host}/many`]);
    expect(backedUp).toStartWith(`Found 6 tag(s) in ${host}/many:\n${tags.join("\n")}\n`);
    const restored = await ok(["restore", "--no-tty", "--input", out, `${host}/many-again`]);
    expect(restored).toContain(`Found 6 tag(s) in the backup:\n${tags.join("\n")}\n`);
    // Five or fewer stay on one line.
    const five = await ok([
      "backup",
      "--no-tty",
      "--dry-run",
      "--output",
      join(work, "five"),
      `${host}/many:t1,t2,t3,t4,t5`,
    ]);
    expect(five).toContain(`Found 5 tag(s) in ${host}/many: t1, t2, t3, t4, t5\n`);
  });
});

describe("bad input", () => {
  const refused = (result: { code: number | null; stderr: string }, text: string): void => {
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(text);
  };

  test("backup: a digest reference, a gzip name, a directory named .tar, an unknown tag, a repository without tags", async () => {
    refused(await runSkiff(["backup", "-o", join(work, "x"), `${host}/app@${index.digest}`]), "digest");
    refused(await runSkiff(["backup", "-o", join(work, "x.tar.gz"), `${host}/app:v1`]), "uncompressed");
    mkdirSync(join(work, "taken.tar"));
    refused(await runSkiff(["backup", "-o", join(work, "taken.tar"), `${host}/app:v1`]), "is a directory");
    const unknown = await runSkiff(["backup", "-o", join(work, "unknown.tar"), `${host}/app:v1,nope`]);
    refused(unknown, '"nope"');
    expect(existsSync(join(work, "unknown.tar"))).toBe(false);
    refused(await runSkiff(["backup", "-o", join(work, "empty"), `${host}/never-pushed`]), "never-pushed");
    refused(await runSkiff(["backup", `${host}/app:v1`]), "--output");
    refused(
      await runSkiff([
        "backup",
        "--include-referrers",
        "--exclude-referrers",
        "-o",
        join(work, "both"),
        `${host}/app:v1`,
      ]),
      "cannot be used together",
    );
  });

  test("restore: a missing input, a layout without tags, a bad tag", async () => {
    refused(await runSkiff(["restore", "--input", join(work, "missing"), `${host}/r:v1`]), "does not exist");
    const untagged = new LayoutBuilder();
    untagged.writeIndex([untagged.manifest({ layers: [untagged.file("a", "a")] })]);
    refused(await runSkiff(["restore", "--input", untagged.dir, `${host}/r`]), "no tags found");
    refused(await runSkiff(["restore", "--input", untagged.dir, `${host}/r:-bad`]), "-bad");
    expect(await tagsOf("r")).toEqual([]);
  });

  test("a tag that fails to copy: ORAS's `failed to back up tag` / `failed to restore tag` first", async () => {
    const holey = new LayoutBuilder();
    const layer = holey.file("gone.txt", "soon gone\n");
    holey.writeIndex([{ ...holey.manifest({ layers: [layer] }), tag: "v1" }]);
    await ok(["cp", `oci-layout://${holey.dir}:v1`, `${host}/holey:v1`]);
    const deleted = await registry.fetch(`/v2/holey/blobs/${layer.digest}`, { method: "DELETE" });
    expect(deleted.status).toBe(202);
    const out = join(work, "holey-backup");
    const backup = await runSkiff(["backup", "-o", out, `${host}/holey:v1`]);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toStartWith(`Error: failed to back up tag "v1" from "${host}/holey" to "${out}": `);

    rmSync(join(holey.dir, "blobs", "sha256", layer.digest.slice(7)));
    const restore = await runSkiff(["restore", "--input", holey.dir, `${host}/holey-again`]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toStartWith(
      `Error: failed to restore tag "v1" from "${holey.dir}" to "${host}/holey-again": `,
    );
  });
});
