/** Go's view of JSON data in templates: truth, type names, how values print, and fmt's printf. */

export type Json = Record<string, unknown>;

export function isMap(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Go's truth: false, 0, nil, "", and empty arrays and maps are false. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

/** Go's type names for JSON data, used in error messages and %!verb(type=value). */
export function typeName(value: unknown): string {
  if (value === undefined || value === null) return "<nil>";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (Array.isArray(value)) return "[]interface {}";
  return "map[string]interface {}";
}

function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  // Go writes exponents with at least two digits: 1e-07, 1e+21.
  return String(value).replace(/e([+-])(\d)$/, "e$10$2");
}

/** Go's %v for JSON data: maps print as map[k:v ...] in key order, arrays as [a b]. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(" ")}]`;
  if (isMap(value)) {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((key) => `${key}:${formatValue(value[key])}`).join(" ")}]`;
  }
  return String(value);
}

/** How an action prints its final value: like %v, but a missing value is `<no value>`. */
export function printValue(value: unknown): string {
  return value === undefined || value === null ? "<no value>" : formatValue(value);
}

export function goQuote(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

export const encoder = new TextEncoder();

function hexOf(value: unknown, upper: boolean): string | undefined {
  let hex: string | undefined;
  if (typeof value === "string") {
    hex = Array.from(encoder.encode(value), (byte) => byte.toString(16).padStart(2, "0")).join("");
  } else if (typeof value === "number" && Number.isInteger(value)) {
    hex = (value < 0 ? "-" : "") + Math.abs(value).toString(16);
  }
  return hex !== undefined && upper ? hex.toUpperCase() : hex;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  width?: number;
  precision?: number;
}

/** Pads to the width in characters (Go counts runes, not bytes). */
function pad(text: string, spec: Spec, numeric: boolean): string {
  const length = Array.from(text).length;
  if (spec.width === undefined || length >= spec.width) return text;
  const fill = spec.width - length;
  if (spec.minus) return text + " ".repeat(fill);
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(text) ? text[0]! : "";
    return sign + "0".repeat(fill) + text.slice(sign.length);
  }
  return " ".repeat(fill) + text;
}

/** One printf verb on one value; `undefined` means a bad verb for this value. */
function formatVerb(verb: string, value: unknown, spec: Spec): string | undefined {
  const signed = (text: string, n: number): string => (spec.plus && n >= 0 ? `+${text}` : text);
  if (Array.isArray(value) && "sdqxX".includes(verb)) {
    const parts = value.map(
      (item) => formatVerb(verb, item, { ...spec, width: undefined }) ?? badVerb(verb, item),
    );
    return `[${parts.join(" ")}]`;
  }
  if (isMap(value) && "sdqxX".includes(verb)) {
    // As Go's fmt: the verb applies to each key and value, in key order.
    const each = (item: unknown): string =>
      formatVerb(verb, item, { ...spec, width: undefined }) ?? badVerb(verb, item);
    const parts = Object.keys(value)
      .sort()
      .map((key) => `${each(key)}:${each(value[key])}`);
    return `map[${parts.join(" ")}]`;
  }
  switch (verb) {
    case "v":
      return typeof value === "number" ? signed(formatNumber(value), value) : formatValue(value);
    case "s":
      if (typeof value !== "string") return undefined;
      return spec.precision === undefined ? value : Array.from(value).slice(0, spec.precision).join("");
    case "q":
      return typeof value === "string" ? goQuote(value) : undefined;
    case "d":
      return typeof value === "number" && Number.isInteger(value) ? signed(String(value), value) : undefined;
    case "f":
    case "F":
      return typeof value === "number" ? signed(value.toFixed(spec.precision ?? 6), value) : undefined;
    case "g":
      return typeof value === "number" ? signed(formatNumber(value), value) : undefined;
    case "e": {
      if (typeof value !== "number") return undefined;
      const text = value.toExponential(spec.precision ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
      return signed(text, value);
    }
    case "x":
    case "X":
      return hexOf(value, verb === "X");
    case "t":
      return typeof value === "boolean" ? String(value) : undefined;
    default:
      return undefined;
  }
}

function badVerb(verb: string, value: unknown): string {
  if (value === undefined || value === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(value)}=${formatValue(value)})`;
}

/** Go's fmt.Sprintf for the verbs %v %s %q %d %f %g %e %x %X %t %% with flags - + 0, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = "";
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf("%", i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    const match = /^%([-+0 #]*)(\d+)?(?:\.(\d*))?(.)?/su.exec(format.slice(percent))!;
    i = percent + match[0].length;
    const verb = match[4];
    if (verb === undefined) {
      out += "%!(NOVERB)";
      break;
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    const flags = match[1] ?? "";
    const spec: Spec = {
      minus: flags.includes("-"),
      plus: flags.includes("+"),
      zero: flags.includes("0"),
    };
    if (match[2] !== undefined) spec.width = Number(match[2]);
    if (match[3] !== undefined) spec.precision = match[3] === "" ? 0 : Number(match[3]);
    if (next >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const value = args[next++];
    const text = formatVerb(verb, value, spec);
    out +=
      text === undefined
        ? badVerb(verb, value)
        : pad(text, spec, typeof value === "number" && verb !== "s" && verb !== "q");
  }
  if (next < args.length) {
    const extra = args
      .slice(next)
      .map((value) =>
        value === undefined || value === null ? "<nil>" : `${typeName(value)}=${formatValue(value)}`,
      );
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}

/** Go's fmt.Sprint: a space between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += formatValue(arg);
  });
  return out;
}
