/**
 * The functions templates may call: Go's text/template built-ins, JSON as ORAS's templates write
 * it (Sprig's toJson: Go's encoder, keys sorted), and the Sprig subset of sprig-*.ts. ORAS gives
 * its templates Sprig's TxtFuncMap, so CI templates use these names and argument orders.
 */
import { goJson, sortedDeep } from "../go-json.ts";
import { CallError, type Func, functionTable, isNil, wantString } from "./calls.ts";
import { SPRIG_LISTS } from "./sprig-lists.ts";
import { SPRIG_MISC } from "./sprig-misc.ts";
import { SPRIG_STRINGS } from "./sprig-strings.ts";
import { encoder, formatValue, isMap, sprint, sprintf, truthy, typeName } from "./values.ts";

export { CallError, isNil } from "./calls.ts";

/** Go's basic comparison: numbers with numbers, strings with strings; eq/ne also take bools and nil. */
function compareBasic(name: string, a: unknown, b: unknown): number {
  const equality = name === "eq" || name === "ne";
  for (const value of [a, b]) {
    if (typeof value === "object" && value !== null)
      throw new CallError(`non-comparable type ${typeName(value)}`);
  }
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (equality) {
    if (isNil(a) && isNil(b)) return 0;
    // A missing value equals only nil (and another missing value).
    if (isNil(a) || isNil(b)) return 1;
    if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : 1;
  }
  throw new CallError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
}

function indexInto(item: unknown, key: unknown): unknown {
  if (item === undefined || item === null) return undefined;
  if (Array.isArray(item) || typeof item === "string") {
    if (typeof key !== "number" || !Number.isInteger(key)) {
      throw new CallError(`cannot index ${typeName(item)} with ${typeName(key)}`);
    }
    const length = typeof item === "string" ? encoder.encode(item).length : item.length;
    if (key < 0 || key >= length) throw new CallError(`index out of range: ${key}`);
    return typeof item === "string" ? encoder.encode(item)[key] : item[key];
  }
  if (isMap(item)) {
    if (typeof key !== "string") throw new CallError(`value has type ${typeName(key)}; should be string`);
    return Object.hasOwn(item, key) ? item[key] : undefined;
  }
  throw new CallError(`can't index item of type ${typeName(item)}`);
}

const HTML: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;" };

/** Go's template.HTMLEscapeString. */
function htmlEscape(text: string): string {
  return text.replace(/[<>&'"\0]/g, (c) => HTML[c] ?? "\uFFFD");
}

const JS: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  '"': '\\"',
  "<": "\\u003C",
  ">": "\\u003E",
  "&": "\\u0026",
  "=": "\\u003D",
};

/** Go's template.JSEscapeString. */
function jsEscape(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (JS[c]) out += JS[c];
    else if (code < 0x20) out += `\\u00${code.toString(16).toUpperCase().padStart(2, "0")}`;
    else if (code >= 0x7f && code < 0xa0) out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += c;
  }
  return out;
}

/** Go's url.QueryEscape: spaces become `+`, everything but `A-Za-z0-9-_.~` is %-escaped. */
function queryEscape(text: string): string {
  return Array.from(encoder.encode(text), (byte) => {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === " ") return "+";
    return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/** JSON as ORAS's toJson writes it: Go's encoder on the data as a map, so keys come sorted. */
function toJson(value: unknown, indent = false): string {
  return goJson(sortedDeep(isNil(value) ? null : value), indent);
}

function fromJson(text: unknown, strict: boolean): unknown {
  try {
    return JSON.parse(wantString(text));
  } catch (error) {
    if (strict) throw new CallError((error as Error).message);
    return "";
  }
}

const GO_BUILTINS: Record<string, Func> = {
  ...functionTable({
    index: [1, Infinity, (item: unknown, ...keys: unknown[]) => keys.reduce(indexInto, item)],
    len: [
      1,
      1,
      (value: unknown) => {
        if (typeof value === "string") return encoder.encode(value).length;
        if (Array.isArray(value)) return value.length;
        if (isMap(value)) return Object.keys(value).length;
        throw new CallError(`len of ${isNil(value) ? "<no value>" : `type ${typeName(value)}`}`);
      },
    ],
    printf: [
      1,
      Infinity,
      (format: unknown, ...args: unknown[]) => sprintf(wantString(format, "format"), args),
    ],
    not: [1, 1, (value: unknown) => !truthy(value)],
    // `and` and `or` are evaluated lazily by the executor; these handle plain calls.
    and: [1, Infinity, (...args: unknown[]) => args.find((arg) => !truthy(arg)) ?? args[args.length - 1]],
    or: [1, Infinity, (...args: unknown[]) => args.find((arg) => truthy(arg)) ?? args[args.length - 1]],
    eq: [2, Infinity, (a: unknown, ...rest: unknown[]) => rest.some((b) => compareBasic("eq", a, b) === 0)],
    ne: [2, 2, (a: unknown, b: unknown) => compareBasic("ne", a, b) !== 0],
    lt: [2, 2, (a: unknown, b: unknown) => compareBasic("lt", a, b) < 0],
    le: [2, 2, (a: unknown, b: unknown) => compareBasic("le", a, b) <= 0],
    gt: [2, 2, (a: unknown, b: unknown) => compareBasic("gt", a, b) > 0],
    ge: [2, 2, (a: unknown, b: unknown) => compareBasic("ge", a, b) >= 0],
  }),
  print: (args) => sprint(args),
  println: (args) => `${args.map(formatValue).join(" ")}\n`,
  html: (args) => htmlEscape(sprint(args)),
  js: (args) => jsEscape(sprint(args)),
  urlquery: (args) => queryEscape(sprint(args)),
};

const JSON_FUNCTIONS: Record<string, Func> = functionTable({
  toJson: [1, 1, (value: unknown) => toJson(value)],
  mustToJson: [1, 1, (value: unknown) => toJson(value)],
  // Docker's name for the same thing.
  json: [1, 1, (value: unknown) => toJson(value)],
  toPrettyJson: [1, 1, (value: unknown) => toJson(value, true)],
  mustToPrettyJson: [1, 1, (value: unknown) => toJson(value, true)],
  toRawJson: [1, 1, (value: unknown) => JSON.stringify(sortedDeep(isNil(value) ? null : value))],
  mustToRawJson: [1, 1, (value: unknown) => JSON.stringify(sortedDeep(isNil(value) ? null : value))],
  fromJson: [1, 1, (text: unknown) => fromJson(text, false)],
  mustFromJson: [1, 1, (text: unknown) => fromJson(text, true)],
});

export const FUNCTIONS: Record<string, Func> = {
  ...SPRIG_STRINGS,
  ...SPRIG_LISTS,
  ...SPRIG_MISC,
  ...JSON_FUNCTIONS,
  ...GO_BUILTINS,
};

/** Names of the functions templates may call (for docs and tests). */
export const templateFunctions: readonly string[] = Object.keys(FUNCTIONS).sort();
