/**
 * Referrers on registries: the referrers API (`GET /v2/NAME/referrers/DIGEST`), and for registries
 * without it the tag schema fallback: an image index tagged `<alg>-<hex>` listing the referrers of
 * that digest, kept up to date by the client that pushes a referrer. {@link ReferrerBooks} keeps
 * them for one repository: it lists referrers, and adds or removes a published or deleted one.
 */
import { SkiffError } from "../../errors.ts";
import { type Descriptor, isObject, parseDescriptor, parseStringMap } from "../../oci/descriptor.ts";
import { parseDigest } from "../../oci/digest.ts";
import { decodeJson, MAX_MANIFEST_BYTES, parseManifest, referrerDescriptor } from "../../oci/manifest.ts";
import { isManifestMediaType, MediaType } from "../../oci/media-types.ts";
import { digestOf } from "../verify.ts";
import type { RegistryClient } from "./client.ts";
import { nextPageUrl } from "./pagination.ts";
import { contentMediaType } from "./served.ts";

/**
 * How referrers are found and indexed, when `--distribution-spec` chooses: `api` uses only the
 * referrers API (and leaves indexing to the registry), `tag` only the `<alg>-<hex>` tag schema
 * (kept by the client even when the registry has the API). Without a choice, the API is probed
 * and the tag schema used when it is missing.
 */
export type ReferrersMode = "api" | "tag";

/** The fallback tag for a subject digest: `sha256:abc...` -> `sha256-abc...`. */
export function referrersTag(subjectDigest: string): string {
  const { algorithm, encoded } = parseDigest(subjectDigest);
  // Tags are at most 128 characters: a sha512 tag is cut (as the distribution spec says).
  return `${algorithm}-${encoded}`.slice(0, 128);
}

/**
 * A referrers index (from the API or the fallback tag), read as leniently as ORAS reads it:
 * `"manifests": null` or missing is an empty list (olareg answers so); media and artifact types are
 * read as parseDescriptor reads them (`test.sbom.file` passes). Digests and sizes are still checked.
 */
function parseReferrersIndex(
  bytes: Uint8Array,
  where: string,
): { manifests: Descriptor[]; annotations?: Record<string, string> } {
  const json = decodeJson(bytes, where);
  if (!isObject(json))
    throw new SkiffError("INVALID_MANIFEST", `invalid referrers index ${where}: not a JSON object`);
  const listed = json.manifests ?? [];
  if (!Array.isArray(listed)) {
    throw new SkiffError("INVALID_MANIFEST", `invalid referrers index ${where}: manifests must be an array`);
  }
  const manifests = listed.map((item, i) => parseDescriptor(item, `${where} manifests[${i}]`));
  const annotations = parseStringMap(json.annotations, `${where} annotations`);
  return annotations ? { manifests, annotations } : { manifests };
}

/** The manifests of a referrers index (from the API or the fallback tag), optionally of one type. */
export function referrersFromIndex(bytes: Uint8Array, where: string, artifactType?: string): Descriptor[] {
  const { manifests } = parseReferrersIndex(bytes, where);
  return manifests.filter((m) => artifactType === undefined || m.artifactType === artifactType);
}

/**
 * The fallback index with `referrer` added (or undefined when it is already listed). `existing`
 * is the current index's bytes, when there is one.
 */
export function addToReferrersIndex(
  existing: Uint8Array | undefined,
  referrer: Descriptor,
  where: string,
): Uint8Array | undefined {
  let manifests: Descriptor[] = [];
  let annotations: Record<string, string> | undefined;
  if (existing) ({ manifests, annotations } = parseReferrersIndex(existing, where));
  if (manifests.some((m) => m.digest === referrer.digest)) return undefined;
  const json: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...manifests, referrer],
  };
  if (annotations) json.annotations = annotations;
  return new TextEncoder().encode(JSON.stringify(json));
}

/**
 * The fallback index without `digest`: new bytes, `"empty"` when nothing is left, or undefined when
 * it was not listed.
 */
export function removeFromReferrersIndex(
  existing: Uint8Array,
  digest: string,
  where: string,
): Uint8Array | "empty" | undefined {
  const index = parseReferrersIndex(existing, where);
  if (!index.manifests.some((m) => m.digest === digest)) return undefined;
  const manifests = index.manifests.filter((m) => m.digest !== digest);
  if (manifests.length === 0) return "empty";
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  if (index.annotations) json.annotations = index.annotations;
  return new TextEncoder().encode(JSON.stringify(json));
}

/** What the referrers books need of their repository. */
interface BookedRepository {
  readonly client: RegistryClient;
  readonly repository: string;
  readonly name: string;
  readScopes(): string[];
  fetchManifestBytes(desc: Descriptor): Promise<Uint8Array>;
  putManifest(desc: Descriptor, bytes: Uint8Array, reference: string): Promise<void>;
  deleteManifest(desc: Descriptor): Promise<void>;
}

/** The referrers of one repository: listed through the API or the fallback tag, and kept current. */
export class ReferrerBooks {
  /** Whether the registry has the referrers API (undefined: not asked yet; set by `mode`). */
  private api: boolean | undefined;
  /** `--distribution-spec` chose the API or the tag schema: no probing, no falling back. */
  private readonly chosen: boolean;
  /** Manifests whose push the registry answered with `OCI-Subject`: it indexes them itself. */
  private readonly indexed = new Set<string>();

  constructor(
    mode: ReferrersMode | undefined,
    private readonly repo: BookedRepository,
  ) {
    this.chosen = mode !== undefined;
    if (mode !== undefined) this.api = mode === "api";
  }

  /** Notes how the registry answered a manifest PUT: with `OCI-Subject` it keeps the referrers itself. */
  stored(digest: string, subjectIndexed: boolean): void {
    if (subjectIndexed) this.indexed.add(digest);
  }

  /**
   * Referrers of `subject`: the referrers API when the registry has it, else the `<alg>-<hex>` tag;
   * only the one `--distribution-spec` chose, when it chose.
   */
  async list(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    if (this.api !== false) {
      const found = await this.fromApi(subject, artifactType);
      if (found) return found;
      if (this.chosen) {
        throw new SkiffError(
          "UNSUPPORTED",
          `failed to query referrers API: unsupported by ${this.repo.client.registry} (referrers of ${subject.digest})`,
          "use --distribution-spec v1.1-referrers-tag for a registry without the referrers API",
        );
      }
    }
    return this.fromTag(subject, artifactType);
  }

  /** The referrers API's answer, or undefined when the registry does not have the API (404). */
  private async fromApi(subject: Descriptor, artifactType?: string): Promise<Descriptor[] | undefined> {
    const query = artifactType ? `?${new URLSearchParams({ artifactType })}` : "";
    let url: string | undefined = `/v2/${this.repo.repository}/referrers/${subject.digest}${query}`;
    const out: Descriptor[] = [];
    const seen = new Set<string>();
    while (url !== undefined && !seen.has(url)) {
      seen.add(url);
      const where = `referrers of ${subject.digest} in ${this.repo.name}`;
      const { response, bytes } = await this.repo.client.sendForBytes(
        { method: "GET", url, headers: { Accept: MediaType.ociIndex }, scopes: this.repo.readScopes() },
        MAX_MANIFEST_BYTES,
        where,
      );
      if (response.status === 404 && out.length === 0) {
        await response.body?.cancel().catch(() => {});
        if (!this.chosen) this.api = false;
        return undefined;
      }
      if (!bytes) {
        throw await this.repo.client.fail(response, {
          repository: this.repo.repository,
          what: `referrers of ${subject.digest}`,
        });
      }
      if (contentMediaType(response.headers.get("content-type")) !== MediaType.ociIndex) {
        // Not the API (some proxies answer 200 with HTML): treat as absent.
        if (!this.chosen) this.api = false;
        return undefined;
      }
      if (!this.chosen) this.api = true;
      const filtered = (response.headers.get("oci-filters-applied") ?? "").split(",").map((s) => s.trim());
      const applied = filtered.includes("artifactType") ? undefined : artifactType;
      out.push(...referrersFromIndex(bytes, where, applied));
      url = nextPageUrl(response.headers.get("link"), this.repo.client.url(url))?.href;
    }
    return out;
  }

  private async fromTag(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const bytes = await this.fallbackIndex(subject);
    if (!bytes) return [];
    return referrersFromIndex(
      bytes,
      `referrers index ${referrersTag(subject.digest)} in ${this.repo.name}`,
      artifactType,
    );
  }

  /** The bytes of the `<alg>-<hex>` fallback index, or undefined when there is none. */
  private async fallbackIndex(subject: Descriptor): Promise<Uint8Array | undefined> {
    const tag = referrersTag(subject.digest);
    const { response, bytes } = await this.repo.client.sendForBytes(
      {
        method: "GET",
        url: `/v2/${this.repo.repository}/manifests/${tag}`,
        headers: { Accept: MediaType.ociIndex },
        scopes: this.repo.readScopes(),
      },
      MAX_MANIFEST_BYTES,
      `referrers tag ${tag} in ${this.repo.name}`,
    );
    if (response.status === 404) {
      await response.body?.cancel().catch(() => {});
      return undefined;
    }
    if (!bytes) {
      throw await this.repo.client.fail(response, {
        repository: this.repo.repository,
        what: `referrers tag ${tag}`,
      });
    }
    return bytes;
  }

  /** True when the registry indexes referrers itself (it has the referrers API). */
  private async hasApi(subject: Descriptor): Promise<boolean> {
    if (this.api === undefined) await this.fromApi(subject);
    return this.api === true;
  }

  /**
   * Keeps the fallback index current for `referrer` when it is a manifest with a subject: nothing
   * to do when the registry answered its push with `OCI-Subject` or has the referrers API; else
   * the referrer is added to the `<alg>-<hex>` index of its subject (created when missing).
   */
  async add(referrer: Descriptor): Promise<void> {
    if (!isManifestMediaType(referrer.mediaType)) return;
    // With the tag schema chosen, the index is kept even when the registry indexes referrers too.
    if (this.indexed.has(referrer.digest) && !this.chosen) return;
    const bytes = await this.repo.fetchManifestBytes(referrer);
    const manifest = parseManifest(
      bytes,
      referrer.mediaType,
      `manifest ${referrer.digest} in ${this.repo.name}`,
    );
    if (!manifest.subject) return;
    const subject = manifest.subject;
    if (await this.hasApi(subject)) return;
    const entry = referrerDescriptor(referrer, manifest);
    const tag = referrersTag(subject.digest);
    const existing = await this.fallbackIndex(subject);
    const updated = addToReferrersIndex(existing, entry, `referrers tag ${tag} in ${this.repo.name}`);
    if (!updated) return;
    const desc: Descriptor = {
      mediaType: MediaType.ociIndex,
      digest: digestOf(updated),
      size: updated.byteLength,
    };
    await this.repo.putManifest(desc, updated, tag);
  }

  /**
   * Takes a deleted referrer out of the subject's fallback index (registries without the referrers
   * API); the index is deleted when it becomes empty.
   */
  async remove(subject: Descriptor, referrerDigest: string): Promise<void> {
    if (await this.hasApi(subject)) return;
    const existing = await this.fallbackIndex(subject);
    if (!existing) return;
    const tag = referrersTag(subject.digest);
    const updated = removeFromReferrersIndex(
      existing,
      referrerDigest,
      `referrers tag ${tag} in ${this.repo.name}`,
    );
    if (!updated) return;
    const old: Descriptor = {
      mediaType: MediaType.ociIndex,
      digest: digestOf(existing),
      size: existing.byteLength,
    };
    if (updated === "empty") {
      await this.repo.deleteManifest(old);
      return;
    }
    const desc: Descriptor = {
      mediaType: MediaType.ociIndex,
      digest: digestOf(updated),
      size: updated.byteLength,
    };
    await this.repo.putManifest(desc, updated, tag);
  }
}
