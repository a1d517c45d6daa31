/**
 * push into OCI layouts with the compiled binary: tagless and tagged, many writers at once,
 * output for scripts, reproducible digests, and every kind of bad input.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSkiff, skiffCommand, skiffOk } from "../harness/skiff.ts";

// The compiled binary and the registry are real processes: give each test room on a busy machine.
setDefaultTimeout(60_000);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-push-layout-"));
  // What a CI job produces: a yum repository tree and a loose file.
  mkdirSync(join(root, "build", "repo", "repodata"), { recursive: true });
  writeFileSync(join(root, "build", "repo", "pkg-1.0-1.el8.x86_64.rpm"), "rpm payload\n".repeat(1000));
  writeFileSync(join(root, "build", "repo", "repodata", "repomd.xml"), "<repomd/>\n");
  writeFileSync(join(root, "notes.txt"), "release notes\n");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

interface IndexJson {
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const blobPath = (layout: string, digest: string): string => join(layout, "blobs", ...digest.split(":"));
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The stdout of a skiff run in the root folder that must succeed. */
const ok = async (args: string[], env: Record<string, string> = {}) =>
  (await skiffOk(args, { cwd: root, env })).stdout;

describe("push to a layout", () => {
  test("tagless: JSON names PATH@digest, index.json gets one untagged entry, blobs are complete", async () => {
    const layout = join(root, "tagless");
    const out = JSON.parse(
      await ok(["push", "--oci-layout", layout, "build/repo", "notes.txt", "--format", "json"]),
    );
    expect(Object.keys(out)).toEqual([
      "reference",
      "mediaType",
      "digest",
      "size",
      "annotations",
      "artifactType",
      "referenceAsTags",
    ]);
    expect(out.reference).toBe(`${layout}@${out.digest}`);
    expect(out.referenceAsTags).toEqual([]);
    expect(out.artifactType).toBe("application/vnd.unknown.artifact.v1");
    const index = readJson<IndexJson>(join(layout, "index.json"));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.digest).toBe(out.digest);
    expect(index.manifests[0]!.annotations?.["org.opencontainers.image.ref.name"]).toBeUndefined();

    const manifestBytes = new Uint8Array(readFileSync(blobPath(layout, out.digest)));
    expect(sha256(manifestBytes)).toBe(out.digest);
    expect(manifestBytes.byteLength).toBe(out.size);
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
    expect(
      manifest.layers.map(
        (l: { annotations: Record<string, string> }) => l.annotations["org.opencontainers.image.title"],
      ),
    ).toEqual(["build/repo", "notes.txt"]);
    const dirLayer = manifest.layers[0];
    expect(dirLayer.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(dirLayer.annotations["io.deis.oras.content.unpack"]).toBe("true");
    expect(manifest.layers[1].mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    for (const desc of [manifest.config, ...manifest.layers]) {
      const blob = new Uint8Array(readFileSync(blobPath(layout, desc.digest)));
      expect(sha256(blob)).toBe(desc.digest);
    }
    // The directory layer is a tar of the tree under its title; the unpacked digest matches.
    const listing = spawnSync("tar", ["-tzf", blobPath(layout, dirLayer.digest)], { encoding: "utf8" });
    expect(listing.stdout.trim().split("\n")).toEqual([
      "build/repo",
      "build/repo/pkg-1.0-1.el8.x86_64.rpm",
      "build/repo/repodata",
      "build/repo/repodata/repomd.xml",
    ]);
    const tar = spawnSync("gzip", ["-dc", blobPath(layout, dirLayer.digest)]);
    expect(sha256(new Uint8Array(tar.stdout))).toBe(dirLayer.annotations["io.deis.oras.content.digest"]);
  });

  test("text output: status lines, then Pushed [oci-layout], ArtifactType and Digest", async () => {
    const layout = join(root, "text");
    const out = await ok(["push", "--no-tty", "--oci-layout", `${layout}:v1`, "notes.txt"]);
    const lines = out.trim().split("\n");
    expect(lines.some((l) => /^Uploading [0-9a-f]{12} notes\.txt$/.test(l))).toBe(true);
    expect(lines.some((l) => /^Uploaded {2}[0-9a-f]{12} notes\.txt$/.test(l))).toBe(true);
    expect(lines.slice(-3)[0]).toBe(`Pushed [oci-layout] ${layout}:v1`);
    expect(lines.slice(-2)[0]).toBe("ArtifactType: application/vnd.unknown.artifact.v1");
    expect(lines.slice(-1)[0]).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
    // Pushing again: everything exists.
    const again = await ok(["push", "--no-tty", "--oci-layout", `${layout}:v1`, "notes.txt", "--no-created"]);
    expect(again).not.toContain("Uploading notes");
  });

  test("tags: every tag of a :t1,t2 list becomes a ref name; go-template prints the reference", async () => {
    const layout = join(root, "tagged");
    const out = await ok([
      "push",
      "--oci-layout",
      `${layout}:v1,latest`,
      "notes.txt",
      "--format",
      "go-template={{.reference}} {{range .referenceAsTags}}[{{.}}]{{end}}",
    ]);
    const match = /^(.+)@(sha256:[0-9a-f]{64}) \[(.+)\]\[(.+)\]$/.exec(out);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(layout);
    // Sorted, as ORAS lists them, whatever the order given.
    expect([match![3], match![4]]).toEqual([`${layout}:latest`, `${layout}:v1`]);
    const index = readJson<IndexJson>(join(layout, "index.json"));
    const names = index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]).sort();
    expect(names).toEqual(["latest", "v1"]);
    expect(new Set(index.manifests.map((m) => m.digest))).toEqual(new Set([match![2]!]));
  });

  test("the oci-layout:// prefix and --oci-layout-path name the same layout", async () => {
    const layout = join(root, "prefixed");
    const a = JSON.parse(
      await ok(["push", `oci-layout://${layout}:one`, "notes.txt", "--format", "json", "--no-created"]),
    );
    const b = JSON.parse(
      await ok(["push", "--oci-layout-path", layout, "two", "notes.txt", "--format", "json", "--no-created"]),
    );
    expect(a.digest).toBe(b.digest);
    expect(b.referenceAsTags).toEqual([`${layout}:two`]);
    const names = readJson<IndexJson>(join(layout, "index.json")).manifests.map(
      (m) => m.annotations?.["org.opencontainers.image.ref.name"],
    );
    expect(names.sort()).toEqual(["one", "two"]);
  });

  test("eight parallel tagless pushes into one layout: no entry is lost", async () => {
    const layout = join(root, "parallel");
    const jobs = Array.from({ length: 8 }, (_, i) => {
      const dir = join(root, `job-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "artifact.bin"), `job ${i} ${crypto.randomUUID()}\n`);
      return runSkiff(
        [
          "push",
          "--oci-layout",
          layout,
          "artifact.bin",
          "--artifact-platform",
          `linux/amd64:el${i}`,
          "--format",
          "json",
        ],
        {
          cwd: dir,
        },
      );
    });
    const results = await Promise.all(jobs);
    for (const result of results) expect(result.stderr).toBe("");
    const digests = results.map((r) => JSON.parse(r.stdout).digest as string);
    expect(new Set(digests).size).toBe(8);
    const index = readJson<IndexJson>(join(layout, "index.json"));
    expect(index.manifests.map((m) => m.digest).sort()).toEqual([...digests].sort());
  });

  test("--artifact-platform writes an OCI image config with the platform", async () => {
    const layout = join(root, "platform");
    const out = JSON.parse(
      await ok([
        "push",
        "--oci-layout",
        layout,
        "notes.txt",
        "--artifact-platform",
        "linux/arm64/v8:el8",
        "--format",
        "json",
      ]),
    );
    const manifest = readJson<{ config: { mediaType: string; digest: string } }>(
      blobPath(layout, out.digest),
    );
    expect(manifest.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    const config = readJson<Record<string, unknown>>(blobPath(layout, manifest.config.digest));
    expect(config).toMatchObject({ os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" });
  });

  test("--annotation-file: $manifest, $config and per-file annotations; --export-manifest writes the bytes", async () => {
    const layout = join(root, "annotated");
    const annotations = join(root, "annotations.json");
    writeFileSync(
      annotations,
      JSON.stringify({
        $manifest: { "org.opencontainers.image.revision": "abc123" },
        $config: { "config.note": "yes" },
        "notes.txt": { "file.note": "release" },
      }),
    );
    const exported = join(root, "exported-manifest.json");
    const out = JSON.parse(
      await ok([
        "push",
        "--oci-layout",
        layout,
        "notes.txt",
        "--annotation-file",
        annotations,
        "-a",
        "org.opencontainers.image.authors=ci",
        "--export-manifest",
        exported,
        "--format",
        "json",
      ]),
    );
    const bytes = new Uint8Array(readFileSync(exported));
    expect(sha256(bytes)).toBe(out.digest);
    const manifest = JSON.parse(new TextDecoder().decode(bytes));
    expect(manifest.annotations["org.opencontainers.image.revision"]).toBe("abc123");
    expect(manifest.annotations["org.opencontainers.image.authors"]).toBe("ci");
    expect(manifest.config.annotations).toEqual({ "config.note": "yes" });
    expect(manifest.layers[0].annotations["file.note"]).toBe("release");
    expect(out.annotations["org.opencontainers.image.revision"]).toBe("abc123");
  });

  test("no files: the empty descriptor is the single layer", async () => {
    const layout = join(root, "empty");
    const out = JSON.parse(
      await ok(["push", "--oci-layout", layout, "-a", "only=annotations", "--format", "json"]),
    );
    const manifest = readJson<{ layers: { mediaType: string; size: number }[] }>(
      blobPath(layout, out.digest),
    );
    expect(manifest.layers).toEqual([
      {
        mediaType: "application/vnd.oci.empty.v1+json",
        digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        size: 2,
        data: "e30=",
      } as never,
    ]);
  });

  test("skopeo and umoci read what skiff pushed to a layout", async () => {
    const layout = join(root, "for-skopeo");
    await ok([
      "push",
      "--oci-layout",
      `${layout}:v1`,
      "build/repo",
      "notes.txt",
      "--artifact-platform",
      "linux/amd64",
    ]);
    const inspect = spawnSync("skopeo", ["inspect", "--raw", `oci:${layout}:v1`], { encoding: "utf8" });
    expect(inspect.stderr).toBe("");
    expect(JSON.parse(inspect.stdout).layers).toHaveLength(2);
    const copy = spawnSync(
      "skopeo",
      ["copy", "--preserve-digests", `oci:${layout}:v1`, `oci:${join(root, "skopeo-copy")}:v1`],
      {
        encoding: "utf8",
      },
    );
    expect(copy.status).toBe(0);
    const copied = readJson<IndexJson>(join(root, "skopeo-copy", "index.json"));
    const original = readJson<IndexJson>(join(layout, "index.json"));
    expect(copied.manifests[0]!.digest).toBe(original.manifests[0]!.digest);
    const umoci = spawnSync("umoci", ["ls", "--layout", layout], { encoding: "utf8" });
    expect(umoci.status).toBe(0);
    expect(umoci.stdout.trim()).toBe("v1");
  });
});

describe("what push prints is a reference other commands take", () => {
  test("oci-layout:// + the pushed reference works with resolve and pull; pull --platform finds it tagless", async () => {
    const layout = join(root, "story");
    const reference = await ok([
      "push",
      "--oci-layout",
      layout,
      "build/repo",
      "notes.txt",
      "--artifact-platform",
      "linux/arm64/v8:el8",
      "--format",
      "go-template={{.reference}}",
    ]);
    expect(reference).toMatch(/@sha256:[0-9a-f]{64}$/);
    const digest = reference.slice(reference.lastIndexOf("@") + 1);
    expect((await ok(["resolve", `oci-layout://${reference}`])).trim()).toBe(digest);

    const out = join(root, "pulled-by-reference");
    await ok(["pull", `oci-layout://${reference}`, "-o", out]);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("release notes\n");
    expect(readFileSync(join(out, "build", "repo", "repodata", "repomd.xml"), "utf8")).toBe("<repomd/>\n");
    expect(readFileSync(join(out, "build", "repo", "pkg-1.0-1.el8.x86_64.rpm"))).toEqual(
      readFileSync(join(root, "build", "repo", "pkg-1.0-1.el8.x86_64.rpm")),
    );

    // The user story's pull: tagless layout, platform with os.version.
    const byPlatform = join(root, "pulled-by-platform");
    await ok(["pull", "--platform", "linux/arm64/v8:el8", "--oci-layout", layout, "-o", byPlatform]);
    expect(readFileSync(join(byPlatform, "notes.txt"), "utf8")).toBe("release notes\n");
    const wrong = await runSkiff(
      ["pull", "--platform", "linux/arm64/v8:el9", "--oci-layout", layout, "-o", join(root, "x")],
      {
        cwd: root,
      },
    );
    expect(wrong.code).not.toBe(0);
  });
});

describe("reproducible digests", () => {
  const push = async (layout: string, env: Record<string, string>): Promise<string> =>
    JSON.parse(await ok(["push", "--oci-layout", layout, "build/repo", "notes.txt", "--format", "json"], env))
      .digest;

  test("with SOURCE_DATE_EPOCH, the same tree pushed at different times gives the same digest", async () => {
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const first = await push(join(root, "repro-1"), env);
    await Bun.sleep(1100);
    const later = Date.now() / 1000;
    utimesSync(join(root, "build", "repo", "pkg-1.0-1.el8.x86_64.rpm"), later, later);
    utimesSync(join(root, "build", "repo", "repodata"), later, later);
    utimesSync(join(root, "notes.txt"), later, later);
    const second = await push(join(root, "repro-2"), env);
    expect(second).toBe(first);
    const manifest = readJson<{ annotations: Record<string, string> }>(
      blobPath(join(root, "repro-2"), second),
    );
    expect(manifest.annotations["org.opencontainers.image.created"]).toBe("2023-11-14T22:13:20Z");
  });

  test("without SOURCE_DATE_EPOCH, touched files change the digest (the check above can fail)", async () => {
    const args = [
      "push",
      "--oci-layout",
      join(root, "repro-3"),
      "build/repo",
      "--no-created",
      "--format",
      "json",
    ];
    const first = JSON.parse(await ok(args)).digest;
    const later = Date.now() / 1000 + 5;
    utimesSync(join(root, "build", "repo", "repodata", "repomd.xml"), later, later);
    const second = JSON.parse(await ok(args)).digest;
    expect(second).not.toBe(first);
  });
});

describe("bad input: one-line error naming the culprit, non-zero exit, nothing written", () => {
  const cases: { name: string; args: string[]; message: RegExp; setup?: () => void }[] = [
    {
      name: "a file that does not exist",
      args: ["missing.txt"],
      message: /"missing\.txt" \(\/.*\/missing\.txt\): no such file or directory/,
    },
    { name: "an absolute path", args: ["/etc/hostname"], message: /absolute file path "\/etc\/hostname"/ },
    {
      name: "two files with the same title",
      args: ["notes.txt", "./notes.txt"],
      message: /notes\.txt: duplicate name: .* would both be published under it/,
    },
    {
      name: "a malformed annotation file",
      args: ["notes.txt", "--annotation-file", "bad-annotations.json"],
      message: /invalid annotation file bad-annotations\.json: not valid JSON/,
      setup: () => writeFileSync(join(root, "bad-annotations.json"), "{ nope"),
    },
    {
      name: "an invalid file media type",
      args: ["notes.txt:not a type"],
      message: /invalid media type "not a type"/,
    },
    {
      name: "an invalid artifact type",
      args: ["notes.txt", "--artifact-type", "nonsense"],
      message: /invalid artifact type "nonsense"/,
    },
    {
      name: "--artifact-platform with --config",
      args: ["notes.txt", "--artifact-platform", "linux/amd64", "--config", "notes.txt"],
      message: /--config, --artifact-platform cannot be used at the same time/,
    },
  ];

  for (const { name, args, message, setup } of cases) {
    test(name, async () => {
      setup?.();
      const layout = join(root, `bad-${name.replaceAll(/[^a-z]+/g, "-")}`);
      const result = await runSkiff(["push", "--oci-layout", `${layout}:v1`, ...args], { cwd: root });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`^Error: .*${message.source}`));
      expect(result.stderr.split("\n")[0]).toMatch(message);
      expect(result.stdout).toBe("");
      expect(existsSync(layout)).toBe(false);
    });
  }

  test("a tag that violates the tag grammar", async () => {
    const layout = join(root, "bad-tag");
    const result = await runSkiff(["push", "--oci-layout", `${layout}:-bad!tag`, "notes.txt"], { cwd: root });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('tag "-bad!tag" must match');
    expect(existsSync(layout)).toBe(false);
  });

  test("a failing push leaves an existing layout exactly as it was", async () => {
    const layout = join(root, "untouched");
    await ok(["push", "--oci-layout", `${layout}:v1`, "notes.txt"]);
    const before = readFileSync(join(layout, "index.json"), "utf8");
    const result = await runSkiff(["push", "--oci-layout", `${layout}:v2`, "notes.txt", "missing.txt"], {
      cwd: root,
    });
    expect(result.code).not.toBe(0);
    expect(readFileSync(join(layout, "index.json"), "utf8")).toBe(before);
  });

  test("an unreadable file (run as an unprivileged user)", async () => {
    const secret = join(root, "secret.txt");
    writeFileSync(secret, "secret");
    spawnSync("chmod", ["000", secret]);
    spawnSync("chmod", ["o+rwx", root]);
    const layout = join(root, "unreadable");
    // Root reads everything: run as nobody so the permission check is real.
    const { command, args } = skiffCommand();
    const asNobody =
      process.getuid?.() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", command, ...args]
        : [command, ...args];
    const result = spawnSync(
      asNobody[0]!,
      [...asNobody.slice(1), "push", "--oci-layout", layout, "secret.txt"],
      {
        cwd: root,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root },
      },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr.split("\n")[0]).toBe('Error: cannot read file "secret.txt": permission denied');
  });
});
