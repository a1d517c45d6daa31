/**
 * Reading what a registry serves: the media type of a `Content-Type`, a `Content-Range`, a
 * `Docker-Content-Digest` that contradicts the content, and the `mediaType` a manifest declares
 * checked against the type it was served as.
 */
import { SkiffError } from "../../errors.ts";
import { isDigest, parseDigest } from "../../oci/digest.ts";
import { decodeJson, detectManifestMediaType } from "../../oci/manifest.ts";

/** The media type of a `Content-Type` value, without parameters. */
export function contentMediaType(value: string | null): string | undefined {
  if (!value) return undefined;
  const type = value.split(";")[0]!.trim().toLowerCase();
  return type === "" ? undefined : type;
}

/** Parses `Content-Range: bytes START-END/TOTAL`; undefined when absent or unreadable. */
export function parseContentRange(
  value: string | null,
): { start: number; end: number; total?: number } | undefined {
  if (!value) return undefined;
  const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (!match) return undefined;
  const out: { start: number; end: number; total?: number } = {
    start: Number(match[1]),
    end: Number(match[2]),
  };
  if (match[3] !== "*") out.total = Number(match[3]);
  return out;
}

/**
 * True when a `Docker-Content-Digest` header names another digest than `digest` with the same
 * algorithm. A header of another algorithm (or none, or an unreadable one) says nothing about it.
 */
export function contradicts(header: string | null | undefined, digest: string): boolean {
  return (
    !!header &&
    isDigest(header) &&
    header !== digest &&
    parseDigest(header).algorithm === parseDigest(digest).algorithm
  );
}

/** Content types that say nothing about which manifest this is. */
const GENERIC_TYPES = new Set([
  "application/json",
  "text/plain",
  "application/octet-stream",
  "binary/octet-stream",
]);

/**
 * The media type the body itself declares (`mediaType` field), checked against the one the registry
 * served it as (or the descriptor's): a manifest whose `mediaType` contradicts its `Content-Type` is
 * refused.
 */
export function checkDeclaredMediaType(bytes: Uint8Array, served: string | undefined, where: string): string {
  const json = decodeJson(bytes, where);
  const declared =
    typeof json === "object" &&
    json !== null &&
    typeof (json as { mediaType?: unknown }).mediaType === "string"
      ? ((json as { mediaType: string }).mediaType as string)
      : undefined;
  if (declared && served && !GENERIC_TYPES.has(served) && declared !== served) {
    throw new SkiffError(
      "INVALID_MANIFEST",
      `${where}: the manifest says mediaType "${declared}" but was served as "${served}"`,
    );
  }
  if (served && !GENERIC_TYPES.has(served)) return served;
  return declared ?? detectManifestMediaType(bytes, where);
}
