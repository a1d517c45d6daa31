/**
 * Helpers for the index create/update unit tests: a registry-like Target held in a MemoryStore (the
 * e2e tests use the real registry), source layouts crafted byte by byte, and an opener over both.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openLayout } from "../../src/content/layout/index.ts";
import { fetchManifest } from "../../src/content/manifests.ts";
import { MemoryStore } from "../../src/content/memory/index.ts";
import type { Target } from "../../src/content/target.ts";
import { readAll } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { isDigest } from "../../src/oci/digest.ts";
import { isIndex, successors } from "../../src/oci/manifest.ts";
import { isManifestMediaType } from "../../src/oci/media-types.ts";
import type { Platform } from "../../src/oci/platform.ts";
import type { Reference } from "../../src/oci/reference.ts";
import type { OpenPlace } from "../../src/ops/image-index/sources.ts";
import { LayoutBuilder } from "../fixtures/layout-builder.ts";

/** A registry repository in memory: manifests by digest and by tag, blobs in a MemoryStore. */
export class FakeRepository implements Target {
  readonly writable = true;
  readonly memory = new MemoryStore();
  readonly manifests = new Map<string, Descriptor>();
  readonly tagMap = new Map<string, Descriptor>();
  /** Every push, in order (digests), to check what was written and in which order. */
  readonly pushed: string[] = [];
  readonly tagged: string[] = [];

  constructor(readonly name: string) {}

  get where(): string {
    return `registry ${this.name}`;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.memory.has(desc);
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    return this.memory.fetch(desc);
  }

  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    await this.memory.push(desc, content);
    this.pushed.push(desc.digest);
    if (isManifestMediaType(desc.mediaType)) {
      this.manifests.set(desc.digest, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    }
  }

  async resolve(reference: string): Promise<Descriptor> {
    const found = isDigest(reference) ? this.manifests.get(reference) : this.tagMap.get(reference);
    if (!found) throw new SkiffError("NOT_FOUND", `${this.name}:${reference}: manifest unknown`);
    return found;
  }

  async tag(desc: Descriptor, tag: string): Promise<void> {
    if (!this.manifests.has(desc.digest)) throw new Error(`tag ${tag}: ${desc.digest} was not pushed first`);
    this.tagMap.set(tag, this.manifests.get(desc.digest)!);
    this.tagged.push(tag);
  }

  async *tags(): AsyncIterable<string> {
    yield* [...this.tagMap.keys()].sort();
  }

  async referrers(): Promise<Descriptor[]> {
    return [];
  }

  async delete(desc: Descriptor): Promise<void> {
    this.manifests.delete(desc.digest);
  }

  /** Stores a whole graph from a fetcher (seeding), then tags the root. */
  async seed(
    from: { fetch(d: Descriptor): Promise<ReadableStream<Uint8Array>> },
    root: Descriptor,
    tag?: string,
  ) {
    const walk = async (desc: Descriptor): Promise<void> => {
      if (isManifestMediaType(desc.mediaType)) {
        const { manifest } = await fetchManifest(from, desc, "seed");
        for (const child of successors(manifest)) await walk(child);
      }
      await this.push(desc, await from.fetch(desc));
    };
    await walk(root);
    if (tag) await this.tag(root, tag);
  }
}

/** Opens layouts for real and registry repositories from a map of fakes (`host/repo` keys). */
export function opener(repositories: Map<string, FakeRepository> = new Map()): OpenPlace {
  return async (ref: Reference, forWriting: boolean) => {
    if (ref.kind === "layout") return openLayout(ref.path, { create: forWriting });
    const key = `${ref.registry}/${ref.repository}`;
    let repo = repositories.get(key);
    if (!repo) {
      repo = new FakeRepository(key);
      repositories.set(key, repo);
    }
    return repo;
  };
}

/** A layout with one untagged manifest whose image config carries `platform` (not its descriptor). */
export function platformLayout(
  platform: Platform,
  files: Record<string, string>,
): { builder: LayoutBuilder; desc: Descriptor } {
  const builder = new LayoutBuilder();
  const desc = builder.platformManifest(platform, files, false);
  builder.writeIndex([desc]);
  return { builder, desc };
}

/** The parsed index.json of a layout directory. */
export function indexJson(dir: string): { manifests: Record<string, unknown>[] } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
}

/** The JSON of a blob in a layout directory. */
export function blobJson(dir: string, digest: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, "blobs", "sha256", digest.slice(7)), "utf8"));
}

/** Every descriptor reachable from `root` in `target`, checked to be present and intact. */
export async function walkAll(target: Target, root: Descriptor): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  const visit = async (desc: Descriptor): Promise<void> => {
    out.push(desc);
    const bytes = await readAll(await target.fetch(desc), Number.MAX_SAFE_INTEGER);
    if (bytes.byteLength !== desc.size) throw new Error(`${desc.digest}: wrong size`);
    if (isManifestMediaType(desc.mediaType)) {
      const { manifest } = await fetchManifest(target, desc, target.name);
      const children = isIndex(manifest) ? manifest.manifests : successors(manifest);
      for (const child of children) await visit(child);
    }
  };
  await visit(root);
  return out;
}
