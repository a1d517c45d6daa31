/**
 * repo tags: the tags of a registry repository or a layout; with a tag or digest, only the tags
 * that point at that manifest (ORAS's experimental filter); in a layout, optionally only the ref
 * names of one repository (`REPO:tag`, listed as `tag`).
 */
import type { TagLister, Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Reference } from "../oci/reference.ts";
import { limiter } from "./copy-graph.ts";
import { resolveReference } from "./resolve.ts";

/** Tags of the referrers tag schema (`sha256-<hex>`), hidden by `excludeDigestTags`. */
const DIGEST_TAG = /^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})(\..*)?$/;

interface ListTagsOptions {
  /** Only tags after this one. */
  last?: string;
  /** Leave out the `sha256-<hex>` tags of the referrers fallback. */
  excludeDigestTags?: boolean;
  /** In a layout: only ref names `REPOSITORY:tag`, listed as `tag`. */
  repository?: string;
  /** Tags resolved at once when filtering by manifest (default 5). */
  concurrency?: number;
  /** Called with the digest before the tags are resolved one by one to filter them. */
  onFilter?: (digest: string) => void;
}

/**
 * The tags of `target` in its order. When `ref` names a tag or digest, only the tags that resolve
 * to the same manifest: every tag is resolved, which takes a request per tag on a registry.
 */
export async function listTags(
  target: Target & TagLister,
  ref: Reference,
  options: ListTagsOptions = {},
): Promise<string[]> {
  const all: string[] = [];
  for await (const tag of target.tags(options.last)) all.push(tag);
  let tags = all;
  if (options.repository !== undefined) {
    const prefix = `${options.repository}:`;
    tags = tags.filter((tag) => tag.startsWith(prefix)).map((tag) => tag.slice(prefix.length));
  }
  if (options.excludeDigestTags) tags = tags.filter((tag) => !DIGEST_TAG.test(tag));
  if (!ref.tag && !ref.digest) return tags;

  const { desc } = await resolveReference(target, ref);
  options.onFilter?.(desc.digest);
  const limit = limiter(Math.max(1, options.concurrency ?? 5));
  const named = (tag: string) => (options.repository === undefined ? tag : `${options.repository}:${tag}`);
  const pointsAtIt = async (tag: string): Promise<boolean> => {
    try {
      return (await target.resolve(named(tag))).digest === desc.digest;
    } catch (error) {
      // A tag deleted since it was listed points at nothing.
      if (error instanceof SkiffError && error.code === "NOT_FOUND") return false;
      throw error;
    }
  };
  const same = await Promise.all(tags.map((tag) => limit(() => pointsAtIt(tag))));
  return tags.filter((_, i) => same[i]);
}
