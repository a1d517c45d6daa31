import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TransferEvent } from "../../src/content/events.ts";
import { openLayout } from "../../src/content/layout/index.ts";
import { digestOf } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseManifest } from "../../src/oci/manifest.ts";
import { Annotation, emptyJson, MediaType } from "../../src/oci/media-types.ts";
import {
  type Annotations,
  emptyAnnotations,
  formatCreated,
  isRfc3339,
  loadAnnotations,
  parseAnnotationFile,
  parseAnnotationFlags,
  sourceDateEpoch,
} from "../../src/ops/annotations.ts";
import {
  buildManifest,
  cleanPath,
  fileTitle,
  parseFileArgument,
  planArtifact,
  platformConfig,
  pushArtifact,
  UNKNOWN_CONFIG_MEDIA_TYPE,
} from "../../src/ops/push.ts";

let work: string;
const cwd = process.cwd();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "skiff-push-unit-"));
  process.chdir(work);
});
afterAll(async () => {
  process.chdir(cwd);
  await rm(work, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function usageError(fn: () => unknown): SkiffError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkiffError);
    return error as SkiffError;
  }
  throw new Error("expected an error");
}

describe("parseFileArgument", () => {
  test("FILE and FILE:mediaType split at the last colon", () => {
    expect(parseFileArgument("hi.txt")).toEqual({ path: "hi.txt" });
    expect(parseFileArgument("hi.txt:application/vnd.me.hi")).toEqual({
      path: "hi.txt",
      mediaType: "application/vnd.me.hi",
    });
    expect(parseFileArgument("dir/a:b:text/plain")).toEqual({ path: "dir/a:b", mediaType: "text/plain" });
  });
  test("a trailing colon keeps a colon in the name with the default type", () => {
    expect(parseFileArgument("hi:txt:")).toEqual({ path: "hi:txt" });
  });
  test("a Windows drive is not a media type separator", () => {
    expect(parseFileArgument("C:\\data\\x.txt")).toEqual({ path: "C:\\data\\x.txt" });
  });
  test("an invalid media type or empty path is refused", () => {
    expect(usageError(() => parseFileArgument("hi.txt:not a type")).message).toContain('"not a type"');
    expect(usageError(() => parseFileArgument(":text/plain")).message).toContain("empty file path");
  });
});

describe("cleanPath and fileTitle", () => {
  test("paths are cleaned like Go's filepath.Clean with forward slashes", () => {
    expect(cleanPath("./a/b/../c.txt")).toBe("a/c.txt");
    expect(cleanPath("dir/")).toBe("dir");
    expect(cleanPath("a\\b")).toBe("a/b");
    expect(cleanPath("../x")).toBe("../x");
    expect(cleanPath("/abs//x/./y")).toBe("/abs/x/y");
    expect(cleanPath(".")).toBe(".");
  });
  test("absolute paths need --disable-path-validation; paths leaving the directory do not (ORAS)", () => {
    expect(usageError(() => fileTitle("/etc/passwd")).code).toBe("UNSAFE_PATH");
    expect(fileTitle("../secret")).toBe("../secret");
    expect(fileTitle("a/../../secret")).toBe("../secret");
    expect(fileTitle("/etc/passwd", true)).toBe("/etc/passwd");
    expect(fileTitle("../up", true)).toBe("../up");
    expect(fileTitle("a/../b")).toBe("b");
  });
});

describe("annotations", () => {
  test("an annotation file sorts keys into manifest, config and files", () => {
    const parsed = parseAnnotationFile(
      bytes(JSON.stringify({ $manifest: { a: "1" }, $config: { c: "2" }, "x.txt": { f: "3" } })),
      "ann.json",
    );
    expect(parsed).toEqual({ manifest: { a: "1" }, config: { c: "2" }, files: { "x.txt": { f: "3" } } });
  });
  test("malformed annotation files are refused, naming the file and the problem", () => {
    const cases: [string, RegExp][] = [
      ["{not json", /ann\.json: not valid JSON/],
      ["[1,2]", /must be a JSON object/],
      ['{"$manifest": "x"}', /"\$manifest" must map to an object/],
      ['{"$manifest": {"k": 1}}', /"\$manifest"\."k" must be a string/],
      ['{"f": {"": "v"}}', /empty annotation key/],
    ];
    for (const [text, pattern] of cases) {
      const error = usageError(() => parseAnnotationFile(bytes(text), "ann.json"));
      expect(error.message).toMatch(pattern);
      expect(error.message).not.toContain("\n");
    }
  });
  test("-a flags: KEY=VALUE, value may contain '=', keys once", () => {
    expect(parseAnnotationFlags(["a=1", "b=x=y", "c="])).toEqual({ a: "1", b: "x=y", c: "" });
    expect(usageError(() => parseAnnotationFlags(["novalue"])).message).toContain("KEY=VALUE");
    expect(usageError(() => parseAnnotationFlags(["=v"])).message).toContain("KEY=VALUE");
    expect(usageError(() => parseAnnotationFlags(["a=1", "a=2"])).message).toContain("given twice");
  });
  test("flags and a file merge; the same manifest key in both is an error", async () => {
    const file = join(work, "ann.json");
    await writeFile(file, JSON.stringify({ $manifest: { a: "1" } }));
    expect((await loadAnnotations(["b=2"], file)).manifest).toEqual({ a: "1", b: "2" });
    await expect(loadAnnotations(["a=2"], file)).rejects.toThrow(/set by -a and by \$manifest/);
    await expect(loadAnnotations([], join(work, "missing.json"))).rejects.toThrow(
      /cannot read annotation file ".*missing\.json": no such file or directory/,
    );
  });
  test("created: RFC 3339 at second precision; SOURCE_DATE_EPOCH parsed strictly", () => {
    expect(formatCreated(new Date(Date.UTC(2024, 4, 1, 12, 30, 45, 678)))).toBe("2024-05-01T12:30:45Z");
    expect(isRfc3339("2024-05-01T12:30:45Z")).toBe(true);
    expect(isRfc3339("2024-05-01T12:30:45.5+02:00")).toBe(true);
    expect(isRfc3339("2024-05-01")).toBe(false);
    expect(sourceDateEpoch({})).toBeUndefined();
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: "1700000000" })).toBe(1_700_000_000);
    expect(usageError(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: "yesterday" })).message).toContain(
      "SOURCE_DATE_EPOCH",
    );
    expect(usageError(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: "-5" })).code).toBe("USAGE");
  });
});

describe("planArtifact", () => {
  const created = "2020-01-01T00:00:00Z";

  test("defaults: image-spec v1.1, unknown artifact type, empty config, created annotation", () => {
    const plan = planArtifact({ files: [{ path: "a.txt" }], created });
    expect(plan.imageSpec).toBe("v1.1");
    expect(plan.artifactType).toBe(MediaType.unknownArtifact);
    expect(plan.config).toEqual({ kind: "empty", mediaType: MediaType.ociEmpty });
    expect(plan.layers).toEqual([{ path: "a.txt", title: "a.txt" }]);
    expect(plan.manifestAnnotations).toEqual({ [Annotation.created]: created });
  });
  test("created: null omits it; a user value wins and must be RFC 3339", () => {
    expect(planArtifact({ created: null }).manifestAnnotations).toEqual({});
    const annotations: Annotations = {
      ...emptyAnnotations(),
      manifest: { [Annotation.created]: "2000-01-01T00:00:00Z" },
    };
    expect(planArtifact({ annotations, created }).manifestAnnotations[Annotation.created]).toBe(
      "2000-01-01T00:00:00Z",
    );
    const bad: Annotations = { ...emptyAnnotations(), manifest: { [Annotation.created]: "last tuesday" } };
    expect(usageError(() => planArtifact({ annotations: bad })).message).toContain("RFC 3339");
  });
  test("--config without --artifact-type switches to v1.0 (ORAS), unless v1.1 is asked for", () => {
    const plan = planArtifact({ config: { path: "c.json" }, created });
    expect(plan.imageSpec).toBe("v1.0");
    expect(plan.artifactType).toBeUndefined();
    expect(plan.config).toEqual({ kind: "file", path: "c.json", mediaType: UNKNOWN_CONFIG_MEDIA_TYPE });
    expect(
      usageError(() => planArtifact({ config: { path: "c.json" }, imageSpec: "v1.1" })).message,
    ).toContain("missing artifact type");
  });
  test("v1.0: the artifact type is the config media type; with --config it is refused", () => {
    const plan = planArtifact({ imageSpec: "v1.0", artifactType: "application/vnd.me.cfg", created });
    expect(plan.config).toEqual({ kind: "empty", mediaType: "application/vnd.me.cfg" });
    expect(
      usageError(() =>
        planArtifact({ imageSpec: "v1.0", artifactType: "application/x.a", config: { path: "c.json" } }),
      ).message,
    ).toContain("cannot both be used");
  });
  test("--artifact-platform with --config is refused; alone it writes a platform config", () => {
    const platform = { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" };
    expect(
      usageError(() => planArtifact({ artifactPlatform: platform, config: { path: "c" } })).message,
    ).toBe("--config, --artifact-platform cannot be used at the same time");
    expect(planArtifact({ artifactPlatform: platform, created }).config).toEqual({
      kind: "platform",
      platform,
    });
    expect(JSON.parse(new TextDecoder().decode(platformConfig(platform)))).toEqual({
      architecture: "arm64",
      os: "linux",
      "os.version": "el8",
      variant: "v8",
    });
  });
  test("invalid media types and artifact types are refused", () => {
    expect(usageError(() => planArtifact({ artifactType: "nope" })).message).toContain(
      'artifact type "nope"',
    );
    expect(
      usageError(() => planArtifact({ files: [{ path: "a", mediaType: "bad type" }] })).message,
    ).toContain('"bad type"');
    expect(usageError(() => planArtifact({ config: { path: "c", mediaType: "x" } })).message).toContain(
      "config media type",
    );
  });
  test("two files with the same title are refused, naming both", () => {
    const error = usageError(() => planArtifact({ files: [{ path: "dir/a.txt" }, { path: "./dir/a.txt" }] }));
    expect(error.message).toBe(
      'dir/a.txt: duplicate name: "./dir/a.txt" and "dir/a.txt" would both be published under it',
    );
  });
  test("annotation-file keys name pushed files by the path as given or the title; others are warned of and ignored", () => {
    const annotations: Annotations = {
      ...emptyAnnotations(),
      files: { "./a.txt": { k: "v" }, "b.txt": { k2: "v2" } },
    };
    const plan = planArtifact({ files: [{ path: "./a.txt" }, { path: "b.txt" }], annotations, created });
    expect(plan.layers.map((l) => l.annotations)).toEqual([{ k: "v" }, { k2: "v2" }]);
    const other: Annotations = { ...emptyAnnotations(), files: { "c.txt": { k: "v" } } };
    const warnings: string[] = [];
    const ignored = planArtifact({
      files: [{ path: "a.txt" }],
      annotations: other,
      warn: (text) => warnings.push(text),
    });
    expect(ignored.layers.map((l) => l.annotations)).toEqual([undefined]);
    expect(warnings).toEqual([
      'the annotation file has annotations for "c.txt", which is not among the pushed files: ignored',
    ]);
  });
});

describe("buildManifest", () => {
  const layer: Descriptor = {
    mediaType: MediaType.ociLayerTar,
    digest: digestOf(bytes("a")),
    size: 1,
    annotations: { [Annotation.title]: "a.txt" },
  };

  test("fields in spec order, annotations sorted, equal input gives equal digest", () => {
    const plan = planArtifact({
      files: [{ path: "a.txt" }],
      annotations: { ...emptyAnnotations(), manifest: { zeta: "1", alpha: "2" } },
      created: "2020-01-01T00:00:00Z",
    });
    const built = buildManifest(plan, { ...emptyJson }, [layer]);
    const text = new TextDecoder().decode(built.bytes);
    expect(Object.keys(JSON.parse(text))).toEqual([
      "schemaVersion",
      "mediaType",
      "artifactType",
      "config",
      "layers",
      "annotations",
    ]);
    expect(Object.keys(JSON.parse(text).annotations)).toEqual(["alpha", Annotation.created, "zeta"]);
    expect(built.desc.digest).toBe(digestOf(built.bytes));
    expect(built.desc.artifactType).toBe(MediaType.unknownArtifact);
    expect(buildManifest(plan, { ...emptyJson }, [layer]).desc.digest).toBe(built.desc.digest);
    // The result parses as a manifest skiff itself accepts.
    expect(parseManifest(built.bytes, MediaType.ociManifest, "test").mediaType).toBe(MediaType.ociManifest);
  });
  test("v1.1 with no files: the empty descriptor is the single layer; v1.0: no layers", () => {
    const v11 = buildManifest(planArtifact({ created: null }), { ...emptyJson }, []);
    expect(v11.manifest.layers).toEqual([{ ...emptyJson }]);
    const plan10 = planArtifact({ imageSpec: "v1.0", created: null });
    const v10 = buildManifest(
      plan10,
      { mediaType: UNKNOWN_CONFIG_MEDIA_TYPE, digest: emptyJson.digest, size: 2 },
      [],
    );
    expect(v10.manifest.layers).toEqual([]);
    expect(v10.manifest.artifactType).toBeUndefined();
    expect(v10.desc.artifactType).toBe(UNKNOWN_CONFIG_MEDIA_TYPE);
  });
  test("a subject is written after the layers", () => {
    const subject: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(bytes("s")), size: 1 };
    const built = buildManifest(
      planArtifact({ subject, artifactType: "application/vnd.sig", created: null }),
      { ...emptyJson },
      [layer],
    );
    expect(Object.keys(JSON.parse(new TextDecoder().decode(built.bytes)))).toEqual([
      "schemaVersion",
      "mediaType",
      "artifactType",
      "config",
      "layers",
      "subject",
    ]);
    expect(built.manifest.subject).toEqual(subject);
  });
});

describe("pushArtifact to a layout", () => {
  test("files and a directory land as blobs; a tagless push adds one untagged index.json entry", async () => {
    await mkdir(join(work, "build", "repo"), { recursive: true });
    await writeFile(join(work, "build", "repo", "x.rpm"), "rpm bytes");
    await writeFile(join(work, "notes.txt"), "notes\n");
    const layout = await openLayout(join(work, "layout1"), { create: true });
    const events: TransferEvent[] = [];
    const result = await pushArtifact(layout, {
      files: [{ path: "notes.txt" }, { path: "build/repo" }],
      created: "2024-01-01T00:00:00Z",
      mtime: 1_700_000_000,
      listener: (event) => events.push(event),
    });
    const index = JSON.parse(await readFile(join(work, "layout1", "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].digest).toBe(result.desc.digest);
    expect(index.manifests[0].annotations?.[Annotation.refName]).toBeUndefined();
    const stored = await readFile(join(work, "layout1", "blobs", "sha256", result.desc.digest.slice(7)));
    expect(digestOf(new Uint8Array(stored))).toBe(result.desc.digest);
    const titles = result.manifest.layers.map((l) => l.annotations?.[Annotation.title]);
    expect(titles).toEqual(["notes.txt", "build/repo"]);
    expect(result.manifest.layers[1]!.mediaType).toBe(MediaType.ociLayerTarGzip);
    for (const desc of [...result.manifest.layers, result.manifest.config]) {
      expect(await layout.exists(desc)).toBe(true);
    }
    expect(events.filter((e) => e.type === "done").map((e) => e.desc.digest)).toContain(result.desc.digest);

    // The same push again: same digest, everything already there, still one entry.
    await utimes(join(work, "notes.txt"), 5, 5);
    const again = await pushArtifact(layout, {
      files: [{ path: "notes.txt" }, { path: "build/repo" }],
      created: "2024-01-01T00:00:00Z",
      mtime: 1_700_000_000,
    });
    expect(again.desc.digest).toBe(result.desc.digest);
    const after = JSON.parse(await readFile(join(work, "layout1", "index.json"), "utf8"));
    expect(after.manifests).toHaveLength(1);
  });

  test("a - file is stdin: spooled, titled by stdinName (default stdin), readable only once", async () => {
    const bytes = new TextEncoder().encode("piped ".repeat(100_000));
    const stdin = () => new Blob([bytes]).stream();
    const layout = await openLayout(join(work, "layout-stdin"), { create: true });
    const named = await pushArtifact(layout, {
      files: [{ path: "-" }],
      stdin,
      stdinName: "log.txt",
      created: null,
    });
    expect(named.manifest.layers).toHaveLength(1);
    expect(named.manifest.layers[0]).toMatchObject({ digest: digestOf(bytes), size: bytes.byteLength });
    expect(named.manifest.layers[0]!.annotations?.[Annotation.title]).toBe("log.txt");
    expect(await layout.exists(named.manifest.layers[0]!)).toBe(true);
    const plain = await pushArtifact(layout, { files: [{ path: "-" }], stdin, created: null });
    expect(plain.manifest.layers[0]!.annotations?.[Annotation.title]).toBe("stdin");
    const twice = pushArtifact(layout, { files: [{ path: "-" }, { path: "-" }], stdin, created: null });
    await expect(twice).rejects.toThrow('stdin ("-") can be read only once');
  });

  test("tags become ref names; a bad tag is refused before anything is written", async () => {
    await writeFile(join(work, "t.txt"), "t");
    const layout = await openLayout(join(work, "layout2"), { create: true });
    await pushArtifact(layout, { files: [{ path: "t.txt" }], tags: ["v1", "latest"], created: null });
    const index = JSON.parse(await readFile(join(work, "layout2", "index.json"), "utf8"));
    expect(index.manifests.map((m: Descriptor) => m.annotations?.[Annotation.refName]).sort()).toEqual([
      "latest",
      "v1",
    ]);
    await expect(
      pushArtifact(layout, { files: [{ path: "t.txt" }], tags: ["bad tag!"], created: null }),
    ).rejects.toThrow(/tag "bad tag!"/);
  });

  test("a missing file fails before the layout changes", async () => {
    const layout = await openLayout(join(work, "layout3"), { create: true });
    const before = await readFile(join(work, "layout3", "index.json"), "utf8");
    await expect(pushArtifact(layout, { files: [{ path: "nope.txt" }] })).rejects.toThrow(
      /cannot read file "nope\.txt" \(\/.*\/nope\.txt\): no such file or directory/,
    );
    expect(await readFile(join(work, "layout3", "index.json"), "utf8")).toBe(before);
  });
});
