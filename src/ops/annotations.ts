/**
 * Annotations for push and attach, ORAS-compatible: `-a key=value` flags for the manifest, and an
 * annotation file `{"$manifest": {...}, "$config": {...}, "<file>": {...}}`.
 */
import { readFile } from "node:fs/promises";
import { fileError } from "../content/files/source.ts";
import { SkiffError } from "../errors.ts";
import { isObject } from "../oci/descriptor.ts";
import { Annotation } from "../oci/media-types.ts";

/** Annotation-file key for the manifest's own annotations. */
const MANIFEST_KEY = "$manifest";
/** Annotation-file key for the config descriptor's annotations. */
const CONFIG_KEY = "$config";

/** Annotations sorted by where they go. */
export interface Annotations {
  manifest: Record<string, string>;
  config: Record<string, string>;
  /** Per file, keyed by the file name as given on the command line or by its title. */
  files: Record<string, Record<string, string>>;
}

export function emptyAnnotations(): Annotations {
  return { manifest: {}, config: {}, files: {} };
}

function invalid(source: string, problem: string): never {
  throw new SkiffError(
    "INVALID_INPUT",
    `invalid annotation file ${source}: ${problem}`,
    'expected {"$manifest": {"key": "value"}, "$config": {...}, "<file name>": {...}} with string values',
  );
}

/** Parses annotation-file bytes; `source` names the file in errors. */
export function parseAnnotationFile(bytes: Uint8Array, source: string): Annotations {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : "not UTF-8 text";
    return invalid(source, `not valid JSON (${why})`);
  }
  if (!isObject(json)) invalid(source, "must be a JSON object");
  const out = emptyAnnotations();
  for (const [key, value] of Object.entries(json)) {
    if (key === "") invalid(source, "an empty key is not a file name");
    if (!isObject(value)) invalid(source, `"${key}" must map to an object of string values`);
    const map: Record<string, string> = {};
    for (const [name, item] of Object.entries(value)) {
      if (name === "") invalid(source, `"${key}" has an empty annotation key`);
      if (typeof item !== "string") {
        invalid(source, `"${key}"."${name}" must be a string, got ${JSON.stringify(item)}`);
      }
      map[name] = item;
    }
    if (key === MANIFEST_KEY) out.manifest = map;
    else if (key === CONFIG_KEY) out.config = map;
    else out.files[key] = map;
  }
  return out;
}

/** Reads and parses an annotation file. */
async function readAnnotationFile(path: string): Promise<Annotations> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, path, "annotation file");
  }
  return parseAnnotationFile(bytes, path);
}

/**
 * Parses repeated `-a key=value` flags (the value may contain `=`; the key may not be empty or
 * repeated).
 */
export function parseAnnotationFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new SkiffError(
        "USAGE",
        `annotation value doesn't match the required format: "${value}" is not KEY=VALUE`,
        'e.g. -a "key=value"',
      );
    }
    const key = value.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new SkiffError("USAGE", `annotation "${key}" is given twice`);
    out[key] = value.slice(eq + 1);
  }
  return out;
}

/**
 * Annotations from `-a` flags and an optional annotation file. Unlike ORAS, both may be used
 * together; a manifest key set in both places is an error rather than a silent override.
 */
export async function loadAnnotations(flags: readonly string[], file?: string): Promise<Annotations> {
  const fromFlags = parseAnnotationFlags(flags);
  const out = file === undefined ? emptyAnnotations() : await readAnnotationFile(file);
  for (const [key, value] of Object.entries(fromFlags)) {
    if (Object.hasOwn(out.manifest, key)) {
      throw new SkiffError(
        "USAGE",
        `annotation "${key}" is set by -a and by ${MANIFEST_KEY} in ${file}`,
        "set it in one place only",
      );
    }
    out.manifest[key] = value;
  }
  return out;
}

/** RFC 3339 in UTC at second precision, e.g. `2024-05-01T12:00:00Z` (what ORAS writes). */
export function formatCreated(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** True when `value` is an RFC 3339 date-time. */
export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * Seconds since the epoch from `SOURCE_DATE_EPOCH` (https://reproducible-builds.org), or
 * undefined when it is not set. A value that is not a non-negative integer is an error.
 */
export function sourceDateEpoch(env: Record<string, string | undefined>): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw.trim()))) {
    throw new SkiffError(
      "USAGE",
      `SOURCE_DATE_EPOCH="${raw}" is not a whole number of seconds since 1970-01-01`,
      "e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)",
    );
  }
  return Number(raw.trim());
}

/**
 * Manifest or index annotations with `org.opencontainers.image.created`: the user's value (RFC 3339 checked),
 * else `created` (a date; `null` omits it; undefined is now).
 */
export function withCreated(
  annotations: Record<string, string>,
  created: string | null | undefined,
  now: () => Date = () => new Date(),
): Record<string, string> {
  const out = { ...annotations };
  const given = out[Annotation.created];
  if (given !== undefined) {
    if (!isRfc3339(given)) {
      throw new SkiffError(
        "USAGE",
        `annotation ${Annotation.created}="${given}" is not an RFC 3339 date-time`,
        "e.g. 2024-05-01T12:00:00Z",
      );
    }
  } else if (created !== null) {
    out[Annotation.created] = created ?? formatCreated(now());
  }
  return out;
}
