/**
 * The copy and backup/restore verbs over real layout directories and archives, and an in-memory
 * registry-like target (the e2e tests use the real registry): graphs, tags, --platform, referrers,
 * Exists, Mounted, missing blobs, tars, and bad input.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TransferEvent } from "../../src/content/events.ts";
import { LayoutArchive, LayoutDirectory, openLayout } from "../../src/content/layout/index.ts";
import { fetchManifest } from "../../src/content/manifests.ts";
import { MemoryStore } from "../../src/content/memory/index.ts";
import type { Mounter, Publisher, PublishPlan, Target } from "../../src/content/target.ts";
import { bytesStream, readAll } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { isDigest } from "../../src/oci/digest.ts";
import { parseReference, type Reference } from "../../src/oci/reference.ts";
import { backup, backupFormat, isReferrersTag, restore } from "../../src/ops/backup.ts";
import { copyReference, findReferrers, mountFrom } from "../../src/ops/copy.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, tempDir } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

/** One registry host in memory: repositories by name; mounts only work between them. */
class FakeHost {
  readonly repositories = new Map<string, FakeRepository>();
  constructor(readonly host: string) {}
  repository(name: string): FakeRepository {
    let repo = this.repositories.get(name);
    if (!repo) {
      repo = new FakeRepository(this, name);
      this.repositories.set(name, repo);
    }
    return repo;
  }
}

/** A registry repository in memory, with cross-repository mount and a referrers record. */
class FakeRepository implements Target, Mounter, Publisher {
  readonly writable = true;
  readonly memory = new MemoryStore();
  readonly manifests = new Map<string, Descriptor>();
  readonly tagMap = new Map<string, Descriptor>();
  readonly pushed: string[] = [];
  readonly mounted: string[] = [];
  readonly referrerRecords: { subject: string; referrer: string }[] = [];
  readonly name: string;

  constructor(
    readonly host: FakeHost,
    readonly repository: string,
  ) {
    this.name = `${host.host}/${repository}`;
  }

  get where(): string {
    return `registry ${this.name}`;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.memory.has(desc);
  }
  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    if (!this.memory.has(desc))
      throw new SkiffError("NOT_FOUND", `blob ${desc.digest} not found in ${this.name}`);
    return this.memory.fetch(desc);
  }
  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    await this.memory.push(desc, content);
    this.pushed.push(desc.digest);
    if (desc.mediaType === MT.manifest || desc.mediaType === MT.index) {
      this.manifests.set(desc.digest, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    }
  }
  async mount(desc: Descriptor, fromRepository: string): Promise<boolean> {
    const from = this.host.repositories.get(fromRepository);
    if (!from?.memory.has(desc)) return false;
    this.memory.add(desc, await readAll(await from.memory.fetch(desc), desc.size));
    this.mounted.push(desc.digest);
    return true;
  }
  async resolve(reference: string): Promise<Descriptor> {
    const found = isDigest(reference) ? this.manifests.get(reference) : this.tagMap.get(reference);
    if (!found) throw new SkiffError("NOT_FOUND", `${this.name}:${reference}: manifest unknown`);
    return found;
  }
  async tag(desc: Descriptor, tag: string): Promise<void> {
    const known = this.manifests.get(desc.digest);
    if (!known) throw new Error(`tag ${tag}: ${desc.digest} was not pushed first`);
    this.tagMap.set(tag, known);
  }
  async *tags(): AsyncIterable<string> {
    yield* [...this.tagMap.keys()].sort();
  }
  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    const digests = this.referrerRecords.filter((r) => r.subject === subject.digest).map((r) => r.referrer);
    return [...new Set(digests)].map((d) => this.manifests.get(d)!);
  }
  /** Records a published manifest with a subject as a registry's fallback index would. */
  async publish(root: Descriptor, plan: PublishPlan): Promise<void> {
    const { manifest } = await fetchManifest(this.memory, root, this.name);
    if (manifest.subject)
      this.referrerRecords.push({ subject: manifest.subject.digest, referrer: root.digest });
    for (const tag of plan.tags) await this.tag(root, tag);
  }
  async delete(desc: Descriptor): Promise<void> {
    this.manifests.delete(desc.digest);
  }
}

const registryRef = (text: string): Reference => parseReference(text, { tagList: true });
const layoutRef = (text: string): Reference => parseReference(`oci-layout://${text}`, { tagList: true });

function collect(): { events: TransferEvent[]; listener: (e: TransferEvent) => void } {
  const events: TransferEvent[] = [];
  return { events, listener: (e) => events.push(e) };
}

/** Every blob file of a layout directory (digests). */
function blobsOf(dir: string): string[] {
  const base = join(dir, "blobs", "sha256");
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .map((name) => `sha256:${name}`)
    .sort();
}

function indexEntries(dir: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests;
}

/** A layout with a two-platform index (the user story's shape), untagged or tagged. */
function multiPlatform(tag?: string) {
  const b = new LayoutBuilder();
  const arm = b.platformManifest(
    { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
    {
      "arm.txt": "arm el8 files",
    },
  );
  const amd = b.platformManifest(
    { os: "linux", architecture: "amd64", "os.version": "el8" },
    {
      "amd.txt": "amd el8 files",
    },
  );
  const index = b.index([arm, amd], { "org.opencontainers.image.authors": "ci" });
  b.writeIndex([tag ? { ...index, tag } : index]);
  return { b, arm, amd, index };
}

describe("copyReference between layouts", () => {
  test("copies the whole multi-platform graph and adds an untagged entry for a tagless source", async () => {
    const { b, index } = multiPlatform();
    const dst = tempDir();
    const source = await openLayout(b.dir);
    const destination = await openLayout(dst, { create: true });
    const { events, listener } = collect();
    const result = await copyReference(source, layoutRef(b.dir), destination, layoutRef(dst), { listener });
    expect(result.desc.digest).toBe(index.digest);
    expect(result.tags).toEqual([]);
    expect(result.desc.annotations?.["org.opencontainers.image.authors"]).toBe("ci");
    expect(blobsOf(dst)).toEqual(blobsOf(b.dir));
    const entries = indexEntries(dst);
    expect(entries.length).toBe(1);
    expect(entries[0]!.digest).toBe(index.digest);
    expect(entries[0]!.annotations).toBeUndefined();
    // Every blob was transferred once, children before the index.
    const done = events.filter((e) => e.type === "done").map((e) => e.desc.digest);
    expect(new Set(done).size).toBe(done.length);
    expect(done.length).toBe(blobsOf(b.dir).length);
    expect(done[done.length - 1]).toBe(index.digest);
  });

  test("no destination tag: by digest, the source tag not carried over (ORAS); DST:t1,t2 sets both", async () => {
    const { b, index } = multiPlatform("1.2");
    const dst = tempDir();
    const source = await openLayout(b.dir);
    const destination = await openLayout(dst, { create: true });
    const untagged = await copyReference(source, layoutRef(`${b.dir}:1.2`), destination, layoutRef(dst));
    expect(untagged.tags).toEqual([]);
    expect(indexEntries(dst)).toEqual([
      { mediaType: index.mediaType, digest: index.digest, size: index.size },
    ]);
    const two = await copyReference(source, layoutRef(`${b.dir}:1.2`), destination, layoutRef(`${dst}:a,b`), {
      tags: ["a", "b"],
    });
    expect(two.tags).toEqual(["a", "b"]);
    const tags = indexEntries(dst).map((e) => (e.annotations as Record<string, string>)[REF_NAME]);
    expect(tags.sort()).toEqual(["a", "b"]);
  });

  test("a source named by digest is copied by digest (untagged entry)", async () => {
    const { b, index } = multiPlatform("v1");
    const dst = tempDir();
    const result = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}@${index.digest}`),
      await openLayout(dst, { create: true }),
      layoutRef(dst),
    );
    expect(result.tags).toEqual([]);
    expect(indexEntries(dst)).toEqual([{ mediaType: MT.index, digest: index.digest, size: index.size }]);
  });

  test("--platform copies and tags only the matching manifest, with the destination's tag", async () => {
    const { b, arm, amd } = multiPlatform("1.2");
    const dst = tempDir();
    const destination = await openLayout(dst, { create: true });
    const result = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:1.2`),
      destination,
      layoutRef(`${dst}:arm`),
      { platform: { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" } },
    );
    expect(result.desc.digest).toBe(arm.digest);
    expect((await destination.resolve("arm")).digest).toBe(arm.digest);
    expect(await destination.exists(arm)).toBe(true);
    expect(await destination.exists(amd)).toBe(false);
    // Only the arm manifest, its config and its one layer.
    expect(blobsOf(dst).length).toBe(3);
  });

  test("a second copy finds the manifest there and transfers nothing (Exists)", async () => {
    const { b, index } = multiPlatform("v1");
    const dst = tempDir();
    const source = await openLayout(b.dir);
    const destination = await openLayout(dst, { create: true });
    await copyReference(source, layoutRef(`${b.dir}:v1`), destination, layoutRef(dst));
    const { events, listener } = collect();
    await copyReference(source, layoutRef(`${b.dir}:v1`), destination, layoutRef(dst), { listener });
    expect(events.filter((e) => e.type === "start")).toEqual([]);
    expect(events).toContainEqual({
      type: "skip",
      desc: expect.objectContaining({ digest: index.digest }),
      reason: "exists",
    });
  });

  test("blobs the destination has are skipped one by one", async () => {
    const { b, arm } = multiPlatform("v1");
    const dst = tempDir();
    const destination = await openLayout(dst, { create: true });
    const armLayer = JSON.parse(readFileSync(join(b.dir, "blobs", "sha256", arm.digest.slice(7)), "utf8"))
      .layers[0] as Descriptor;
    const bytes = readFileSync(join(b.dir, "blobs", "sha256", armLayer.digest.slice(7)));
    await destination.push(armLayer, bytesStream(new Uint8Array(bytes)));
    const { events, listener } = collect();
    await copyReference(await openLayout(b.dir), layoutRef(`${b.dir}:v1`), destination, layoutRef(dst), {
      listener,
    });
    const skipped = events.filter((e) => e.type === "skip").map((e) => e.desc.digest);
    expect(skipped).toEqual([armLayer.digest]);
    expect(blobsOf(dst)).toEqual(blobsOf(b.dir));
  });

  test("a missing blob fails naming the digest, where it was expected and which manifest lists it", async () => {
    const b = new LayoutBuilder();
    const layer = b.file("gone.txt", "this blob will be deleted");
    const manifest = b.manifest({ layers: [layer] });
    b.writeIndex([{ ...manifest, tag: "v1" }]);
    const { rmSync } = await import("node:fs");
    rmSync(join(b.dir, "blobs", "sha256", layer.digest.slice(7)));
    const dst = tempDir();
    const error = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      await openLayout(dst, { create: true }),
      layoutRef(dst),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(SkiffError);
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(layer.digest);
    expect(error.message).toContain(`blobs/sha256/${layer.digest.slice(7)}`);
    expect(error.message).toContain(manifest.digest);
    // Nothing was tagged at the destination.
    expect(indexEntries(dst)).toEqual([]);
  });

  test("copying into a layout tar is refused before anything is read", async () => {
    const { b } = multiPlatform("v1");
    const tar = b.tar();
    const archive = await openLayout(tar);
    expect(archive).toBeInstanceOf(LayoutArchive);
    const error = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      archive,
      layoutRef(tar),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(SkiffError);
    expect(error.code).toBe("UNSUPPORTED");
    expect(error.message).toContain("read-only");
  });

  test("a tar source copies like a directory", async () => {
    const { b, index } = multiPlatform("v1");
    const tar = b.tar();
    const dst = tempDir();
    const result = await copyReference(
      await openLayout(tar),
      layoutRef(`${tar}:v1`),
      await openLayout(dst, { create: true }),
      layoutRef(dst),
    );
    expect(result.desc.digest).toBe(index.digest);
    expect(blobsOf(dst)).toEqual(blobsOf(b.dir));
  });

  test("bad destination tags and a contradicting destination digest are refused", async () => {
    const { b, amd } = multiPlatform("v1");
    const dst = tempDir();
    const source = await openLayout(b.dir);
    const destination = await openLayout(dst, { create: true });
    const badTag = await copyReference(source, layoutRef(`${b.dir}:v1`), destination, layoutRef(dst), {
      tags: ["-bad"],
    }).catch((e) => e);
    expect(badTag.code).toBe("INVALID_REFERENCE");
    expect(() => parseReference("localhost:5000/repo:a,b/c", { tagList: true })).toThrow(SkiffError);
    const pinned = await copyReference(
      source,
      layoutRef(`${b.dir}:v1`),
      destination,
      layoutRef(`${dst}@${amd.digest}`),
    ).catch((e) => e);
    expect(pinned.code).toBe("USAGE");
    expect(indexEntries(dst)).toEqual([]);
  });
});

/** A layout whose index, one child and a referrer have referrers (a referrer of a referrer too). */
function withReferrers() {
  const { b, arm, amd, index } = multiPlatform();
  const sig = b.manifest({
    artifactType: "application/vnd.example.sig",
    layers: [b.file("sig", "signature of the index")],
    subject: { mediaType: MT.index, digest: index.digest, size: index.size },
  });
  const sbom = b.manifest({
    artifactType: "application/vnd.example.sbom",
    layers: [b.file("sbom.json", '{"arm":true}')],
    subject: { mediaType: arm.mediaType, digest: arm.digest, size: arm.size },
  });
  const sbomSig = b.manifest({
    artifactType: "application/vnd.example.sig",
    layers: [b.file("sig", "signature of the sbom")],
    subject: { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.size },
  });
  b.writeIndex([{ ...index, tag: "v1" }, sig, sbom, sbomSig]);
  return { b, arm, amd, index, sig, sbom, sbomSig };
}

describe("-r: referrers follow the graph", () => {
  test("layout -> layout copies referrers of the index, of its children, and of referrers", async () => {
    const { b, arm, index, sig, sbom, sbomSig } = withReferrers();
    const source = await openLayout(b.dir);
    expect((await findReferrers(source, index)).map((d) => d.digest).sort()).toEqual(
      [sig.digest, sbom.digest, sbomSig.digest].sort(),
    );
    const dst = tempDir();
    const destination = await openLayout(dst, { create: true });
    const result = await copyReference(source, layoutRef(`${b.dir}:v1`), destination, layoutRef(dst), {
      recursive: true,
    });
    expect(result.referrers.map((d) => d.digest).sort()).toEqual(
      [sig.digest, sbom.digest, sbomSig.digest].sort(),
    );
    expect(blobsOf(dst)).toEqual(blobsOf(b.dir));
    // Found at the destination the way discover finds them.
    expect((await destination.referrers(index)).map((d) => d.digest)).toEqual([sig.digest]);
    expect((await destination.referrers(arm)).map((d) => d.digest)).toEqual([sbom.digest]);
    expect((await destination.referrers(sbom)).map((d) => d.digest)).toEqual([sbomSig.digest]);
  });

  test("without -r no referrer is copied", async () => {
    const { b, sig, sbom } = withReferrers();
    const dst = tempDir();
    const destination = await openLayout(dst, { create: true });
    const result = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      destination,
      layoutRef(dst),
    );
    expect(result.referrers).toEqual([]);
    expect(await destination.exists(sig)).toBe(false);
    expect(await destination.exists(sbom)).toBe(false);
  });

  test("--platform -r copies the selected manifest's referrers only", async () => {
    const { b, arm, sig, sbom, sbomSig } = withReferrers();
    const dst = tempDir();
    const destination = await openLayout(dst, { create: true });
    const result = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      destination,
      layoutRef(dst),
      {
        recursive: true,
        platform: { os: "linux", architecture: "arm64" },
      },
    );
    expect(result.desc.digest).toBe(arm.digest);
    expect(result.referrers.map((d) => d.digest)).toEqual([sbom.digest, sbomSig.digest]);
    expect(await destination.exists(sig)).toBe(false);
  });

  test("layout -> registry records each referrer with its subject (fallback index upkeep)", async () => {
    const { b, arm, index, sig, sbom, sbomSig } = withReferrers();
    const repo = new FakeHost("localhost:5000").repository("app");
    await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      repo,
      registryRef("localhost:5000/app:v1"),
      {
        recursive: true,
      },
    );
    expect(repo.referrerRecords).toContainEqual({ subject: index.digest, referrer: sig.digest });
    expect(repo.referrerRecords).toContainEqual({ subject: arm.digest, referrer: sbom.digest });
    expect(repo.referrerRecords).toContainEqual({ subject: sbom.digest, referrer: sbomSig.digest });
    expect((await repo.resolve("v1")).digest).toBe(index.digest);
    // Subjects are stored before their referrers.
    expect(repo.pushed.indexOf(index.digest)).toBeLessThan(repo.pushed.indexOf(sig.digest));
    expect(repo.pushed.indexOf(sbom.digest)).toBeLessThan(repo.pushed.indexOf(sbomSig.digest));
  });
});

describe("registry -> registry", () => {
  async function seeded() {
    const { b, index } = multiPlatform("v1");
    const host = new FakeHost("localhost:5000");
    const src = host.repository("src");
    await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      src,
      registryRef("localhost:5000/src:v1"),
    );
    return { b, host, src, index };
  }

  test("blobs are mounted from another repository of the same host; manifests are copied", async () => {
    const { host, src, index, b } = await seeded();
    const dst = host.repository("dst");
    const { events, listener } = collect();
    const result = await copyReference(
      src,
      registryRef("localhost:5000/src:v1"),
      dst,
      registryRef("localhost:5000/dst:v1"),
      {
        listener,
      },
    );
    expect(result.tags).toEqual(["v1"]);
    const mounted = events
      .filter((e) => e.type === "skip" && e.reason === "mounted")
      .map((e) => e.desc.digest);
    expect(mounted.length).toBe(4); // two configs, two layers
    expect(dst.mounted.sort()).toEqual(mounted.sort());
    const copied = events.filter((e) => e.type === "done").map((e) => e.desc.mediaType);
    expect(copied.sort()).toEqual([MT.index, MT.manifest, MT.manifest]);
    expect((await dst.resolve("v1")).digest).toBe(index.digest);
    expect(dst.memory.has(index)).toBe(true);
    expect(blobsOf(b.dir).every((d) => dst.memory.has({ mediaType: "x", digest: d, size: 0 }))).toBe(true);
  });

  test("no mount across hosts, nor within one repository, nor into layouts", async () => {
    const { host } = await seeded();
    const other = new FakeHost("registry.example").repository("dst");
    expect(
      mountFrom(registryRef("localhost:5000/src:v1"), registryRef("registry.example/dst"), other),
    ).toBeUndefined();
    expect(
      mountFrom(
        registryRef("localhost:5000/src:v1"),
        registryRef("localhost:5000/src:v2"),
        host.repository("src"),
      ),
    ).toBeUndefined();
    const layout = await LayoutDirectory.open(tempDir(), { create: true });
    expect(mountFrom(registryRef("localhost:5000/src:v1"), layoutRef(layout.path), layout)).toBeUndefined();
    expect(
      mountFrom(
        registryRef("localhost:5000/src:v1"),
        registryRef("localhost:5000/dst"),
        host.repository("dst"),
      ),
    ).toBeFunction();
  });

  test("a refused mount falls back to an ordinary copy", async () => {
    const { host, src } = await seeded();
    const dst = host.repository("dst2");
    dst.mount = async () => {
      throw new SkiffError("DENIED", "mount denied");
    };
    const { events, listener } = collect();
    await copyReference(src, registryRef("localhost:5000/src:v1"), dst, registryRef("localhost:5000/dst2"), {
      listener,
    });
    expect(events.some((e) => e.type === "skip" && e.reason === "mounted")).toBe(false);
    expect(events.filter((e) => e.type === "done").length).toBe(7);
  });
});

describe("backup and restore", () => {
  async function registryWithTags() {
    const { b, index, sig, sbom, sbomSig, arm } = withReferrers();
    const host = new FakeHost("localhost:5000");
    const repo = host.repository("app");
    await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      repo,
      registryRef("localhost:5000/app:v1"),
      {
        recursive: true,
      },
    );
    const other = new LayoutBuilder();
    const single = other.manifest({ layers: [other.file("one.txt", "just one file")] });
    other.writeIndex([{ ...single, tag: "v2" }]);
    await copyReference(
      await openLayout(other.dir),
      layoutRef(`${other.dir}:v2`),
      repo,
      registryRef("localhost:5000/app:v2"),
    );
    // A referrers fallback tag, which "all tags" must not treat as an artifact.
    repo.tagMap.set(`sha256-${index.digest.slice(7)}`, repo.manifests.get(sig.digest)!);
    return { host, repo, index, sig, sbom, sbomSig, arm, single };
  }

  test("backup of all tags into a directory, with referrers by default", async () => {
    const { repo, index, sig, sbom, sbomSig, single } = await registryWithTags();
    const out = join(tempDir(), "backup");
    const seen: string[] = [];
    const result = await backup(repo, out, { onEvent: (e) => seen.push(e.type) });
    expect(result.format).toBe("directory");
    expect(result.copies.map((c) => [c.tag, c.desc.digest, c.referrers])).toEqual([
      ["v1", index.digest, 3],
      ["v2", single.digest, 0],
    ]);
    expect(seen).toEqual(["tags", "tag-done", "tag-done"]);
    const layout = await openLayout(out);
    expect((await layout.resolve("v1")).digest).toBe(index.digest);
    expect((await layout.resolve("v2")).digest).toBe(single.digest);
    for (const r of [sig, sbom, sbomSig]) expect(await layout.exists(r)).toBe(true);
    const tags: string[] = [];
    for await (const t of layout.tags()) tags.push(t);
    expect(tags).toEqual(["v1", "v2"]);
  });

  test("--exclude-referrers and named tags", async () => {
    const { repo, sig } = await registryWithTags();
    const out = join(tempDir(), "backup");
    const result = await backup(repo, out, { tags: ["v1"], referrers: false });
    expect(result.copies.map((c) => c.referrers)).toEqual([0]);
    const layout = await openLayout(out);
    expect(await layout.exists(sig)).toBe(false);
    const missing = await backup(repo, join(tempDir(), "b2"), { tags: ["nope"] }).catch((e) => e);
    expect(missing).toBeInstanceOf(SkiffError);
    expect(missing.message).toContain('"nope"');
  });

  test("backup to a tar, readable by skiff and by tar(1); restore from it into another repository", async () => {
    const { repo, host, index, sig, sbom, sbomSig } = await registryWithTags();
    const dir = tempDir();
    const out = join(dir, "app.tar");
    const result = await backup(repo, out);
    expect(result.format).toBe("tar");
    expect(result.size).toBe(readFileSync(out).byteLength);
    // Only the archive is left next to it: no staging directory, no temporary file.
    expect(readdirSync(dir)).toEqual(["app.tar"]);
    const listing = spawnSync("tar", ["-tf", out], { encoding: "utf8" });
    expect(listing.status).toBe(0);
    const names = listing.stdout.trim().split("\n");
    expect(names.slice(0, 2)).toEqual(["oci-layout", "index.json"]);
    expect(names).toContain(`blobs/sha256/${index.digest.slice(7)}`);
    const archive = await openLayout(out);
    expect(archive).toBeInstanceOf(LayoutArchive);
    expect((await archive.resolve("v1")).digest).toBe(index.digest);

    const target = host.repository("restored");
    const restored = await restore(archive, target);
    expect(restored.copies.map((c) => [c.tag, c.referrers])).toEqual([
      ["v1", 3],
      ["v2", 0],
    ]);
    expect((await target.resolve("v1")).digest).toBe(index.digest);
    for (const r of [sig, sbom, sbomSig]) expect(target.memory.has(r)).toBe(true);
    expect(target.referrerRecords.length).toBe(3);
  });

  test("a second backup into the same tar replaces it atomically", async () => {
    const { repo } = await registryWithTags();
    const dir = tempDir();
    const out = join(dir, "app.tar");
    writeFileSync(out, "old content");
    await backup(repo, out, { tags: ["v2"] });
    const archive = await openLayout(out);
    expect((await archive.resolve("v2")).mediaType).toBe(MT.manifest);
    expect(readdirSync(dir)).toEqual(["app.tar"]);
  });

  test("dry runs write nothing", async () => {
    const { repo, host } = await registryWithTags();
    const dir = tempDir();
    const result = await backup(repo, join(dir, "x.tar"), { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.copies.map((c) => c.referrers)).toEqual([3, 0]);
    expect(readdirSync(dir)).toEqual([]);
    const layoutDir = join(dir, "layout");
    await backup(repo, layoutDir);
    const target = host.repository("dry");
    const restored = await restore(await openLayout(layoutDir), target, { dryRun: true });
    expect(restored.copies.length).toBe(2);
    expect(target.pushed).toEqual([]);
  });

  test("bad outputs and empty sources", async () => {
    expect(backupFormat("a.TAR")).toBe("tar");
    expect(backupFormat("dir")).toBe("directory");
    expect(() => backupFormat("a.tar.gz")).toThrow(SkiffError);
    expect(isReferrersTag(`sha256-${"a".repeat(64)}`)).toBe(true);
    expect(isReferrersTag("sha256-abc")).toBe(false);
    const { repo } = await registryWithTags();
    const dir = tempDir();
    const isDir = await backup(repo, dir.concat("/"), {}).then(() => "ok");
    expect(isDir).toBe("ok");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "taken.tar"));
    const error = await backup(repo, join(dir, "taken.tar")).catch((e) => e);
    expect(error.code).toBe("FILE_EXISTS");
    const empty = new FakeHost("localhost:5000").repository("empty");
    const none = await backup(empty, join(dir, "none")).catch((e) => e);
    expect(none.code).toBe("NOT_FOUND");
    expect(none.message).toContain("no tags found");
  });
});

describe("the graph engine when one transfer fails", () => {
  test("transfers in flight are stopped and settled before the first error is thrown", async () => {
    const b = new LayoutBuilder();
    const big = Array.from({ length: 4 }, (_, i) => b.blob(new Uint8Array(4 * 1024 * 1024).fill(i + 1)));
    // Stored under a digest its bytes do not have: fetching it fails verification at its end.
    const bad = b.blob("these bytes do not match", MT.layer, {}, `sha256:${"0".repeat(64)}`);
    const manifest = b.manifest({ layers: [...big, bad] });
    b.writeIndex([{ ...manifest, tag: "v1" }]);
    let active = 0;
    let activeAtFailure = -1;
    const memory = new MemoryStore();
    const slow: Target = {
      name: "slow",
      where: "layout slow",
      writable: true,
      exists: async (desc) => memory.has(desc),
      fetch: (desc) => memory.fetch(desc),
      async push(_desc, content) {
        active++;
        try {
          const reader = content.getReader();
          for (;;) {
            const { done } = await reader.read();
            if (done) break;
            await Bun.sleep(1);
          }
        } finally {
          active--;
        }
      },
      resolve: async () => {
        throw new Error("unused");
      },
      tag: async () => {},
    };
    const error = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      slow,
      layoutRef("slow"),
      {
        concurrency: 5,
      },
    ).catch((e) => {
      activeAtFailure = active;
      return e;
    });
    expect(error).toBeInstanceOf(SkiffError);
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(activeAtFailure).toBe(0);
  });

  test("a failed copy into a layout directory leaves no temporary file behind", async () => {
    const b = new LayoutBuilder();
    const big = Array.from({ length: 4 }, (_, i) => b.blob(new Uint8Array(8 * 1024 * 1024).fill(i + 1)));
    const bad = b.blob("these bytes do not match", MT.layer, {}, `sha256:${"1".repeat(64)}`);
    const manifest = b.manifest({ layers: [bad, ...big] });
    b.writeIndex([{ ...manifest, tag: "v1" }]);
    const dst = tempDir();
    const error = await copyReference(
      await openLayout(b.dir),
      layoutRef(`${b.dir}:v1`),
      await openLayout(dst, { create: true }),
      layoutRef(dst),
      { concurrency: 5 },
    ).catch((e) => e);
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain("1".repeat(64));
    const left = readdirSync(join(dst, "blobs", "sha256"));
    expect(left.filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(indexEntries(dst)).toEqual([]);
  });
});
