/**
 * `--descriptor`: a descriptor printed byte for byte as ORAS prints it (Go's field order, sorted
 * annotations; compact without a newline, `--pretty` indented with one), and the descriptor ORAS
 * shows for a layout reference.
 */
import type { Descriptor } from "../../oci/descriptor.ts";
import { Annotation } from "../../oci/media-types.ts";
import type { Reference } from "../../oci/reference.ts";
import { goJson, sortedMap } from "./go-json.ts";

/** A descriptor's fields in the OCI (and Go) order; empty annotations left out. */
export function plainDescriptor(desc: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (desc.urls && desc.urls.length > 0) out.urls = desc.urls;
  if (desc.annotations && Object.keys(desc.annotations).length > 0)
    out.annotations = sortedMap(desc.annotations);
  if (desc.data !== undefined) out.data = desc.data;
  if (desc.platform) out.platform = desc.platform;
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}

/** The text of `--descriptor`: compact with no newline (as ORAS), or indented with one (`--pretty`). */
export function descriptorText(value: unknown, pretty: boolean): string {
  return pretty ? `${goJson(value, true)}\n` : goJson(value);
}

/**
 * The descriptor ORAS reports for what `ref` named. A layout tag gives its `index.json` entry as
 * stored, tag annotation included; a layout digest gives media type, digest and size only. Anything
 * else (a registry, a platform picked from an index) is shown as resolved.
 */
export function shownDescriptor(ref: Reference, desc: Descriptor, named: Descriptor = desc): Descriptor {
  if (ref.kind !== "layout" || desc.digest !== named.digest) return desc;
  if (ref.digest) return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (!ref.tag) return desc;
  return { ...desc, annotations: { ...desc.annotations, [Annotation.refName]: ref.tag } };
}
