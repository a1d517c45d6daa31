/**
 * One registry repository as a Target: manifests and blobs by descriptor, tags, referrers,
 * mounts and deletes over the distribution API.
 */
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { isDigest, parseDigest } from "../../oci/digest.ts";
import { MAX_MANIFEST_BYTES, parseManifest } from "../../oci/manifest.ts";
import { isManifestMediaType, manifestAccept } from "../../oci/media-types.ts";
import { isValidTag } from "../../oci/reference.ts";
import { fileBody } from "../../runtime/transfer.ts";
import type {
  BlobDescriber,
  ManifestPusher,
  ManifestTypeNarrower,
  Mounter,
  Opened,
  Publisher,
  PublishPlan,
  RangeFetcher,
  Store,
} from "../target.ts";
import type { BlobLocator, BlobOrigin, FileUploader } from "../transfer/offload.ts";
import { registryOrigin } from "../transfer/registry-origin.ts";
import { bytesStream, digestOf, readAll, verifyBytes } from "../verify.ts";
import { repositoryScope } from "./challenge.ts";
import type { RegistryClient } from "./client.ts";
import { openBlob } from "./download.ts";
import { ManifestCache } from "./manifest-cache.ts";
import { jsonPages } from "./pagination.ts";
import { ReferrerBooks, type ReferrersMode } from "./referrers.ts";
import { checkDeclaredMediaType, contentMediaType, contradicts } from "./served.ts";
import { configuredChunkSize, mountBlob, uploadBlob } from "./upload.ts";

export class RegistryRepository
  implements
    Store,
    Mounter,
    Publisher,
    BlobDescriber,
    ManifestPusher,
    ManifestTypeNarrower,
    RangeFetcher,
    BlobLocator,
    FileUploader
{
  readonly writable = true;
  readonly name: string;
  /** Manifests that passed through lately, so tagging needs no second download. */
  private readonly manifests = new ManifestCache();
  private readonly books: ReferrerBooks;
  private writing: boolean;
  /** `Accept` of manifest requests by tag or digest. */
  private accept = manifestAccept;

  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
    options: { forWriting?: boolean; referrers?: ReferrersMode } = {},
  ) {
    this.name = `${client.registry}/${repository}`;
    this.writing = options.forWriting ?? false;
    this.books = new ReferrerBooks(options.referrers, {
      client,
      repository,
      name: this.name,
      readScopes: () => this.readScopes,
      fetchManifestBytes: (desc) => this.fetchManifestBytes(desc),
      putManifest: (desc, bytes, reference) => this.putManifest(desc, bytes, reference),
      deleteManifest: (desc) => this.deleteOnly(desc),
    });
  }

  get registry(): string {
    return this.client.registry;
  }

  get where(): string {
    return `registry ${this.name}`;
  }

  /**
   * Asks for manifests by tag or digest only as these media types (`manifest fetch --media-type`):
   * the registry then answers "not found" for a manifest of another type.
   */
  acceptManifestTypes(mediaTypes: readonly string[]): void {
    this.accept = mediaTypes.join(", ");
  }

  /** Scopes for reading; once the repository is written to, the push scope too (one token for all). */
  private get readScopes(): string[] {
    return [
      this.writing
        ? repositoryScope(this.repository, "pull", "push")
        : repositoryScope(this.repository, "pull"),
    ];
  }

  private get writeScopes(): string[] {
    this.writing = true;
    return [repositoryScope(this.repository, "pull", "push")];
  }

  private static kindOf(desc: Descriptor): "manifests" | "blobs" {
    return isManifestMediaType(desc.mediaType) ? "manifests" : "blobs";
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  async exists(desc: Descriptor): Promise<boolean> {
    const kind = RegistryRepository.kindOf(desc);
    const response = await this.client.send({
      method: "HEAD",
      url: `/v2/${this.repository}/${kind}/${desc.digest}`,
      headers: kind === "manifests" ? { Accept: manifestAccept } : {},
      scopes: this.readScopes,
    });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.client.fail(response, {
      repository: this.repository,
      what: `${kind === "manifests" ? "manifest" : "blob"} ${desc.digest}`,
    });
  }

  /** `host/repo:tag` or `host/repo@digest`: how an error names what was asked for, as ORAS does. */
  private at(reference: string): string {
    return isDigest(reference) ? `${this.name}@${reference}` : `${this.name}:${reference}`;
  }

  /** A blob's descriptor from `HEAD blobs/DIGEST` (its size from `Content-Length`). */
  async describeBlob(digest: string): Promise<Descriptor> {
    parseDigest(digest);
    const what = `blob ${digest}`;
    const response = await this.client.send({
      method: "HEAD",
      url: `/v2/${this.repository}/blobs/${digest}`,
      scopes: this.readScopes,
    });
    if (response.status !== 200) {
      throw await this.client.fail(response, {
        repository: this.repository,
        what,
        reference: this.at(digest),
      });
    }
    const size = Number(response.headers.get("content-length") ?? Number.NaN);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SkiffError("REGISTRY", `${this.name} did not say the size of ${what} (no Content-Length)`);
    }
    const headerDigest = response.headers.get("docker-content-digest");
    if (contradicts(headerDigest, digest)) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${what} in ${this.name}: the registry answered for ${headerDigest}`,
      );
    }
    return { mediaType: "application/octet-stream", digest, size };
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    if (RegistryRepository.kindOf(desc) === "manifests") {
      return bytesStream(await this.fetchManifestBytes(desc));
    }
    return (await this.openBlob(desc, 0)).stream;
  }

  /** The verified bytes of a manifest (from memory when it passed through lately). */
  async fetchManifestBytes(desc: Descriptor): Promise<Uint8Array> {
    const cached = this.manifests.get(desc);
    if (cached) return cached;
    if (desc.size > MAX_MANIFEST_BYTES) {
      throw new SkiffError(
        "TOO_LARGE",
        `manifest ${desc.digest} in ${this.name} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
      );
    }
    const { bytes } = await this.getManifest(desc.digest, desc.mediaType);
    verifyBytes(bytes, desc, this.name);
    return bytes;
  }

  /**
   * GET a manifest by tag or digest: capped at 4 MiB, the digest checked (against the digest asked
   * for and `Docker-Content-Digest`), the declared media type checked against `Content-Type`.
   */
  async getManifest(reference: string, preferred?: string): Promise<{ desc: Descriptor; bytes: Uint8Array }> {
    const what = isDigest(reference) ? `manifest ${reference}` : `tag "${reference}"`;
    const accept = preferred && isManifestMediaType(preferred) ? `${preferred}, ${this.accept}` : this.accept;
    const { response, bytes } = await this.client.sendForBytes(
      {
        method: "GET",
        url: `/v2/${this.repository}/manifests/${reference}`,
        headers: { Accept: accept },
        scopes: this.readScopes,
      },
      MAX_MANIFEST_BYTES,
      `${what} in ${this.name}`,
    );
    if (!bytes) {
      throw await this.client.fail(response, {
        repository: this.repository,
        what,
        reference: this.at(reference),
      });
    }
    const headerDigest = response.headers.get("docker-content-digest") ?? undefined;
    const algorithm = isDigest(reference)
      ? parseDigest(reference).algorithm
      : headerDigest && isDigest(headerDigest)
        ? parseDigest(headerDigest).algorithm
        : "sha256";
    const digest = digestOf(bytes, algorithm);
    if (isDigest(reference) && digest !== reference) {
      throw new SkiffError("DIGEST_MISMATCH", `${what} from ${this.name}: content hashes to ${digest}`);
    }
    if (contradicts(headerDigest, digest)) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${what} from ${this.name}: the registry says Docker-Content-Digest ${headerDigest}, the content hashes to ${digest}`,
      );
    }
    const mediaType = checkDeclaredMediaType(
      bytes,
      contentMediaType(response.headers.get("content-type")),
      `${what} in ${this.name}`,
    );
    this.manifests.remember(digest, bytes);
    return { desc: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  /**
   * The blob from byte `offset` (`Range: bytes=offset-`), unverified: the caller hashes it after
   * the prefix it has. A registry that answers 200 gives the whole blob, verified, at offset 0.
   */
  async fetchFrom(desc: Descriptor, offset: number): Promise<Opened> {
    if (offset <= 0 || offset >= desc.size || RegistryRepository.kindOf(desc) === "manifests") {
      return { stream: await this.fetch(desc), offset: 0 };
    }
    return this.openBlob(desc, offset);
  }

  private openBlob(desc: Descriptor, from: number): Promise<Opened> {
    const place = { repository: this.repository, name: this.name, scopes: () => this.readScopes };
    return openBlob(this.client, place, desc, from);
  }

  /** Where a transfer worker fetches a blob from (content/transfer); manifests stay here. */
  async locateBlob(desc: Descriptor): Promise<BlobOrigin | undefined> {
    if (RegistryRepository.kindOf(desc) === "manifests") return undefined;
    return registryOrigin(this.client, this.repository, desc, () => this.readScopes);
  }

  /**
   * Resolves a tag or digest to the manifest's descriptor: HEAD first (media type from
   * `Content-Type`, digest from `Docker-Content-Digest`, size from `Content-Length`), GET when the
   * HEAD answer lacks any of them.
   */
  async resolve(reference: string): Promise<Descriptor> {
    if (!isDigest(reference)) {
      if (/^(sha256|sha384|sha512|blake3):/.test(reference)) parseDigest(reference);
      if (!isValidTag(reference)) {
        throw new SkiffError("INVALID_REFERENCE", `invalid tag "${reference}" for ${this.name}`);
      }
    }
    const what = isDigest(reference) ? `manifest ${reference}` : `tag "${reference}"`;
    const response = await this.client.send({
      method: "HEAD",
      url: `/v2/${this.repository}/manifests/${reference}`,
      headers: { Accept: this.accept },
      scopes: this.readScopes,
    });
    if (response.status !== 200) {
      throw await this.client.fail(response, {
        repository: this.repository,
        what,
        reference: this.at(reference),
      });
    }
    const headerDigest = response.headers.get("docker-content-digest");
    const mediaType = contentMediaType(response.headers.get("content-type"));
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (isDigest(reference) && contradicts(headerDigest, reference)) {
      throw new SkiffError(
        "DIGEST_MISMATCH",
        `${what} in ${this.name}: the registry answered with Docker-Content-Digest ${headerDigest}`,
      );
    }
    const digest = isDigest(reference) ? reference : headerDigest;
    if (
      digest &&
      isDigest(digest) &&
      mediaType &&
      isManifestMediaType(mediaType) &&
      Number.isSafeInteger(length) &&
      length > 0
    ) {
      return { mediaType, digest, size: length };
    }
    return (await this.getManifest(reference)).desc;
  }

  /**
   * Tags in lexical order, after `last`. Every page is read first: registries do not all sort
   * (distribution 2.8 lists tags in storage order), so `last` is applied here, not by the server.
   */
  async *tags(last?: string): AsyncIterable<string> {
    const all = new Set<string>();
    const pages = jsonPages(this.client, `/v2/${this.repository}/tags/list`, undefined, {
      scopes: this.readScopes,
      what: `tags of ${this.name}`,
      context: { repository: this.repository, what: "tags" },
      notJson: `${this.name} sent tags that are not JSON`,
    });
    for await (const page of pages) {
      const tags = (page as { tags?: unknown }).tags;
      if (tags === null || tags === undefined) continue;
      if (!Array.isArray(tags)) {
        throw new SkiffError("REGISTRY", `${this.name} sent a tag list that is not a list`);
      }
      for (const tag of tags) if (typeof tag === "string") all.add(tag);
    }
    for (const tag of [...all].sort()) {
      if (last === undefined || tag > last) yield tag;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    if (RegistryRepository.kindOf(desc) === "manifests") {
      if (desc.size > MAX_MANIFEST_BYTES) {
        await content.cancel().catch(() => {});
        throw new SkiffError(
          "TOO_LARGE",
          `manifest ${desc.digest} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
        );
      }
      const bytes = await readAll(content, desc.size, `manifest ${desc.digest}`);
      verifyBytes(bytes, desc, "the source");
      await this.putManifest(desc, bytes, desc.digest);
      return;
    }
    await uploadBlob(this.client, this.repository, desc, content);
    this.writing = true;
  }

  /** Uploads a blob from a file that the kernel sends (content/transfer); false where it cannot. */
  async uploadFile(desc: Descriptor, path: string): Promise<boolean> {
    const body = fileBody(path, desc.size);
    if (!body || RegistryRepository.kindOf(desc) === "manifests" || configuredChunkSize() !== undefined)
      return false;
    await uploadBlob(this.client, this.repository, desc, body);
    this.writing = true;
    return true;
  }

  /** Stores manifest bytes of any media type (one skiff does not know would go to blobs/ on push). */
  async pushManifest(desc: Descriptor, bytes: Uint8Array): Promise<void> {
    await this.putManifest(desc, bytes, desc.digest);
  }

  /** PUT manifest bytes under a digest or tag. */
  private async putManifest(desc: Descriptor, bytes: Uint8Array, reference: string): Promise<void> {
    checkDeclaredMediaType(bytes, desc.mediaType, `manifest ${desc.digest}`);
    const response = await this.client.send({
      method: "PUT",
      url: `/v2/${this.repository}/manifests/${reference}`,
      headers: { "Content-Type": desc.mediaType },
      body: bytes,
      scopes: this.writeScopes,
    });
    if (response.status !== 201 && response.status !== 200 && response.status !== 202) {
      throw await this.client.fail(response, {
        repository: this.repository,
        what: isDigest(reference) ? `manifest ${reference}` : `tag ${reference}`,
      });
    }
    await response.body?.cancel().catch(() => {});
    const stored = response.headers.get("docker-content-digest");
    if (contradicts(stored, desc.digest)) {
      throw new SkiffError("DIGEST_MISMATCH", `${this.name} stored manifest ${desc.digest} as ${stored}`);
    }
    this.manifests.remember(desc.digest, bytes);
    this.books.stored(desc.digest, response.headers.get("oci-subject") !== null);
  }

  /** Points `tag` at a manifest the repository holds (its bytes PUT again under the tag). */
  async tag(desc: Descriptor, tag: string): Promise<void> {
    if (!isValidTag(tag)) {
      throw new SkiffError(
        "INVALID_REFERENCE",
        `invalid tag "${tag}": must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
      );
    }
    const bytes = await this.fetchManifestBytes(desc);
    await this.putManifest(desc, bytes, tag);
  }

  /**
   * Deletes a manifest or blob. A deleted referrer also leaves its subject's fallback index (on
   * registries without the referrers API), as oras-go's repository does.
   */
  async delete(desc: Descriptor): Promise<void> {
    let subject: Descriptor | undefined;
    if (RegistryRepository.kindOf(desc) === "manifests") {
      const bytes = await this.fetchManifestBytes(desc);
      subject = parseManifest(bytes, desc.mediaType, `manifest ${desc.digest}`).subject;
    }
    await this.deleteOnly(desc);
    if (subject) await this.books.remove(subject, desc.digest);
  }

  private async deleteOnly(desc: Descriptor): Promise<void> {
    const kind = RegistryRepository.kindOf(desc);
    const what = `${kind === "manifests" ? "manifest" : "blob"} ${desc.digest}`;
    const response = await this.client.send({
      method: "DELETE",
      url: `/v2/${this.repository}/${kind}/${desc.digest}`,
      scopes: [repositoryScope(this.repository, "delete")],
    });
    if (response.status === 202 || response.status === 200 || response.status === 204) {
      await response.body?.cancel().catch(() => {});
      this.manifests.forget(desc.digest);
      return;
    }
    throw await this.client.fail(response, { repository: this.repository, what });
  }

  async mount(desc: Descriptor, fromRepository: string): Promise<boolean> {
    this.writing = true;
    return mountBlob(this.client, this.repository, desc, fromRepository);
  }

  // ------------------------------------------------------------------------------------------
  // Referrers (referrers.ts keeps the books)

  /** Referrers of `subject`: the referrers API when the registry has it, else the `<alg>-<hex>` tag. */
  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    return this.books.list(subject, artifactType);
  }

  /**
   * Names a root the repository holds: when it is a manifest with a `subject`, first keeps the
   * subject's referrers current (see referrers.ts); then points each tag at it.
   */
  async publish(root: Descriptor, plan: PublishPlan): Promise<void> {
    await this.books.add(root);
    for (const tag of plan.tags) await this.tag(root, tag);
  }
}
