/** The functions templates may call: Go's built-ins, JSON, and (sprig.ts) the Sprig subset. */
import { encoder, formatValue, isMap, sprint, sprintf, toJson, truthy, typeName } from "./values.ts";

export class CallError extends Error {}

export function wantString(value: unknown, what = "value"): string {
  if (typeof value === "string") return value;
  throw new CallError(`wrong type for ${what}; expected string; got ${typeName(value)}`);
}

export function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new CallError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
}

export function isNil(value: unknown): boolean {
  return value === undefined || value === null;
}

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

export type Func = (args: unknown[]) => unknown;

export const FUNCTIONS: Record<string, Func> = {
  // Go built-ins.
  index: (args) => {
    arity("index", args, 1, Infinity);
    return args.slice(1).reduce((item, key) => indexInto(item, key), args[0]);
  },
  len: (args) => {
    arity("len", args, 1);
    const value = args[0];
    if (typeof value === "string") return encoder.encode(value).length;
    if (Array.isArray(value)) return value.length;
    if (isMap(value)) return Object.keys(value).length;
    throw new CallError(
      `len of ${value === undefined || value === null ? "<no value>" : `type ${typeName(value)}`}`,
    );
  },
  printf: (args) => {
    arity("printf", args, 1, Infinity);
    return sprintf(wantString(args[0], "format"), args.slice(1));
  },
  print: (args) => sprint(args),
  println: (args) => `${args.map(formatValue).join(" ")}\n`,
  not: (args) => {
    arity("not", args, 1);
    return !truthy(args[0]);
  },
  // `and` and `or` are evaluated lazily by the executor; these handle plain calls.
  and: (args) => {
    arity("and", args, 1, Infinity);
    return args.find((arg) => !truthy(arg)) ?? args[args.length - 1];
  },
  or: (args) => {
    arity("or", args, 1, Infinity);
    return args.find((arg) => truthy(arg)) ?? args[args.length - 1];
  },
  eq: (args) => {
    arity("eq", args, 2, Infinity);
    return args.slice(1).some((arg) => compareBasic("eq", args[0], arg) === 0);
  },
  ne: (args) => {
    arity("ne", args, 2);
    return compareBasic("ne", args[0], args[1]) !== 0;
  },
  lt: (args) => {
    arity("lt", args, 2);
    return compareBasic("lt", args[0], args[1]) < 0;
  },
  le: (args) => {
    arity("le", args, 2);
    return compareBasic("le", args[0], args[1]) <= 0;
  },
  gt: (args) => {
    arity("gt", args, 2);
    return compareBasic("gt", args[0], args[1]) > 0;
  },
  ge: (args) => {
    arity("ge", args, 2);
    return compareBasic("ge", args[0], args[1]) >= 0;
  },
  // JSON, as in Docker (`json`) and Sprig (`toJson`, `toPrettyJson`).
  json: (args) => {
    arity("json", args, 1);
    return toJson(args[0]);
  },
  toJson: (args) => {
    arity("toJson", args, 1);
    return toJson(args[0]);
  },
  toPrettyJson: (args) => {
    arity("toPrettyJson", args, 1);
    return toJson(args[0], 2);
  },
  // A few Sprig string helpers, with Sprig's argument order (the subject comes last, for pipelines).
  join: (args) => {
    arity("join", args, 2);
    const list = args[1];
    if (!Array.isArray(list)) throw new CallError(`join needs a list, got ${typeName(list)}`);
    return list.map(formatValue).join(wantString(args[0], "separator"));
  },
  upper: (args) => {
    arity("upper", args, 1);
    return wantString(args[0]).toUpperCase();
  },
  lower: (args) => {
    arity("lower", args, 1);
    return wantString(args[0]).toLowerCase();
  },
  trim: (args) => {
    arity("trim", args, 1);
    return wantString(args[0]).trim();
  },
  trimPrefix: (args) => {
    arity("trimPrefix", args, 2);
    const [prefix, text] = [wantString(args[0]), wantString(args[1])];
    return text.startsWith(prefix) ? text.slice(prefix.length) : text;
  },
  trimSuffix: (args) => {
    arity("trimSuffix", args, 2);
    const [suffix, text] = [wantString(args[0]), wantString(args[1])];
    return suffix && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text;
  },
  hasPrefix: (args) => {
    arity("hasPrefix", args, 2);
    return wantString(args[1]).startsWith(wantString(args[0]));
  },
  hasSuffix: (args) => {
    arity("hasSuffix", args, 2);
    return wantString(args[1]).endsWith(wantString(args[0]));
  },
  contains: (args) => {
    arity("contains", args, 2);
    return wantString(args[1]).includes(wantString(args[0]));
  },
  replace: (args) => {
    arity("replace", args, 3);
    return wantString(args[2]).split(wantString(args[0])).join(wantString(args[1]));
  },
  default: (args) => {
    arity("default", args, 1, 2);
    return args.length === 2 && truthy(args[1]) ? args[1] : args[0];
  },
  keys: (args) => {
    arity("keys", args, 1);
    if (!isMap(args[0])) throw new CallError(`keys needs a map, got ${typeName(args[0])}`);
    return Object.keys(args[0]).sort();
  },
};

/** Names of the functions templates may call (for docs and tests). */
export const templateFunctions: readonly string[] = Object.keys(FUNCTIONS);
