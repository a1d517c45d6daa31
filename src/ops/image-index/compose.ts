/** Building an index in memory and publishing it: graphs copied in (mount or upload), the index stored, then named. */
import { ignoreEvents, type Listener } from "../../content/events.ts";
import { type PublishPlan, publish, type Target } from "../../content/target.ts";
import { bytesStream, digestOf } from "../../content/verify.ts";
import { SkiffError } from "../../errors.ts";
import { type Descriptor, orderedDescriptor, plainDescriptor, sortedMap } from "../../oci/descriptor.ts";
import { MAX_MANIFEST_BYTES } from "../../oci/manifest.ts";
import { MediaType } from "../../oci/media-types.ts";
import type { Reference } from "../../oci/reference.ts";
import { mountFrom } from "../copy.ts";
import { copyGraph } from "../copy-graph.ts";
import { placeKey } from "./sources.ts";

/** An index built in memory. */
interface BuiltIndex {
  desc: Descriptor;
  bytes: Uint8Array;
  /** The JSON object that was encoded. */
  json: Record<string, unknown>;
}

/** Encodes an index object (fields in the order given), checking the 4 MiB manifest limit. */
export function encodeIndex(json: Record<string, unknown>): BuiltIndex {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `the index would be ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : MediaType.ociIndex;
  const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (typeof json.artifactType === "string") desc.artifactType = json.artifactType;
  const annotations = json.annotations as Record<string, string> | undefined;
  if (annotations && Object.keys(annotations).length > 0) desc.annotations = annotations;
  return { desc, bytes, json };
}

/** The fields of a new OCI image index, in the spec's order. */
export function composeIndex(
  entries: readonly Descriptor[],
  fields: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> } = {},
): BuiltIndex {
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociIndex };
  if (fields.artifactType) json.artifactType = fields.artifactType;
  json.manifests = entries.map(orderedDescriptor);
  if (fields.subject) json.subject = plainDescriptor(fields.subject);
  const annotations = sortedMap(fields.annotations);
  if (annotations) json.annotations = annotations;
  return encodeIndex(json);
}

/** Content to copy into the target before the index is stored. */
export interface GraphToCopy {
  store: Target;
  ref: Reference;
  desc: Descriptor;
  name: string;
}

interface PublishOptions {
  concurrency?: number;
  listener?: Listener;
}

/**
 * Copies every graph into `target` (leaves first, what it has skipped, blobs of one registry
 * mounted), stores the index, then publishes it (tags; in a layout one `index.json` change made
 * under the layout's lock). Nothing names the index before all its content is in place.
 */
export async function publishIndex(
  target: Target,
  targetRef: Reference,
  built: BuiltIndex,
  graphs: readonly GraphToCopy[],
  plan: PublishPlan,
  options: PublishOptions = {},
): Promise<void> {
  if (!target.writable) {
    throw new SkiffError("UNSUPPORTED", `cannot write to ${target.name}: it is read-only`);
  }
  const listener = options.listener ?? ignoreEvents;
  for (const graph of graphs) {
    if (placeKey(graph.ref) === placeKey(targetRef)) continue;
    const mount = mountFrom(graph.ref, targetRef, target);
    await copyGraph(graph.store, target, plainDescriptor(graph.desc), {
      concurrency: options.concurrency ?? 3,
      listener,
      sourceName: graph.name,
      ...(mount ? { mount } : {}),
    });
  }
  const desc = plainDescriptor(built.desc);
  listener({ type: "status", prompt: "Packed", desc, text: desc.mediaType });
  if (!(await target.exists(desc))) {
    listener({ type: "start", desc });
    await target.push(desc, bytesStream(built.bytes));
    listener({ type: "done", desc });
  } else {
    listener({ type: "skip", desc, reason: "exists" });
  }
  // An index entry names the index, not its annotations.
  const named: Descriptor = {
    ...desc,
    ...(built.desc.artifactType ? { artifactType: built.desc.artifactType } : {}),
  };
  await publish(target, named, plan);
  for (const tag of plan.tags) listener({ type: "status", prompt: "Tagged", desc, text: tag });
}
