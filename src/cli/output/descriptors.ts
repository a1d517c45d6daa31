/**
 * Descriptors as commands print them: `--descriptor` JSON, pinned and tagged names, the result of
 * a push, and what the blob and manifest commands print.
 */
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { type Reference, referenceName } from "../../oci/reference.ts";
import { writeOutputFile } from "../files.ts";
import type { Console } from "../io.ts";
import { descriptorJson, isStructured, type OutputFormat, writeResult } from "./format.ts";
import { goJson, sortedDeep, sortedMap } from "./go-json.ts";
import { pushedLines, type Shown } from "./status.ts";

/** The descriptor as `--descriptor` prints it: the OCI fields in the spec's (and Go's) order, annotations sorted. */
export function plainDescriptor(desc: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (desc.urls && desc.urls.length > 0) out.urls = desc.urls;
  if (desc.annotations && Object.keys(desc.annotations).length > 0) {
    out.annotations = sortedMap(desc.annotations);
  }
  if (desc.data !== undefined) out.data = desc.data;
  if (desc.platform) out.platform = desc.platform;
  if (desc.artifactType) out.artifactType = desc.artifactType;
  return out;
}

/** The text of `--descriptor`: compact with no newline (as ORAS), or indented with one (`--pretty`). */
export function descriptorText(value: unknown, pretty: boolean): string {
  return pretty ? `${goJson(value, true)}\n` : goJson(value);
}

/** The bytes of a JSON document, re-indented with `--pretty`. */
function prettyBytes(bytes: Uint8Array, pretty: boolean): Uint8Array {
  if (!pretty) return bytes;
  return new TextEncoder().encode(
    `${JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2)}\n`,
  );
}

/** `repo@digest` or `layoutPath@digest`: the `reference` of JSON output. */
export function pinnedName(ref: Reference, digest: string): string {
  return `${referenceName(ref)}@${digest}`;
}

/** The result of push in JSON and templates (ORAS keys, plus `referenceAsTags`, sorted as ORAS sorts them). */
export function pushResultJson(ref: Reference, desc: Descriptor, tags: string[]): Record<string, unknown> {
  const name = referenceName(ref);
  return descriptorJson(pinnedName(ref, desc.digest), desc, {
    referenceAsTags: [...tags].sort().map((tag) => `${name}:${tag}`),
  });
}

/** How a pushed root is shown: `name:tag1,tag2`, or `name@digest` without tags. */
export function taggedName(ref: Reference, tags: readonly string[], digest: string): string {
  const name = referenceName(ref);
  return tags.length > 0 ? `${name}:${tags.join(",")}` : `${name}@${digest}`;
}

/** The `--descriptor`, `--pretty` and `-o` flags of the blob and manifest commands. */
interface DocumentFlags {
  descriptor?: boolean;
  pretty?: boolean;
  output?: string;
}

/**
 * What `blob push` and `manifest push` print: the descriptor, JSON or a template, or ORAS's
 * `Pushed: [registry] NAME` with a `Tagged TAG` line for each of `moreTags`.
 */
export function printPushed(
  console: Console,
  format: OutputFormat,
  flags: DocumentFlags,
  pushed: { shown: Shown; desc: Descriptor; moreTags?: readonly string[] },
): void {
  const { shown, desc } = pushed;
  if (flags.descriptor) {
    // What was pushed, as ORAS describes it: media type, digest and size (no artifactType).
    const { mediaType, digest, size } = desc;
    console.out(descriptorText({ mediaType, digest, size }, Boolean(flags.pretty)));
    return;
  }
  if (writeResult(console, format, descriptorJson(pinnedName(shown.ref, desc.digest), desc))) return;
  console.out(pushedLines(shown, desc.digest, undefined, { colon: true, tags: pushed.moreTags ?? [] }));
}

/**
 * Refuses the flag combinations of `manifest fetch` and `fetch-config` that ORAS refuses: one
 * stdout cannot carry two things, and `--descriptor`/`--pretty` are shapes of their own.
 */
export function checkFetchFlags(flags: DocumentFlags & { format?: string }, format: OutputFormat): void {
  const conflict = (message: string) => new SkiffError("USAGE", message, "leave one of them out");
  if (flags.output === "-" && isStructured(format)) {
    throw conflict(`\`--output -\` cannot be used with \`--format ${flags.format}\` at the same time`);
  }
  if (flags.output === "-" && flags.descriptor) {
    throw conflict("`--descriptor` cannot be used with `--output -` at the same time");
  }
  if (flags.format !== undefined && flags.descriptor) {
    throw conflict("--format, --descriptor cannot be used at the same time");
  }
  if (flags.format !== undefined && flags.pretty) {
    throw conflict("--format, --pretty cannot be used at the same time");
  }
}

/**
 * What `manifest fetch` and `fetch-config` print: the descriptor (without fetching), the document
 * into a file (and the descriptor, or the JSON or template result), or the document on stdout: as
 * stored, re-indented with `--pretty`, or as `content` in JSON and templates.
 */
export async function printFetched(
  console: Console,
  format: OutputFormat,
  flags: DocumentFlags,
  fetched: { ref: Reference; desc: Descriptor; what: string; fetch: () => Promise<Uint8Array> },
): Promise<void> {
  const { ref, desc } = fetched;
  const pretty = Boolean(flags.pretty);
  const { output } = flags;
  if (flags.descriptor && output === undefined) {
    if (writeResult(console, format, descriptorJson(pinnedName(ref, desc.digest), desc))) return;
    console.out(descriptorText(plainDescriptor(desc), pretty));
    return;
  }
  const bytes = await fetched.fetch();
  if (output !== undefined && output !== "-") {
    await writeOutputFile(output, bytes);
    if (flags.descriptor) console.out(descriptorText(plainDescriptor(desc), pretty));
    // With a format, the result goes to stdout as well (as ORAS).
    if (!isStructured(format)) return;
  }
  if (isStructured(format)) {
    let content: unknown;
    try {
      // ORAS reads the document into a map: its keys come out sorted.
      content = sortedDeep(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      throw new SkiffError(
        "UNSUPPORTED",
        `the ${fetched.what} ${desc.digest} is not JSON; use -o FILE to save it`,
      );
    }
    writeResult(console, format, descriptorJson(pinnedName(ref, desc.digest), desc, { content }));
    return;
  }
  let shown = bytes;
  try {
    shown = prettyBytes(bytes, pretty);
  } catch {
    // not JSON: printed as is
  }
  console.outBytes(shown);
}
