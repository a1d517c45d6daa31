/**
 * JSON exactly as ORAS prints it, which is Go's encoding/json: `<`, `>` and `&` escaped as
 * `\u003c`, `\u003e`, `\u0026`, U+2028 and U+2029 escaped, `\b` and `\f` written as `\u0008` and
 * `\u000c`, and the keys of maps (annotations, a manifest's content) sorted.
 */

const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
  "\\b": "\\u0008",
  "\\f": "\\u000c",
};

/** JSON text of `value` (2-space indent when `indent`), escaped as Go escapes it. */
export function goJson(value: unknown, indent = false): string {
  const text = JSON.stringify(value, null, indent ? 2 : undefined) ?? "null";
  // Escapes are matched whole (`\\` first), so an escaped backslash followed by `b` stays as it is.
  return text.replace(/\\u[0-9a-fA-F]{4}|\\.|[<>&\u2028\u2029]/g, (match) => GO_ESCAPES[match] ?? match);
}

/** A copy of a string map with its keys sorted, as Go writes a map. */
export function sortedMap<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort(byteOrder)) out[key] = record[key]!;
  return out;
}

/** `value` with the keys of every object sorted: a JSON document read into Go's `map[string]any`. */
export function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort(byteOrder)) out[key] = sortedDeep(record[key]);
  return out;
}

/** Go sorts map keys by their UTF-8 bytes; for strings without surrogates that is code point order. */
function byteOrder(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
