/**
 * tag: points more tags at the manifest a reference names (a tag, a digest, or a tagless layout
 * reference), in a registry or a layout.
 */

import { ignoreEvents, type Listener } from "../content/events.ts";
import type { Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { checkTag, type Reference } from "../oci/reference.ts";
import { limiter } from "./copy-graph.ts";
import { resolveReference } from "./resolve.ts";

interface TagOptions {
  /** Tags written at once (ORAS: 5). */
  concurrency?: number;
  /** Gets a `status` event `Tagged` per tag, as each is written. */
  listener?: Listener;
}

/**
 * Resolves `source` in `target` and tags the manifest with every tag in `tags`. All tags are
 * checked before any is written. Returns the tagged manifest's descriptor.
 */
export async function tagReference(
  target: Target,
  source: Reference,
  tags: readonly string[],
  options: TagOptions = {},
): Promise<Descriptor> {
  if (tags.length === 0) {
    throw new SkiffError("USAGE", "no tag given", "usage: skiff tag SOURCE TAG [TAG...]");
  }
  for (const tag of tags) checkTag(tag, tag);
  if (!target.writable) {
    throw new SkiffError("UNSUPPORTED", `cannot tag in ${target.name}: it is read-only`);
  }
  const { desc } = await resolveReference(target, source);
  const listener = options.listener ?? ignoreEvents;
  const limit = limiter(Math.max(1, options.concurrency ?? 5));
  await Promise.all(
    [...new Set(tags)].map((tag) =>
      limit(async () => {
        await target.tag(desc, tag);
        listener({ type: "status", prompt: "Tagged", desc, text: tag });
      }),
    ),
  );
  return desc;
}
