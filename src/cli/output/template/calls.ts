/**
 * What template functions share: the error a call raises, argument counts and the conversions
 * Go's templates and Sprig apply to arguments (strings, lists, maps, int64 and float64).
 */
import { formatValue, isMap, type Json, typeName } from "./values.ts";

/** An error from a function call; the executor adds the position and the function's name. */
export class CallError extends Error {}

export type Func = (args: unknown[]) => unknown;

export function isNil(value: unknown): boolean {
  return value === undefined || value === null;
}

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new CallError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: each function checks the arguments it is given.
type Impl = (...args: any[]) => unknown;

/** `[min, max, impl]`: how many arguments a function takes (max `Infinity`: any number) and what it does. */
export type FunctionSpec = [number, number, Impl];

/**
 * A table of functions from `name: [min, max, impl]` (max `Infinity` for variadic ones); calls
 * with another number of arguments fail as Go's do.
 */
export function functionTable(spec: Record<string, FunctionSpec>): Record<string, Func> {
  const out: Record<string, Func> = {};
  for (const [name, [min, max, impl]] of Object.entries(spec)) {
    out[name] = (args) => {
      arity(name, args, min, max);
      return impl(...args);
    };
  }
  return out;
}

export function wantString(value: unknown, what = "value"): string {
  if (typeof value === "string") return value;
  throw new CallError(`wrong type for ${what}; expected string; got ${typeName(value)}`);
}

/** A list; a missing value is an empty list, as Sprig treats nil. */
export function wantList(value: unknown, name: string): unknown[] {
  if (isNil(value)) return [];
  if (Array.isArray(value)) return value;
  throw new CallError(`Cannot ${name} on type ${typeName(value)}`);
}

export function wantMap(value: unknown, name: string): Json {
  if (isMap(value)) return value;
  throw new CallError(`${name} needs a map, got ${typeName(value)}`);
}

/** Sprig's string of a value: strings as they are, anything else as Go's %v. */
export function strval(value: unknown): string {
  return typeof value === "string" ? value : formatValue(value);
}

/** Sprig's int64 conversion (cast.ToInt64): numbers truncated, numeric strings parsed, else 0. */
export function toInt(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    const text = value.trim();
    if (/^[+-]?\d+$/.test(text)) return Number.parseInt(text, 10);
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text, 16);
    return 0;
  }
  return 0;
}

/** Sprig's float64 conversion (cast.ToFloat64): numbers, numeric strings, else 0. */
export function toFloat(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return 0;
}

/** Deep equality of JSON values (Go's reflect.DeepEqual on decoded JSON). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}
