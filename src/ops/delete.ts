/**
 * manifest delete and blob delete: resolve what the reference names, ask for confirmation, delete.
 * Deleting a referrer from a registry without the referrers API also takes it out of the subject's
 * fallback index (the registry store does that).
 */
import { type Deleter, isBlobDescriber, type Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import type { Reference } from "../oci/reference.ts";
import { layoutEntry } from "./resolve.ts";

export interface DeleteOptions {
  /** Asked before deleting; false cancels. Default: delete without asking. */
  confirm?: (desc: Descriptor) => Promise<boolean>;
}

/** What a delete did: deleted `desc`, found nothing (`missing`), or was cancelled. */
export type DeleteResult =
  | { outcome: "deleted"; desc: Descriptor }
  | { outcome: "missing" }
  | { outcome: "cancelled"; desc: Descriptor };

function isNotFound(error: unknown): boolean {
  return error instanceof SkiffError && error.code === "NOT_FOUND";
}

/** Deletes the manifest `ref` names (by tag or digest) and, on registries, every tag pointing at it. */
export async function deleteManifest(
  target: Target & Deleter,
  ref: Reference,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  const reference = ref.digest ?? ref.tag;
  if (!reference) {
    throw new SkiffError("USAGE", "manifest delete needs a tag or digest", "use NAME:TAG or NAME@DIGEST");
  }
  let desc: Descriptor;
  try {
    desc = await target.resolve(reference);
  } catch (error) {
    if (isNotFound(error)) return { outcome: "missing" };
    throw error;
  }
  desc = await layoutEntry(target, ref, desc);
  if (options.confirm && !(await options.confirm(desc))) return { outcome: "cancelled", desc };
  await target.delete(desc);
  return { outcome: "deleted", desc };
}

/** Deletes the blob `ref` names by digest. */
export async function deleteBlob(
  target: Target & Deleter,
  ref: Reference,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  if (!ref.digest) {
    throw new SkiffError("USAGE", "blob delete needs a digest", "use NAME@sha256:...");
  }
  let desc: Descriptor;
  try {
    desc = isBlobDescriber(target)
      ? await target.describeBlob(ref.digest)
      : { mediaType: "application/octet-stream", digest: ref.digest, size: 0 };
  } catch (error) {
    if (isNotFound(error)) return { outcome: "missing" };
    throw error;
  }
  if (options.confirm && !(await options.confirm(desc))) return { outcome: "cancelled", desc };
  await target.delete({ ...desc, mediaType: "application/octet-stream" });
  return { outcome: "deleted", desc };
}
