/**
 * What a manifest delete takes with it in a layout, as oras-go's layout store (which ORAS uses,
 * with its automatic garbage collection) does: the manifest's referrers, theirs in turn, and then
 * every blob and manifest only they reached. What an `index.json` entry that stays reaches, stays.
 */
import type { Descriptor } from "../../oci/descriptor.ts";
import { successors } from "../../oci/manifest.ts";
import { isWalkable, walkManifests } from "../manifests.ts";
import type { Fetcher, ReferrerLister, Storage } from "../target.ts";

/**
 * The digests `roots` reach in `store`: the roots, the manifests the store has under them and
 * everything those point to (subjects too, as in oras-go's graph). `skip` are not walked into.
 */
export async function reachableDigests(
  store: Fetcher & Pick<Storage, "exists">,
  roots: readonly Descriptor[],
  where: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<Set<string>> {
  const found = new Set<string>();
  const seen = new Set<string>(skip);
  const walkable = async (desc: Descriptor) =>
    !seen.has(desc.digest) && isWalkable(desc) && (await store.exists(desc));
  for (const root of roots) {
    found.add(root.digest);
    if (!(await walkable(root))) continue;
    await walkManifests(
      store,
      root,
      where,
      async ({ manifest }, descend) => {
        for (const next of successors(manifest)) {
          found.add(next.digest);
          if (await walkable(next)) await descend(next);
        }
      },
      { seen },
    );
  }
  return found;
}

/** `root` and its referrers, theirs in turn, by digest. */
export async function withReferrers(
  store: ReferrerLister,
  root: Descriptor,
): Promise<Map<string, Descriptor>> {
  const doomed = new Map<string, Descriptor>([[root.digest, root]]);
  for (const queue = [root]; queue.length > 0; ) {
    for (const referrer of await store.referrers(queue.shift()!)) {
      if (doomed.has(referrer.digest)) continue;
      doomed.set(referrer.digest, referrer);
      queue.push(referrer);
    }
  }
  return doomed;
}
