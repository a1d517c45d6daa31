import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openLayout } from "../../src/content/layout/index.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parsePlatform } from "../../src/oci/platform.ts";
import { parseReference, type Reference } from "../../src/oci/reference.ts";
import { indexSources } from "../../src/ops/image-index/sources.ts";
import { updateIndex } from "../../src/ops/image-index/update.ts";
import { resolveReference } from "../../src/ops/resolve.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, sha256 } from "../fixtures/layout-builder.ts";
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

const layoutRef = (path: string, extra: Partial<Reference> = {}): Reference =>
  ({ kind: "layout", path, ...extra }) as Reference;
const el8 = parsePlatform("linux/arm64/v8:el8");
const el9 = parsePlatform("linux/arm64/v8:el9");
const amd = parsePlatform("linux/amd64:el8");

/** A layout whose index.json has one untagged index of el8 and el9 manifests (descriptor platforms). */
function mergedLayout(extraIndexFields: Record<string, unknown> = {}) {
  const b = new LayoutBuilder();
  const m8 = b.platformManifest(el8, { "el8.txt": "8" });
  const m9 = b.platformManifest(el9, { "el9.txt": "9" });
  const index = b.json(
    {
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [m8, m9],
      annotations: { "org.opencontainers.image.authors": "ci" },
      ...extraIndexFields,
    },
    MT.index,
  );
  b.writeIndex([index]);
  return { b, m8, m9, index };
}

describe("updateIndex in a layout", () => {
  test("tagless: --add and --remove; the one index.json entry now points at the new index", async () => {
    const { b, m8, m9, index } = mergedLayout({ "x-unknown-field": { kept: true } });
    const extra = platformLayout(amd, { "amd.txt": "amd" });
    const ref = layoutRef(b.dir);
    const result = await updateIndex({
      index: ref,
      add: indexSources([`oci-layout://${extra.builder.dir}`], ref),
      remove: [m9.digest],
      annotations: { "org.opencontainers.image.revision": "def" },
      open: opener(),
    });
    expect(result.previous.digest).toBe(index.digest);
    expect(indexJson(b.dir).manifests).toEqual([
      { mediaType: MT.index, digest: result.desc.digest, size: result.desc.size },
    ]);
    const json = blobJson(b.dir, result.desc.digest) as { manifests: Descriptor[] } & Record<string, unknown>;
    expect(json.manifests.map((m) => m.digest)).toEqual([m8.digest, extra.desc.digest]);
    expect(json.manifests[1]!.platform).toEqual(amd);
    expect(json.annotations).toEqual({
      "org.opencontainers.image.authors": "ci",
      "org.opencontainers.image.revision": "def",
    });
    expect(json["x-unknown-field"]).toEqual({ kept: true });
    const layout = await openLayout(b.dir);
    await walkAll(layout, result.desc);
    expect((await resolveReference(layout, ref, { platform: amd })).desc.digest).toBe(extra.desc.digest);
  });

  test("by tag: that tag moves, other tags stay on the old index; --tag adds more", async () => {
    const { b, index } = mergedLayout();
    b.writeIndex([
      { ...index, tag: "v1" },
      { ...index, tag: "old" },
    ]);
    const extra = platformLayout(amd, { a: "a" });
    const ref = layoutRef(b.dir, { tag: "v1" });
    const result = await updateIndex({
      index: ref,
      tags: ["v2"],
      add: indexSources([`oci-layout://${extra.builder.dir}`], ref),
      open: opener(),
    });
    const byTag = Object.fromEntries(
      indexJson(b.dir).manifests.map((e) => [(e.annotations as Record<string, string>)[REF_NAME], e.digest]),
    );
    expect(byTag).toEqual({ v1: result.desc.digest, v2: result.desc.digest, old: index.digest });
  });

  test("--merge adds the other index's entries once; platforms are filled in from configs", async () => {
    const { b, m8 } = mergedLayout();
    const other = new LayoutBuilder();
    const same = other.platformManifest(el8, { "el8.txt": "8" });
    expect(same.digest).toBe(m8.digest);
    const bare = other.platformManifest(amd, { "amd.txt": "amd" }, false);
    other.writeIndex([other.index([same, bare])]);
    const ref = layoutRef(b.dir);
    const result = await updateIndex({
      index: ref,
      merge: indexSources([`oci-layout://${other.dir}`], ref),
      open: opener(),
    });
    const json = blobJson(b.dir, result.desc.digest) as { manifests: Descriptor[] };
    expect(json.manifests.length).toBe(3);
    expect(json.manifests[2]!.digest).toBe(bare.digest);
    expect(json.manifests[2]!.platform).toEqual(amd);
    await walkAll(await openLayout(b.dir), result.desc);
  });

  test("removed, then added, then merged (ORAS's order); fields in the spec's order", async () => {
    const { b, m8, m9 } = mergedLayout({ "x-unknown-field": 1 });
    const added = platformLayout(amd, { "amd.txt": "amd" });
    const other = new LayoutBuilder();
    const s390 = other.platformManifest(parsePlatform("linux/s390x"), { "s.txt": "s" });
    other.writeIndex([other.index([s390])]);
    const ref = layoutRef(b.dir);
    const result = await updateIndex({
      index: ref,
      remove: [m9.digest],
      merge: indexSources([`oci-layout://${other.dir}`], ref),
      add: indexSources([`oci-layout://${added.builder.dir}`], ref),
      artifactType: "application/vnd.example.set",
      open: opener(),
    });
    const json = blobJson(b.dir, result.desc.digest) as { manifests: Descriptor[] } & Record<string, unknown>;
    expect(json.manifests.map((m) => m.digest)).toEqual([m8.digest, added.desc.digest, s390.digest]);
    expect(Object.keys(json)).toEqual([
      "schemaVersion",
      "mediaType",
      "artifactType",
      "manifests",
      "annotations",
      "x-unknown-field",
    ]);
  });

  test('--artifact-type "" removes the artifact type', async () => {
    const { b, m8, m9 } = mergedLayout({ artifactType: "application/vnd.old" });
    const result = await updateIndex({ index: layoutRef(b.dir), artifactType: "", open: opener() });
    const json = blobJson(b.dir, result.desc.digest) as Record<string, unknown>;
    expect(json.artifactType).toBeUndefined();
    expect(result.desc.artifactType).toBeUndefined();
    expect((json.manifests as Descriptor[]).map((m) => m.digest)).toEqual([m8.digest, m9.digest]);
  });

  test("bad input leaves index.json as it was", async () => {
    const { b, m8 } = mergedLayout();
    const ref = layoutRef(b.dir);
    const before = readFileSync(join(b.dir, "index.json"), "utf8");
    const absent = sha256("absent");
    const notThere = await failure(updateIndex({ index: ref, remove: [absent], open: opener() }));
    expect(notThere.code).toBe("NOT_FOUND");
    expect(notThere.message).toContain(`cannot remove ${absent}: it does not exist in the index`);
    expect(notThere.hint).toContain(m8.digest);

    const dup = platformLayout(el8, { other: "other el8" });
    const duplicate = await failure(
      updateIndex({
        index: ref,
        add: indexSources([`oci-layout://${dup.builder.dir}`], ref),
        open: opener(),
      }),
    );
    expect(duplicate.message).toContain("both have platform linux/arm64/v8:el8");

    const again = await failure(
      updateIndex({
        index: ref,
        add: indexSources([`oci-layout://${b.dir}@${m8.digest}`], ref),
        open: opener(),
      }),
    );
    expect(again.message).toContain("are the same manifest");

    const notIndex = await failure(
      updateIndex({
        index: layoutRef(b.dir, { digest: m8.digest }),
        annotations: { a: "b" },
        open: opener(),
      }),
    );
    expect(notIndex.message).toContain("not an index");

    const nothing = await failure(updateIndex({ index: ref, open: opener() }));
    expect(nothing.code).toBe("USAGE");
    expect(readFileSync(join(b.dir, "index.json"), "utf8")).toBe(before);
  });

  test("a Docker manifest list refuses annotations rather than dropping them", async () => {
    const b = new LayoutBuilder();
    const m = b.platformManifest(el8, { a: "a" });
    const list = b.json(
      {
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
        manifests: [m],
      },
      "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    b.writeIndex([list]);
    const ref = layoutRef(b.dir);
    const before = readFileSync(join(b.dir, "index.json"), "utf8");
    const error = await failure(updateIndex({ index: ref, annotations: { a: "b" }, open: opener() }));
    expect(error.code).toBe("UNSUPPORTED");
    expect(error.message).toContain("Docker manifest list");
    const extra = platformLayout(amd, { x: "x" });
    const perEntry = await failure(
      updateIndex({
        index: ref,
        add: indexSources([`oci-layout://${extra.builder.dir}`], ref, {
          annotationFor: [`oci-layout://${extra.builder.dir}=k=v`],
        }),
        open: opener(),
      }),
    );
    expect(perEntry.code).toBe("UNSUPPORTED");
    expect(readFileSync(join(b.dir, "index.json"), "utf8")).toBe(before);
    // Without annotations the list is updated and stays a Docker list.
    const ok = await updateIndex({
      index: ref,
      add: indexSources([`oci-layout://${extra.builder.dir}`], ref),
      open: opener(),
    });
    const json = blobJson(b.dir, ok.desc.digest) as { mediaType: string; manifests: Descriptor[] };
    expect(json.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(json.manifests[1]!.artifactType).toBeUndefined();
    expect(ok.desc.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
  });

  test("publish: false (-o) builds the result and writes nothing", async () => {
    const { b, m9 } = mergedLayout();
    const before = readFileSync(join(b.dir, "index.json"), "utf8");
    const result = await updateIndex({
      index: layoutRef(b.dir),
      remove: [m9.digest],
      publish: false,
      open: opener(),
    });
    expect((result.json.manifests as Descriptor[]).length).toBe(1);
    expect(readFileSync(join(b.dir, "index.json"), "utf8")).toBe(before);
  });
});

describe("updateIndex in a registry repository", () => {
  test("INDEX:tag moves that tag only; --remove accepts a tag of the repository", async () => {
    const { b, m8, m9, index } = mergedLayout();
    const repos = new Map<string, FakeRepository>();
    const repo = new FakeRepository("localhost:5000/app");
    repos.set("localhost:5000/app", repo);
    const layout = await openLayout(b.dir);
    await repo.seed(layout, index, "1.2");
    await repo.tag(index, "stable");
    await repo.tag(m9, "el9");
    const ref = parseReference("localhost:5000/app:1.2", { tagList: true });
    const result = await updateIndex({
      index: ref,
      indexTags: ref.tags,
      remove: ["el9"],
      open: opener(repos),
    });
    expect(repo.tagMap.get("1.2")?.digest).toBe(result.desc.digest);
    expect(repo.tagMap.get("stable")?.digest).toBe(index.digest);
    const json = JSON.parse(new TextDecoder().decode(result.bytes)) as { manifests: Descriptor[] };
    expect(json.manifests.map((m) => m.digest)).toEqual([m8.digest]);
  });

  test("by digest: pushed by digest, no tag touched", async () => {
    const { b, index } = mergedLayout();
    const repos = new Map<string, FakeRepository>();
    const repo = new FakeRepository("localhost:5000/app");
    repos.set("localhost:5000/app", repo);
    await repo.seed(await openLayout(b.dir), index, "1.2");
    const ref = parseReference(`localhost:5000/app@${index.digest}`);
    const result = await updateIndex({ index: ref, annotations: { note: "x" }, open: opener(repos) });
    expect(repo.tagMap.get("1.2")?.digest).toBe(index.digest);
    expect(repo.manifests.has(result.desc.digest)).toBe(true);
    expect(result.tags).toEqual([]);
  });
});
