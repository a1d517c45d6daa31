import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TransferEvent } from "../../src/content/events.ts";
import { openLayout } from "../../src/content/layout/index.ts";
import { publishedEntries } from "../../src/content/layout/index-file.ts";
import type { PublishPlan } from "../../src/content/target.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseManifest } from "../../src/oci/manifest.ts";
import { parsePlatform } from "../../src/oci/platform.ts";
import { parseReference, type Reference } from "../../src/oci/reference.ts";
import { withCreated } from "../../src/ops/annotations.ts";
import { composeIndex } from "../../src/ops/image-index/compose.ts";
import { createIndex } from "../../src/ops/image-index/create.ts";
import { cachedOpener, indexSources, parseSourceReference } from "../../src/ops/image-index/sources.ts";
import { resolveReference } from "../../src/ops/resolve.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, sha256, tempDir } from "../fixtures/layout-builder.ts";
import { blobJson, FakeRepository, indexJson, opener, platformLayout, walkAll } from "./index-helpers.ts";

afterAll(cleanup);

async function failure(promise: Promise<unknown>): Promise<SkiffError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof SkiffError)) throw error;
    return error;
  }
  throw new Error("expected a SkiffError, got success");
}

const layoutRef = (path: string): Reference => ({ kind: "layout", path });
const CREATED = "2024-05-01T12:00:00Z";
const el8 = parsePlatform("linux/arm64/v8:el8");
const el9 = parsePlatform("linux/arm64/v8:el9");

describe("parseSourceReference", () => {
  const target = parseReference("localhost:5000/repo:v1");
  test("a bare tag or digest is in the target's own repository", () => {
    expect(parseSourceReference("amd64", target)).toEqual({
      kind: "registry",
      registry: "localhost:5000",
      repository: "repo",
      tag: "amd64",
    });
    const digest = sha256("x");
    expect(parseSourceReference(digest, target)).toEqual({
      kind: "registry",
      registry: "localhost:5000",
      repository: "repo",
      digest,
    });
  });
  test("oci-layout:// is a layout, tagless when it has no tag", () => {
    expect(parseSourceReference("oci-layout://build/el8", target)).toEqual({
      kind: "layout",
      path: "build/el8",
    });
    expect(parseSourceReference("oci-layout://b:t", target)).toEqual({ kind: "layout", path: "b", tag: "t" });
  });
  test("text with a slash is a full registry reference", () => {
    expect(parseSourceReference("other.example/x/y:1", target)).toMatchObject({
      registry: "other.example",
      repository: "x/y",
      tag: "1",
    });
  });
  test("a tag in a layout target stays in that layout", () => {
    expect(parseSourceReference("v2", layoutRef("out"))).toEqual({ kind: "layout", path: "out", tag: "v2" });
  });
  test("a path without the scheme is refused with a hint", async () => {
    const error = await failure((async () => parseSourceReference("./build", target))());
    expect(error.code).toBe("INVALID_REFERENCE");
    expect(error.hint).toContain("oci-layout://./build");
    expect((await failure((async () => parseSourceReference("sha256:abc", target))())).message).toContain(
      "not a valid digest",
    );
    expect((await failure((async () => parseSourceReference("bad tag", target))())).code).toBe(
      "INVALID_REFERENCE",
    );
  });
});

describe("indexSources: per-source platforms and annotations", () => {
  const target = layoutRef("out");
  test("--platform-for and --annotation-for attach to the source named exactly", () => {
    const sources = indexSources(["oci-layout://a", "oci-layout://b=c"], target, {
      platformFor: ["oci-layout://a=linux/arm64/v8:el8"],
      annotationFor: ["oci-layout://b=c=k=v=w"],
      fileAnnotations: { "oci-layout://a": { note: "from file" } },
    });
    expect(sources[0]!.platform).toEqual(el8);
    expect(sources[0]!.annotations).toEqual({ note: "from file" });
    expect(sources[1]!.annotations).toEqual({ k: "v=w" });
    expect(sources[1]!.platform).toBeUndefined();
  });
  test("a setting that names no source, names two, or repeats is refused", async () => {
    const texts = ["oci-layout://a", "oci-layout://a=b"];
    const none = await failure(
      (async () => indexSources(texts, target, { platformFor: ["x=linux/amd64"] }))(),
    );
    expect(none.message).toContain("names no source");
    const two = await failure(
      (async () => indexSources(texts, target, { annotationFor: ["oci-layout://a=b=k=v"] }))(),
    );
    expect(two.message).toContain("could name several sources");
    const twice = await failure(
      (async () =>
        indexSources(["oci-layout://a"], target, {
          platformFor: ["oci-layout://a=linux/amd64", "oci-layout://a=linux/arm64"],
        }))(),
    );
    expect(twice.message).toContain("two platforms");
    const file = await failure(
      (async () => indexSources(["oci-layout://a"], target, { fileAnnotations: { nope: { k: "v" } } }))(),
    );
    expect(file.message).toContain('"nope", which is not a source');
    const noValue = await failure(
      (async () => indexSources(["oci-layout://a"], target, { annotationFor: ["oci-layout://a=novalue"] }))(),
    );
    expect(noValue.message).toContain("SOURCE=KEY=VALUE");
  });
});

describe("withCreated", () => {
  test("the user's value wins, null omits, a date is used as given", () => {
    expect(withCreated({}, CREATED)).toEqual({ "org.opencontainers.image.created": CREATED });
    expect(withCreated({}, null)).toEqual({});
    expect(withCreated({ "org.opencontainers.image.created": "2020-01-01T00:00:00Z" }, CREATED)).toEqual({
      "org.opencontainers.image.created": "2020-01-01T00:00:00Z",
    });
    expect(withCreated({}, undefined, () => new Date(0))).toEqual({
      "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
    });
    expect(() => withCreated({ "org.opencontainers.image.created": "yesterday" }, undefined)).toThrow(
      "RFC 3339",
    );
  });
});

describe("composeIndex", () => {
  test("fields in the spec's order, annotations sorted, the digest of the exact bytes", () => {
    const entry: Descriptor = { digest: sha256("m"), size: 1, mediaType: MT.manifest, platform: el8 };
    const built = composeIndex([entry], {
      artifactType: "application/vnd.example.set",
      annotations: { b: "2", a: "1" },
      subject: { mediaType: MT.manifest, digest: sha256("s"), size: 3, annotations: { x: "y" } },
    });
    const text = new TextDecoder().decode(built.bytes);
    expect(Object.keys(JSON.parse(text))).toEqual([
      "schemaVersion",
      "mediaType",
      "artifactType",
      "manifests",
      "subject",
      "annotations",
    ]);
    expect(text).toContain('"annotations":{"a":"1","b":"2"}');
    expect(JSON.parse(text).subject).toEqual({ mediaType: MT.manifest, digest: sha256("s"), size: 3 });
    expect(Object.keys(JSON.parse(text).manifests[0])).toEqual(["mediaType", "digest", "size", "platform"]);
    expect(built.desc.digest).toBe(sha256(built.bytes));
    expect(built.desc.size).toBe(built.bytes.byteLength);
    expect(built.desc.artifactType).toBe("application/vnd.example.set");
  });
});

/** The index.json entries after publishing (index create and update publish through the layout). */
const layoutEntries = (raw: Record<string, unknown>[], desc: Descriptor, plan: PublishPlan) =>
  publishedEntries(raw, desc, plan) || raw;

describe("layoutEntries", () => {
  const desc: Descriptor = { mediaType: MT.index, digest: sha256("new"), size: 3 };
  const old = sha256("old");
  const raw = [
    { mediaType: MT.index, digest: old, size: 3 },
    { mediaType: MT.index, digest: old, size: 3, annotations: { [REF_NAME]: "keep" } },
    { mediaType: MT.manifest, digest: sha256("other"), size: 5, annotations: { [REF_NAME]: "v1" } },
  ];
  test("no tag: one untagged entry is added", () => {
    expect(layoutEntries([], desc, { tags: [] })).toEqual([
      { mediaType: MT.index, digest: desc.digest, size: 3 },
    ]);
  });
  test("a tag moves from another manifest; untagged entries of the replaced index are repointed", () => {
    const out = layoutEntries(raw, desc, { tags: ["v1"], replaces: { ...desc, digest: old } });
    expect(
      out.map((e) => [e.digest, (e.annotations as Record<string, string> | undefined)?.[REF_NAME]]),
    ).toEqual([
      [old, "keep"],
      [desc.digest, "v1"],
    ]);
  });
  test("a tagless update moves every tag of the old index", () => {
    const out = layoutEntries(raw, desc, { tags: [], replaces: { ...desc, digest: old }, moveAllTags: true });
    expect(
      out.map((e) => [e.digest, (e.annotations as Record<string, string> | undefined)?.[REF_NAME]]),
    ).toEqual([
      [sha256("other"), "v1"],
      [desc.digest, "keep"],
    ]);
  });
  test("untagged entries of absorbed sources go; their tagged entries stay", () => {
    const m = sha256("m");
    const out = layoutEntries(
      [
        { mediaType: MT.manifest, digest: m, size: 1 },
        { mediaType: MT.manifest, digest: m, size: 1, annotations: { [REF_NAME]: "t" } },
      ],
      desc,
      { tags: [], absorbs: [m] },
    );
    expect(out.map((e) => e.digest)).toEqual([m, desc.digest]);
  });
});

/** Two per-platform layouts as CI jobs would push them: tagless, platform only in the config. */
function twoPlatformLayouts() {
  const a = platformLayout(el8, { "el8.txt": "packages for el8" });
  const b = platformLayout(el9, { "el9.txt": "packages for el9" });
  return { a, b, texts: [`oci-layout://${a.builder.dir}`, `oci-layout://${b.builder.dir}`] };
}

describe("createIndex into a layout", () => {
  test("merges tagless layouts into a fresh layout: one index.json entry, nested, self-contained", async () => {
    const { a, b, texts } = twoPlatformLayouts();
    const out = join(tempDir(), "merged");
    const events: TransferEvent[] = [];
    const result = await createIndex({
      target: layoutRef(out),
      sources: indexSources(texts, layoutRef(out)),
      open: cachedOpener(opener()),
      annotations: { "org.opencontainers.image.authors": "ci", "org.opencontainers.image.revision": "abc" },
      created: CREATED,
      listener: (e) => events.push(e),
    });
    const index = indexJson(out);
    expect(index.manifests).toEqual([
      { mediaType: MT.index, digest: result.desc.digest, size: result.desc.size },
    ]);
    const composed = blobJson(out, result.desc.digest);
    expect(composed.mediaType).toBe(MT.index);
    expect(composed.annotations).toEqual({
      "org.opencontainers.image.authors": "ci",
      "org.opencontainers.image.created": CREATED,
      "org.opencontainers.image.revision": "abc",
    });
    expect(composed.manifests).toEqual([
      {
        mediaType: MT.manifest,
        digest: a.desc.digest,
        size: a.desc.size,
        platform: el8,
        artifactType: "application/vnd.example+type",
      },
      {
        mediaType: MT.manifest,
        digest: b.desc.digest,
        size: b.desc.size,
        platform: el9,
        artifactType: "application/vnd.example+type",
      },
    ]);
    const layout = await openLayout(out);
    const all = await walkAll(layout, result.desc);
    expect(all.length).toBe(7); // index, 2 manifests, 2 configs, 2 files
    // Resolvable without a tag, narrowed by platform with os.version.
    const picked = await resolveReference(layout, layoutRef(out), { platform: el9 });
    expect(picked.desc.digest).toBe(b.desc.digest);
    const prompts = events.filter((e) => e.type === "status").map((e) => (e as { prompt: string }).prompt);
    expect(prompts).toEqual(["Fetching", "Fetched", "Fetching", "Fetched", "Packed"]);
    expect(result.pinned).toEqual({ kind: "layout", path: out, digest: result.desc.digest });
  });

  test("tags become index.json ref names; a re-run gives the same digest and no extra entry", async () => {
    const { texts } = twoPlatformLayouts();
    const out = tempDir();
    const run = () =>
      createIndex({
        target: layoutRef(out),
        tags: ["1.2", "latest"],
        sources: indexSources(texts, layoutRef(out)),
        open: opener(),
        created: CREATED,
      });
    const first = await run();
    const second = await run();
    expect(second.desc.digest).toBe(first.desc.digest);
    const entries = indexJson(out).manifests;
    expect(entries.map((e) => (e.annotations as Record<string, string>)[REF_NAME]).sort()).toEqual([
      "1.2",
      "latest",
    ]);
    expect(new Set(entries.map((e) => e.digest))).toEqual(new Set([first.desc.digest]));
  });

  test("an index source becomes a nested entry; platforms inside it count as duplicates", async () => {
    const inner = new LayoutBuilder();
    const m = inner.platformManifest(el8, { "x.txt": "x" });
    const idx = inner.index([m]);
    inner.writeIndex([idx]);
    const other = platformLayout(el9, { "y.txt": "y" });
    const out = tempDir();
    const result = await createIndex({
      target: layoutRef(out),
      sources: indexSources(
        [`oci-layout://${inner.dir}`, `oci-layout://${other.builder.dir}`],
        layoutRef(out),
      ),
      open: opener(),
      created: null,
    });
    const composed = blobJson(out, result.desc.digest) as { manifests: Descriptor[]; annotations?: unknown };
    expect(composed.manifests[0]).toEqual({ mediaType: MT.index, digest: idx.digest, size: idx.size });
    expect(composed.annotations).toBeUndefined();
    const layout = await openLayout(out);
    expect((await resolveReference(layout, layoutRef(out), { platform: el8 })).desc.digest).toBe(m.digest);

    const clash = platformLayout(el8, { "z.txt": "z" });
    const out2 = tempDir();
    const error = await failure(
      createIndex({
        target: layoutRef(out2),
        sources: indexSources(
          [`oci-layout://${inner.dir}`, `oci-layout://${clash.builder.dir}`],
          layoutRef(out2),
        ),
        open: opener(),
      }),
    );
    expect(error.message).toContain("(inside it)");
    expect(error.message).toContain("linux/arm64/v8:el8");
  });

  test("an artifact needs no platform (as in ORAS); an image whose config has none is refused unless allowed", async () => {
    const art = new LayoutBuilder();
    const m = art.manifest({ layers: [art.file("a.txt", "a")], artifactType: "application/vnd.example.a" });
    art.writeIndex([m]);
    const artifact = await createIndex({
      target: layoutRef(tempDir()),
      sources: indexSources([`oci-layout://${art.dir}`], layoutRef(tempDir())),
      open: opener(),
      created: null,
      publish: false,
    });
    expect(artifact.json.manifests).toEqual([
      { mediaType: MT.manifest, digest: m.digest, size: m.size, artifactType: "application/vnd.example.a" },
    ]);

    const img = new LayoutBuilder();
    const config = img.json({ rootfs: { type: "layers", diff_ids: [] }, config: {} }, MT.config);
    img.writeIndex([img.manifest({ config, layers: [img.file("a.txt", "a")] })]);
    const text = `oci-layout://${img.dir}`;
    const out = tempDir();
    const missing = await failure(
      createIndex({ target: layoutRef(out), sources: indexSources([text], layoutRef(out)), open: opener() }),
    );
    expect(missing.code).toBe("INVALID_INPUT");
    expect(missing.message).toContain("has no platform");
    expect(missing.hint).toContain(`--platform-for '${text}=`);
    expect(existsSync(join(out, "index.json"))).toBe(false);
    const allowedImage = await createIndex({
      target: layoutRef(out),
      sources: indexSources([text], layoutRef(out)),
      open: opener(),
      allowMissingPlatform: true,
      created: null,
      publish: false,
    });
    expect((allowedImage.json.manifests as Descriptor[])[0]!.platform).toBeUndefined();
  });

  test("a config that is not JSON gives no platform, not an error", async () => {
    const b = new LayoutBuilder();
    const config = b.blob("sometext", "application/vnd.unknown.config.v1+json");
    const m = b.manifest({ config, layers: [b.file("f", "x")] });
    b.writeIndex([m]);
    const result = await createIndex({
      target: layoutRef(tempDir()),
      sources: indexSources([`oci-layout://${b.dir}`], layoutRef(tempDir())),
      open: opener(),
      created: null,
      publish: false,
    });
    expect(result.json.manifests).toEqual([{ mediaType: MT.manifest, digest: m.digest, size: m.size }]);
  });

  test("no sources make an empty index", async () => {
    const out = tempDir();
    const result = await createIndex({ target: layoutRef(out), sources: [], open: opener(), created: null });
    expect(new TextDecoder().decode(result.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
    );
    expect(blobJson(out, result.desc.digest)).toEqual(JSON.parse(new TextDecoder().decode(result.bytes)));
    expect(indexJson(out).manifests.map((e) => e.digest)).toEqual([result.desc.digest]);
  });

  test("--platform-for sets a platform on an artifact without one; per-source annotations land on entries", async () => {
    const art = new LayoutBuilder();
    const m = art.manifest({ layers: [art.file("a.txt", "a")], artifactType: "application/vnd.example.a" });
    art.writeIndex([m]);
    const text = `oci-layout://${art.dir}`;
    const out = tempDir();

    const result = await createIndex({
      target: layoutRef(out),
      sources: indexSources([text], layoutRef(out), {
        platformFor: [`${text}=linux/amd64:el9`],
        annotationFor: [`${text}=org.example.flavour=minimal`],
      }),
      open: opener(),
      created: null,
    });
    const composed = blobJson(out, result.desc.digest) as { manifests: Descriptor[] };
    expect(composed.manifests[0]).toEqual({
      mediaType: MT.manifest,
      digest: m.digest,
      size: m.size,
      annotations: { "org.example.flavour": "minimal" },
      platform: { architecture: "amd64", os: "linux", "os.version": "el9" },
      artifactType: "application/vnd.example.a",
    });
  });

  test("sources already in the target layout are folded into the index", async () => {
    const b = new LayoutBuilder();
    const m1 = b.platformManifest(el8, { "1": "1" }, false);
    const m2 = b.platformManifest(el9, { "2": "2" }, false);
    b.writeIndex([m1, m2, { ...m1, tag: "kept" }]);
    const result = await createIndex({
      target: layoutRef(b.dir),
      sources: indexSources([m1.digest, m2.digest], layoutRef(b.dir)),
      open: opener(),
      created: null,
    });
    const entries = indexJson(b.dir).manifests;
    expect(entries.map((e) => e.digest).sort()).toEqual([m1.digest, result.desc.digest].sort());
    expect(entries.find((e) => e.digest === m1.digest)!.annotations).toEqual({ [REF_NAME]: "kept" });
  });
});

describe("createIndex refuses bad input and leaves the target unchanged", () => {
  async function expectUnchanged(
    sources: string[],
    options: Partial<Parameters<typeof createIndex>[0]> = {},
  ): Promise<SkiffError> {
    const out = new LayoutBuilder();
    const keep = out.platformManifest(parsePlatform("linux/s390x"), { k: "k" });
    out.writeIndex([{ ...keep, tag: "existing" }]);
    const before = readFileSync(join(out.dir, "index.json"), "utf8");
    const fresh = join(tempDir(), "fresh");
    for (const dir of [out.dir, fresh]) {
      const error = await failure(
        createIndex({
          target: layoutRef(dir),
          sources: indexSources(sources, layoutRef(dir)),
          open: opener(),
          ...options,
        }),
      );
      expect(error).toBeInstanceOf(SkiffError);
    }
    expect(readFileSync(join(out.dir, "index.json"), "utf8")).toBe(before);
    expect(existsSync(fresh)).toBe(false);
    return failure(
      createIndex({
        target: layoutRef(fresh),
        sources: indexSources(sources, layoutRef(fresh)),
        open: opener(),
        ...options,
      }),
    );
  }

  test("duplicate platforms, unless allowed", async () => {
    const a = platformLayout(el8, { a: "a" });
    const b = platformLayout(el8, { b: "b" });
    const texts = [`oci-layout://${a.builder.dir}`, `oci-layout://${b.builder.dir}`];
    const error = await expectUnchanged(texts);
    expect(error.message).toBe(
      `source "${texts[0]}" and source "${texts[1]}" both have platform linux/arm64/v8:el8`,
    );
    expect(error.hint).toContain("--allow-duplicate-platforms");
    const out = tempDir();
    const ok = await createIndex({
      target: layoutRef(out),
      sources: indexSources(texts, layoutRef(out)),
      open: opener(),
      allowDuplicatePlatforms: true,
    });
    expect((ok.json.manifests as Descriptor[]).length).toBe(2);
    // arm64 without a variant is arm64/v8.
    const c = platformLayout({ os: "linux", architecture: "arm64", "os.version": "el8" }, { c: "c" });
    await expectUnchanged([texts[0]!, `oci-layout://${c.builder.dir}`]);
  });

  test("the same manifest twice", async () => {
    const a = platformLayout(el8, { a: "a" });
    const error = await expectUnchanged([
      `oci-layout://${a.builder.dir}`,
      `oci-layout://${a.builder.dir}@${a.desc.digest}`,
    ]);
    expect(error.message).toContain("are the same manifest");
  });

  test("an ambiguous tagless layout lists its candidates", async () => {
    const b = new LayoutBuilder();
    const m1 = b.platformManifest(el8, { "1": "1" });
    const m2 = b.platformManifest(el9, { "2": "2" });
    b.writeIndex([m1, m2]);
    const error = await expectUnchanged([`oci-layout://${b.dir}`]);
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.message).toContain(`source "oci-layout://${b.dir}"`);
    expect(error.hint).toContain(m1.digest);
    expect(error.hint).toContain(m2.digest);
  });

  test("a source that does not resolve", async () => {
    const b = new LayoutBuilder();
    const error = await expectUnchanged([`oci-layout://${b.dir}:nope`]);
    expect(error.code).toBe("NOT_FOUND");
    expect((await expectUnchanged([`oci-layout://${join(b.dir, "missing")}`])).code).toBe("NOT_FOUND");
  });

  test("a source that is a blob", async () => {
    const b = new LayoutBuilder();
    const m = b.platformManifest(el8, { "f.txt": "some file content" });
    b.writeIndex([m]);
    const layer = b.file("f.txt", "some file content");
    const config = b.imageConfig(el8);
    for (const blob of [layer, config]) {
      const error = await expectUnchanged([`oci-layout://${b.dir}@${blob.digest}`]);
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.message).toContain("is not a manifest or index");
    }
  });

  test("an invalid artifact type or created annotation", async () => {
    const a = platformLayout(el8, { a: "a" });
    const text = `oci-layout://${a.builder.dir}`;
    expect((await expectUnchanged([text], { artifactType: "not a type" })).code).toBe("USAGE");
    expect(
      (await expectUnchanged([text], { annotations: { "org.opencontainers.image.created": "now" } })).message,
    ).toContain("RFC 3339");
  });

  test("a layout tar target is read-only", async () => {
    const a = platformLayout(el8, { a: "a" });
    const tar = a.builder.tar();
    const error = await failure(
      createIndex({
        target: layoutRef(tar),
        sources: indexSources([a.desc.digest], layoutRef(tar)),
        open: opener(),
      }),
    );
    expect(error.code).toBe("UNSUPPORTED");
    // Reading from the tar works, and -o (publish: false) needs no write.
    const built = await createIndex({
      target: layoutRef(tar),
      sources: indexSources([a.desc.digest], layoutRef(tar)),
      open: opener(),
      publish: false,
      created: null,
    });
    expect((built.json.manifests as Descriptor[])[0]!.platform).toEqual(el8);
  });
});

describe("createIndex with registry repositories", () => {
  test("sources by tag in the target repository and from a layout; pushed by digest, then tagged", async () => {
    const repos = new Map<string, FakeRepository>();
    const repo = new FakeRepository("localhost:5000/app");
    repos.set("localhost:5000/app", repo);
    const a = platformLayout(el8, { a: "a" });
    const layoutA = await openLayout(a.builder.dir);
    await repo.seed(layoutA, a.desc, "el8");
    const b = platformLayout(el9, { b: "b" });
    const target = parseReference("localhost:5000/app:1.2,latest", { tagList: true });
    const result = await createIndex({
      target,
      tags: target.tags,
      sources: indexSources(["el8", `oci-layout://${b.builder.dir}`], target),
      open: cachedOpener(opener(repos)),
      created: CREATED,
    });
    expect(repo.tagMap.get("1.2")?.digest).toBe(result.desc.digest);
    expect(repo.tagMap.get("latest")?.digest).toBe(result.desc.digest);
    // The index is stored after every blob it needs, tags after the index.
    expect(repo.pushed[repo.pushed.length - 1]).toBe(result.desc.digest);
    expect(repo.pushed).toContain(b.desc.digest);
    await walkAll(repo, result.desc);
    const index = parseManifest(result.bytes, MT.index, "test");
    expect("manifests" in index && index.manifests.map((m) => m.platform)).toEqual([el8, el9]);
  });

  test("no tag pushes by digest only; --subject is copied and referenced", async () => {
    const repos = new Map<string, FakeRepository>();
    const a = platformLayout(el8, { a: "a" });
    const s = platformLayout(parsePlatform("linux/amd64"), { s: "subject" });
    const target = parseReference("localhost:5000/other");
    const result = await createIndex({
      target,
      sources: indexSources([`oci-layout://${a.builder.dir}`], target),
      subject: indexSources([`oci-layout://${s.builder.dir}`], target)[0]!,
      open: opener(repos),
      created: null,
    });
    const repo = repos.get("localhost:5000/other")!;
    expect(repo.tagMap.size).toBe(0);
    expect(repo.manifests.has(result.desc.digest)).toBe(true);
    expect(result.json.subject).toEqual({ mediaType: MT.manifest, digest: s.desc.digest, size: s.desc.size });
    expect(repo.manifests.has(s.desc.digest)).toBe(true);
  });

  test("a source tag missing from the repository names the source", async () => {
    const target = parseReference("localhost:5000/app:v1", { tagList: true });
    const error = await failure(
      createIndex({ target, sources: indexSources(["nope"], target), open: opener() }),
    );
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain('could not find "nope"');
  });
});

test("the annotation file keys sources exactly as written", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.json"), "{}");
  const sources = indexSources(["el8", "el9"], layoutRef(dir), { fileAnnotations: { el9: { a: "b" } } });
  expect(sources.map((s) => s.annotations)).toEqual([undefined, { a: "b" }]);
});
