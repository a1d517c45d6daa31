/**
 * Publishing a stored root (content/target.ts `publish`): every verb ends there, and a layout
 * records the root in index.json whichever verb stored it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openLayout } from "../../src/content/layout/index.ts";
import { MemoryStore } from "../../src/content/memory/index.ts";
import { publish, type Target } from "../../src/content/target.ts";
import { bytesStream, digestOf } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parsePlatform } from "../../src/oci/platform.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { createIndex } from "../../src/ops/image-index/create.ts";
import { indexSources } from "../../src/ops/image-index/sources.ts";
import { pushManifestBytes } from "../../src/ops/manifest-push.ts";
import { cleanup, MT, REF_NAME, tempDir } from "../fixtures/layout-builder.ts";
import { FakeRepository, opener, platformLayout, walkAll } from "./index-helpers.ts";

afterAll(cleanup);

const manifestBytes = new TextEncoder().encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      size: 2,
    },
    layers: [],
  }),
);
const manifest: Descriptor = {
  mediaType: MT.manifest,
  digest: digestOf(manifestBytes),
  size: manifestBytes.byteLength,
};

function entries(dir: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests;
}

describe("publish into a layout", () => {
  test("manifest push without a tag records an untagged index.json entry (as ORAS does)", async () => {
    const dir = join(tempDir(), "layout");
    const layout = await openLayout(dir, { create: true });
    const result = await pushManifestBytes(layout, manifestBytes, "manifest.json");
    expect(result.tags).toEqual([]);
    expect(entries(dir)).toEqual([{ mediaType: MT.manifest, digest: manifest.digest, size: manifest.size }]);
  });

  test("a tag replaces the untagged entry; publishing untagged again changes nothing", async () => {
    const dir = join(tempDir(), "layout");
    const layout = await openLayout(dir, { create: true });
    await layout.push(manifest, bytesStream(manifestBytes));
    await publish(layout, manifest, { tags: [] });
    await publish(layout, { ...manifest, artifactType: "application/vnd.example" }, { tags: ["v1", "v2"] });
    const tagged = entries(dir);
    expect(tagged.map((e) => (e.annotations as Record<string, string>)[REF_NAME])).toEqual(["v1", "v2"]);
    expect(tagged.every((e) => e.artifactType === "application/vnd.example")).toBe(true);
    const before = readFileSync(join(dir, "index.json"), "utf8");
    await publish(layout, manifest, { tags: [] });
    expect(readFileSync(join(dir, "index.json"), "utf8")).toBe(before);
  });

  test("a root the layout does not hold is refused, naming the digest", async () => {
    const layout = await openLayout(join(tempDir(), "layout"), { create: true });
    const error = await publish(layout, manifest, { tags: [] }).catch((e) => e);
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(manifest.digest);
  });
});

describe("publish into a store that keeps no books", () => {
  test("only its tags are pointed", async () => {
    const memory = new MemoryStore();
    const tagged: string[] = [];
    const store: Target = {
      name: "plain",
      where: "plain store",
      writable: true,
      exists: (desc) => memory.exists(desc),
      fetch: (desc) => memory.fetch(desc),
      push: (desc, content) => memory.push(desc, content),
      resolve: async () => manifest,
      tag: async (_desc, tag) => {
        tagged.push(tag);
      },
    };
    await publish(store, manifest, { tags: ["a", "b"] });
    expect(tagged).toEqual(["a", "b"]);
  });
});

/** A repository whose registry refuses every cross-repository mount. */
class RefusingMounts extends FakeRepository {
  mounts = 0;
  async mount(): Promise<boolean> {
    this.mounts++;
    throw new SkiffError("REGISTRY", "mount refused");
  }
}

describe("mount or upload, one path for every verb", () => {
  test("index create from another repository of the registry uploads what a refused mount did not bring", async () => {
    const repos = new Map<string, FakeRepository>();
    const source = new FakeRepository("localhost:5000/src");
    const target = new RefusingMounts("localhost:5000/app");
    repos.set(source.name, source);
    repos.set(target.name, target);
    const a = platformLayout(parsePlatform("linux/amd64"), { a: "a" });
    await source.seed(await openLayout(a.builder.dir), a.desc, "v1");
    const ref = parseReference("localhost:5000/app:multi", { tagList: true });
    const result = await createIndex({
      target: ref,
      tags: ref.tags,
      sources: indexSources(["localhost:5000/src:v1"], ref),
      open: opener(repos),
      created: null,
    });
    expect(target.mounts).toBeGreaterThan(0);
    expect((await walkAll(target, result.desc)).length).toBeGreaterThan(2);
    expect(target.tagMap.get("multi")?.digest).toBe(result.desc.digest);
  });
});
