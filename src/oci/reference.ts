import { SkiffError } from "../errors.ts";
import { parseDigest } from "./digest.ts";

/** `host[:port]/repository[:tag][@digest]` on a registry. */
export interface RegistryReference {
  kind: "registry";
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** An OCI image layout (directory or tar archive) with an optional tag or digest. */
export interface LayoutReference {
  kind: "layout";
  path: string;
  tag?: string;
  digest?: string;
  /** The path came from `--oci-layout-path` and the argument named only the tag or digest. */
  byPathFlag?: true;
}

export type Reference = RegistryReference | LayoutReference;

interface ParseReferenceOptions {
  /** `--oci-layout`: the argument is `PATH[:tag|@digest]`. */
  layout?: boolean;
  /** `--oci-layout-path DIR`: the layout is DIR and the whole argument is the tag or digest. */
  layoutPath?: string;
  /** Accept `:t1,t2,...` (push, cp, index create targets); all tags land in `tags`. */
  tagList?: boolean;
}

/** A parsed reference plus every tag of a `:t1,t2` list (empty when none). */
export type ParsedReference = Reference & { tags: string[] };

export const LAYOUT_SCHEME = "oci-layout://";

export function isRegistryReference(ref: Reference): ref is RegistryReference {
  return ref.kind === "registry";
}

/** A reference as a user types it: layouts with their `oci-layout://` scheme. */
export function displayReference(ref: Reference): string {
  return isRegistryReference(ref) ? formatReference(ref) : `${LAYOUT_SCHEME}${formatReference(ref)}`;
}

const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$/;
const MAX_NAME = 255;
/** The shape of a registry reference, in the notation ORAS's errors use. */
const REFERENCE_FORM = "<registry>/<repo>[:tag|@digest]";

/** ORAS's form, which scripts may look for: `"REF": invalid reference: WHY`. */
function invalid(text: string, why: string, hint?: string): never {
  throw new SkiffError("INVALID_REFERENCE", `"${text}": invalid reference: ${why}`, hint);
}

/**
 * The error for a reference that names neither a tag nor a digest where one is needed, with
 * ORAS's words (`"NAME": no tag or digest specified`), which scripts grep for. `where` names the
 * reference as the user wrote it; a usage error (`code`) also shows the command's usage line.
 */
export function noTagOrDigest(
  where: string,
  hint = `add :TAG or @DIGEST, e.g. ${where}:latest`,
  code: "USAGE" | "INVALID_REFERENCE" = "INVALID_REFERENCE",
): SkiffError {
  return new SkiffError(code, `"${where}": no tag or digest specified`, hint);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Throws a clear error unless `tag` follows the distribution tag grammar. */
export function checkTag(tag: string, text: string): void {
  if (!isValidTag(tag)) {
    invalid(text, `tag "${tag}" must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
  }
}

function checkDigest(digest: string, text: string): void {
  try {
    parseDigest(digest);
  } catch (error) {
    invalid(text, (error as Error).message);
  }
}

function splitTags(raw: string, text: string, tagList: boolean): string[] {
  const tags = tagList ? raw.split(",") : [raw];
  for (const tag of tags) checkTag(tag, text);
  return tags;
}

/** Parses `host[:port]/repo[:tag][@digest]`, the distribution grammar. */
export function parseRegistryReference(
  text: string,
  tagList = false,
): RegistryReference & { tags: string[] } {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, text);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) {
    invalid(
      text,
      slash === 0 ? 'invalid registry ""' : "missing registry host",
      `use ${REFERENCE_FORM}, or oci-layout://PATH for a layout`,
    );
  }
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  if (!HOST.test(registry)) {
    invalid(
      text,
      `"${registry}" is not a registry host`,
      "for an OCI layout directory or tar, write oci-layout://PATH[:tag|@digest] or pass --oci-layout",
    );
  }
  let tags: string[] = [];
  const colon = path.lastIndexOf(":");
  if (colon !== -1) {
    // `repo:` is `repo` without a tag, as ORAS reads it.
    if (colon < path.length - 1) tags = splitTags(path.slice(colon + 1), text, tagList);
    path = path.slice(0, colon);
  }
  if (!REPOSITORY.test(path)) {
    invalid(
      text,
      `repository "${path}" must be lowercase letters, digits and separators (._-/)`,
      `use ${REFERENCE_FORM}`,
    );
  }
  if (registry.length + 1 + path.length > MAX_NAME)
    invalid(text, `name is longer than ${MAX_NAME} characters`);
  const ref: RegistryReference & { tags: string[] } = { kind: "registry", registry, repository: path, tags };
  if (tags[0] !== undefined) ref.tag = tags[0];
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

const DRIVE = /^[a-zA-Z]:[\\/]/;

/**
 * Parses `PATH[:tag|@digest]` with ORAS's rules: a digest splits at the last `@`, a tag at the
 * last `:`; a Windows drive letter is never a separator, nor a colon followed by a path separator.
 * `PATH:` (an empty tag) is PATH without a tag.
 */
export function parseLayoutReference(text: string, tagList = false): LayoutReference & { tags: string[] } {
  if (text === "") invalid(text, "empty layout path");
  const at = text.lastIndexOf("@");
  if (at > 0 && /^[a-z0-9]+:/.test(text.slice(at + 1))) {
    const digest = text.slice(at + 1);
    checkDigest(digest, text);
    return { kind: "layout", path: text.slice(0, at), digest, tags: [] };
  }
  const colon = text.lastIndexOf(":");
  const isDrive = colon === 1 && DRIVE.test(text);
  if (colon > 0 && !isDrive && !/[\\/]/.test(text.slice(colon + 1))) {
    const path = text.slice(0, colon);
    if (colon === text.length - 1) return { kind: "layout", path, tags: [] };
    const tags = splitTags(text.slice(colon + 1), text, tagList);
    return { kind: "layout", path, tag: tags[0]!, tags };
  }
  return { kind: "layout", path: text, tags: [] };
}

/**
 * Parses any reference a command takes: `oci-layout://PATH[:tag|@digest]` anywhere, a layout
 * when `--oci-layout`/`--oci-layout-path` applies, else a registry reference.
 */
export function parseReference(text: string, options: ParseReferenceOptions = {}): ParsedReference {
  const tagList = options.tagList ?? false;
  if (text.startsWith(LAYOUT_SCHEME)) return parseLayoutReference(text.slice(LAYOUT_SCHEME.length), tagList);
  if (options.layoutPath !== undefined) {
    const path = options.layoutPath;
    if (text === "") return { kind: "layout", path, tags: [], byPathFlag: true };
    if (/^[a-z0-9]+:/.test(text)) {
      checkDigest(text, text);
      return { kind: "layout", path, digest: text, tags: [], byPathFlag: true };
    }
    const tags = splitTags(text, text, tagList);
    return { kind: "layout", path, tag: tags[0]!, tags, byPathFlag: true };
  }
  if (options.layout) return parseLayoutReference(text, tagList);
  return parseRegistryReference(text, tagList);
}

/** The reference as text: `host/repo[:tag][@digest]` or `PATH[:tag]`/`PATH@digest`. */
export function formatReference(ref: Reference): string {
  const name = referenceName(ref);
  if (ref.digest)
    return ref.kind === "layout"
      ? `${name}@${ref.digest}`
      : `${name}${ref.tag ? `:${ref.tag}` : ""}@${ref.digest}`;
  return ref.tag ? `${name}:${ref.tag}` : name;
}

/** The place without tag or digest: `host/repo` or the layout path. */
export function referenceName(ref: Reference): string {
  return ref.kind === "registry" ? `${ref.registry}/${ref.repository}` : ref.path;
}

/** A copy of `ref` pointing at `digest` with no tag. */
export function withDigest<R extends Reference>(ref: R, digest: string): R {
  const { tag: _tag, ...rest } = ref;
  return { ...rest, digest } as R;
}
