/** What layout directories and layout tar archives share: reading, resolving, tags, referrers. */
import { SkiffError } from "../../errors.ts";
import { type Descriptor, withoutRefName } from "../../oci/descriptor.ts";
import { isDigest, parseDigest } from "../../oci/digest.ts";
import {
  detectManifestMediaType,
  isIndex,
  MAX_MANIFEST_BYTES,
  parseManifest,
  referrerDescriptor,
} from "../../oci/manifest.ts";
import { isManifestMediaType } from "../../oci/media-types.ts";
import { type Descend, type ManifestNode, walkManifests } from "../manifests.ts";
import type { Deleter, EntryLister, ReferrerLister, Store, TagLister } from "../target.ts";
import { fetchBytes, verifyingStream } from "../verify.ts";
import { type LayoutIndex, matchTag, refNameOf } from "./index-file.ts";

/** The path of a blob inside a layout, relative to its root: `blobs/<alg>/<encoded>`. */
export function blobName(digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  return `blobs/${algorithm}/${encoded}`;
}

export abstract class LayoutBase implements Store, TagLister, ReferrerLister, Deleter, EntryLister {
  abstract readonly writable: boolean;

  /** `name` is the layout path as the user wrote it; messages use it. */
  constructor(readonly name: string) {}

  /** How errors name this layout. */
  get where(): string {
    return `layout ${this.name}`;
  }

  /** The parsed `index.json` (fresh for directories, cached for archives). */
  abstract readIndex(): Promise<LayoutIndex>;
  /** The size of the blob stored under `digest`, or undefined when it is absent. */
  protected abstract blobSize(digest: string): Promise<number | undefined>;
  /** The raw (unverified) bytes of a stored blob of `size` bytes. */
  protected abstract openBlob(digest: string, size: number): Promise<ReadableStream<Uint8Array>>;

  abstract push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void>;
  abstract tag(desc: Descriptor, tag: string): Promise<void>;
  abstract delete(desc: Descriptor): Promise<void>;

  /** The entries of `index.json` that skiff can read, in file order. */
  async entries(): Promise<Descriptor[]> {
    return (await this.readIndex()).entries;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return (await this.blobSize(desc.digest)) === desc.size;
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const size = await this.blobSize(desc.digest);
    if (size === undefined) {
      throw new SkiffError(
        "NOT_FOUND",
        `blob ${desc.digest} is missing from ${this.where} (expected ${blobName(desc.digest)})`,
      );
    }
    if (size !== desc.size) {
      throw new SkiffError(
        "SIZE_MISMATCH",
        `blob ${desc.digest} in ${this.where} is ${size} bytes, expected ${desc.size}`,
      );
    }
    return verifyingStream(await this.openBlob(desc.digest, size), desc, this.where);
  }

  /** Resolves a digest or a tag (`org.opencontainers.image.ref.name`, also as `name:tag` suffix). */
  async resolve(reference: string): Promise<Descriptor> {
    if (isDigest(reference)) return this.resolveDigest(reference);
    // A digest skiff cannot use (bad length, blake3): say why instead of "tag not found".
    if (/^(sha256|sha384|sha512|blake3):/.test(reference)) parseDigest(reference);
    return this.resolveTag(reference);
  }

  async resolveDigest(digest: string): Promise<Descriptor> {
    const entry = (await this.entries()).find((e) => e.digest === digest);
    if (entry) return withoutRefName(entry);
    const size = await this.blobSize(digest);
    if (size === undefined) {
      throw new SkiffError("NOT_FOUND", `${digest} in ${this.where}: not found`);
    }
    if (size > MAX_MANIFEST_BYTES) {
      throw new SkiffError(
        "TOO_LARGE",
        `${digest} in ${this.where} is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
        "is it a blob? use `blob fetch` for blobs",
      );
    }
    const probe: Descriptor = { mediaType: "application/octet-stream", digest, size };
    const bytes = await fetchBytes(this, probe, this.where);
    const mediaType = detectManifestMediaType(bytes, `${digest} in ${this.where}`);
    const desc: Descriptor = { mediaType, digest, size };
    if (isManifestMediaType(mediaType)) {
      const manifest = parseManifest(bytes, mediaType, `${digest} in ${this.where}`);
      if (manifest.artifactType) desc.artifactType = manifest.artifactType;
    }
    return desc;
  }

  /** A blob's descriptor from what is stored (`application/octet-stream`, the stored size). */
  async describeBlob(digest: string): Promise<Descriptor> {
    parseDigest(digest);
    const size = await this.blobSize(digest);
    if (size === undefined) {
      throw new SkiffError(
        "NOT_FOUND",
        `blob ${digest} not found in ${this.where} (expected ${blobName(digest)})`,
      );
    }
    return { mediaType: "application/octet-stream", digest, size };
  }

  async resolveTag(tag: string): Promise<Descriptor> {
    const entries = await this.entries();
    let matches = entries.filter((e) => matchTag(refNameOf(e), tag) === "exact");
    if (matches.length === 0) matches = entries.filter((e) => matchTag(refNameOf(e), tag) === "suffix");
    if (matches.length === 0) {
      const tags = [...new Set(entries.map(refNameOf).filter((t): t is string => t !== undefined))].sort();
      throw new SkiffError(
        "NOT_FOUND",
        // "...: not found", the tail ORAS prints and scripts look for.
        `tag "${tag}" in ${this.where}: not found`,
        tags.length > 0
          ? `tags in this layout: ${tags.slice(0, 20).join(", ")}${tags.length > 20 ? ", ..." : ""}`
          : "this layout has no tags: pass no tag to resolve its only entry, or @DIGEST",
      );
    }
    const digests = [...new Set(matches.map((m) => m.digest))];
    if (digests.length > 1) {
      throw new SkiffError(
        "AMBIGUOUS",
        `tag "${tag}" names ${digests.length} different manifests in ${this.where}`,
        matches.map((m) => `  ${refNameOf(m)} -> oci-layout://${this.name}@${m.digest}`).join("\n"),
      );
    }
    return withoutRefName(matches[0]!);
  }

  /** Every ref name in the layout, sorted, after `last` when given. */
  async *tags(last?: string): AsyncIterable<string> {
    const names = new Set<string>();
    for (const entry of await this.entries()) {
      const name = refNameOf(entry);
      if (name !== undefined) names.add(name);
    }
    for (const name of [...names].sort()) {
      if (last === undefined || name > last) yield name;
    }
  }

  /**
   * Manifests whose `subject` is `subject`, among the manifests reachable from `index.json`
   * (referrers pushed by skiff are index.json roots). Missing blobs are skipped.
   */
  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const found = new Map<string, Descriptor>();
    const seen = new Set<string>();
    // Worth walking into: a manifest this layout holds, not seen yet (checked first: no stat then).
    const present = async (desc: Descriptor) =>
      !seen.has(desc.digest) && isManifestMediaType(desc.mediaType) && this.exists(desc);
    const visit = async (node: ManifestNode, descend: Descend): Promise<void> => {
      const { desc, manifest } = node;
      if (manifest.subject?.digest === subject.digest) {
        const referrer = referrerDescriptor(desc, manifest);
        if (artifactType === undefined || referrer.artifactType === artifactType)
          found.set(desc.digest, referrer);
      }
      if (!isIndex(manifest)) return;
      for (const child of manifest.manifests) if (await present(child)) await descend(child);
    };
    for (const entry of await this.entries()) {
      if (await present(entry)) await walkManifests(this, entry, this.where, visit, { seen });
    }
    return [...found.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }
}
