/**
 * tag: points more tags at the manifest a reference names (a tag, a digest, or a tagless layout
 * reference), in a registry or a layout.
 */

import { ignoreEvents, type Listener } from "../content/events.ts";
import type { Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import {
  checkTag,
  isRegistryReference,
  isValidTag,
  parseRegistryReference,
  type Reference,
  referenceName,
} from "../oci/reference.ts";
import { limiter } from "./copy-graph.ts";
import { resolveReference } from "./resolve.ts";

interface TagOptions {
  /** Tags written at once (ORAS: 5). */
  concurrency?: number;
  /** Gets a `status` event `Tagged` per tag, as each is written. */
  listener?: Listener;
}

/**
 * The name a tag argument writes, as ORAS reads it: a tag as it is, or a full reference
 * `host/repo:tag`. In a registry the full reference must name the source's repository and its tag
 * is written; in a layout the whole reference becomes the ref name (layouts may hold several
 * repositories' tags).
 */
export function tagName(source: Reference, text: string): string {
  if (isValidTag(text)) return text;
  let full: ReturnType<typeof parseRegistryReference> | undefined;
  try {
    full = parseRegistryReference(text);
  } catch {
    // Not a full reference either: the tag error below says what a tag must be.
  }
  if (!full?.tag || full.digest) {
    checkTag(text, text);
    return text;
  }
  if (!isRegistryReference(source)) return text;
  if (full.registry !== source.registry || full.repository !== source.repository) {
    throw new SkiffError(
      "INVALID_REFERENCE",
      `invalid reference: mismatch between received "${text}" and expected "${referenceName(source)}"`,
      "tag within the source's repository; copy to another repository with skiff cp",
    );
  }
  return full.tag;
}

/**
 * Resolves `source` in `target` and tags the manifest with every tag in `tags` (tags or full
 * references, see {@link tagName}). All tags are checked before any is written. Returns the tagged
 * manifest's descriptor.
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
  const names = new Map(tags.map((text) => [text, tagName(source, text)]));
  if (!target.writable) {
    throw new SkiffError("UNSUPPORTED", `cannot tag in ${target.name}: it is read-only`);
  }
  const { desc } = await resolveReference(target, source);
  const listener = options.listener ?? ignoreEvents;
  const limit = limiter(Math.max(1, options.concurrency ?? 5));
  await Promise.all(
    [...names].map(([text, name]) =>
      limit(async () => {
        await target.tag(desc, name);
        listener({ type: "status", prompt: "Tagged", desc, text });
      }),
    ),
  );
  return desc;
}
