/**
 * manifest push: puts manifest bytes from a file or stdin into a registry or layout, by digest, then
 * publishes it: its tags (a layout without tags: an untagged `index.json` entry), and for a
 * manifest with a `subject` the store's referrers bookkeeping.
 */

import { ignoreEvents, type Listener } from "../content/events.ts";
import { isManifestPusher, publish, type Target } from "../content/target.ts";
import { bytesStream, digestOf } from "../content/verify.ts";
import { SkiffError } from "../errors.ts";
import { type Descriptor, plainDescriptor } from "../oci/descriptor.ts";
import { decodeJson, MAX_MANIFEST_BYTES, parseManifest } from "../oci/manifest.ts";
import { isManifestMediaType, isValidMediaType } from "../oci/media-types.ts";

interface ManifestPushOptions {
  /** `--media-type`; default: the manifest's own `mediaType`. */
  mediaType?: string;
  /** Tags to point at the manifest after it is stored. */
  tags?: readonly string[];
  /** The digest the reference named (`NAME@DIGEST`): the bytes must hash to it. */
  expectedDigest?: string;
  listener?: Listener;
}

interface ManifestPushResult {
  desc: Descriptor;
  /** False when the target already had the manifest. */
  pushed: boolean;
  tags: string[];
}

/** The media type to push `bytes` as: `--media-type`, else the document's `mediaType`. */
function manifestMediaType(bytes: Uint8Array, flag: string | undefined, source: string): string {
  try {
    JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    // ORAS's words, which scripts grep for.
    throw new SkiffError(
      "INVALID_MANIFEST",
      `invalid manifest ${source}: not a valid json file (${(error as Error).message})`,
    );
  }
  const json = decodeJson(bytes, source);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SkiffError("INVALID_MANIFEST", `${source} is not a JSON object`);
  }
  const declared = (json as { mediaType?: unknown }).mediaType;
  if (declared !== undefined && typeof declared !== "string") {
    throw new SkiffError("INVALID_MANIFEST", `${source}: mediaType must be a string`);
  }
  if (flag !== undefined) {
    if (!isValidMediaType(flag)) throw new SkiffError("USAGE", `--media-type "${flag}" is not a media type`);
    if (declared !== undefined && declared !== flag) {
      throw new SkiffError(
        "INVALID_MANIFEST",
        `${source} says mediaType "${declared}", which contradicts --media-type ${flag}`,
      );
    }
    return flag;
  }
  if (declared === undefined || declared === "") {
    throw new SkiffError(
      "USAGE",
      `media type is not specified via --media-type nor in ${source} (it has no mediaType field)`,
      "pass --media-type, e.g. --media-type application/vnd.oci.image.manifest.v1+json",
    );
  }
  return declared;
}

/** Stores a manifest and tags it. */
export async function pushManifestBytes(
  target: Target,
  bytes: Uint8Array,
  source: string,
  options: ManifestPushOptions = {},
): Promise<ManifestPushResult> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `${source} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  if (!target.writable) throw new SkiffError("UNSUPPORTED", `cannot push to ${target.name}: it is read-only`);
  const mediaType = manifestMediaType(bytes, options.mediaType, source);
  const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (isManifestMediaType(mediaType)) {
    const manifest = parseManifest(bytes, mediaType, source);
    if (manifest.artifactType) desc.artifactType = manifest.artifactType;
  }
  if (options.expectedDigest && options.expectedDigest !== desc.digest) {
    throw new SkiffError(
      "DIGEST_MISMATCH",
      `${source} hashes to ${desc.digest}, not ${options.expectedDigest} as the reference says`,
    );
  }
  const listener = options.listener ?? ignoreEvents;
  const plain = plainDescriptor(desc);
  const tags = [...new Set(options.tags ?? [])];
  let pushed = false;
  // As ORAS: skipped (`Exists`) only when the reference, its first tag or else the digest, already
  // names this manifest; otherwise it is stored under that reference (`Uploading`, `Uploaded`).
  if (await alreadyNamed(target, tags[0], plain)) {
    listener({ type: "skip", desc: plain, reason: "exists" });
    await publish(target, plain, { tags });
  } else {
    listener({ type: "start", desc: plain });
    if (!(await target.exists(plain))) {
      if (!isManifestMediaType(mediaType) && isManifestPusher(target)) {
        await target.pushManifest(plain, bytes);
      } else {
        await target.push(plain, bytesStream(bytes));
      }
      pushed = true;
    }
    await publish(target, plain, { tags });
    listener({ type: "done", desc: plain });
  }
  for (const tag of tags) listener({ type: "status", prompt: "Tagged", desc: plain, text: tag });
  return { desc, pushed, tags };
}

/** Whether `tag` (else the digest) already resolves to `desc` in `target`. */
async function alreadyNamed(target: Target, tag: string | undefined, desc: Descriptor): Promise<boolean> {
  if (tag === undefined) return target.exists(desc);
  try {
    return (await target.resolve(tag)).digest === desc.digest;
  } catch (error) {
    if (error instanceof SkiffError && error.code === "NOT_FOUND") return false;
    throw error;
  }
}
