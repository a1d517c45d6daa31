/**
 * Sprig's list and dictionary functions: `{{(first .referrers).digest}}`,
 * `{{.manifests | last}}`, `{{dict "a" 1 | toJson}}`, `{{has "v1" .tags}}`. A missing list is an
 * empty one; `first` and `last` of it are missing (Sprig would fail on nil).
 */
import {
  CallError,
  deepEqual,
  type Func,
  type FunctionSpec,
  functionTable,
  isNil,
  strval,
  toInt,
  wantList,
  wantMap,
} from "./calls.ts";
import { isMap, type Json, truthy } from "./values.ts";

/** Sprig's `slice LIST [START [END]]`; strings are sliced too (Go's built-in `slice` does that). */
function slice(value: unknown, ...bounds: unknown[]): unknown {
  if (typeof value === "string") {
    const start = bounds.length > 0 ? toInt(bounds[0]) : 0;
    const end = bounds.length > 1 ? toInt(bounds[1]) : value.length;
    if (start < 0 || end > value.length || start > end) throw new CallError(`slice index out of range`);
    return value.slice(start, end);
  }
  const list = wantList(value, "slice");
  const start = bounds.length > 0 ? toInt(bounds[0]) : 0;
  const end = bounds.length > 1 ? toInt(bounds[1]) : list.length;
  if (start < 0 || end > list.length || start > end) throw new CallError(`slice index out of range`);
  return list.slice(start, end);
}

function uniq(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of list) if (!out.some((seen) => deepEqual(seen, item))) out.push(item);
  return out;
}

function chunk(size: number, list: unknown[]): unknown[][] {
  if (size <= 0) throw new CallError("chunk size must be positive");
  const out: unknown[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function untilStep(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (step === 0) return out;
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

/** Sprig's `seq`: like the shell's, a string of numbers separated by spaces. */
function seq(...args: unknown[]): string {
  const n = args.map(toInt);
  if (n.length === 0) return "";
  const [start, step, end] =
    n.length === 1
      ? [1, 1, n[0]!]
      : n.length === 2
        ? [n[0]!, n[0]! <= n[1]! ? 1 : -1, n[1]!]
        : [n[0]!, n[1]!, n[2]!];
  if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) return "";
  return untilStep(start, end + (step > 0 ? 1 : -1), step).join(" ");
}

function dict(...args: unknown[]): Json {
  const out: Json = {};
  for (let i = 0; i < args.length; i += 2) out[strval(args[i])] = i + 1 < args.length ? args[i + 1] : "";
  return out;
}

function deepCopy(value: unknown): unknown {
  return isNil(value) ? value : JSON.parse(JSON.stringify(value));
}

/** Mergo's merge as Sprig uses it: `src` fills what `dst` lacks (or, overwriting, replaces it), maps merged deeply. */
function mergeInto(dst: Json, src: Json, overwrite: boolean): Json {
  for (const [key, value] of Object.entries(src)) {
    const had = dst[key];
    if (isMap(had) && isMap(value)) mergeInto(had, value, overwrite);
    else if (!Object.hasOwn(dst, key) || (overwrite ? value !== undefined : !truthy(had))) dst[key] = value;
  }
  return dst;
}

/** `dig "a" "b" DEFAULT DICT`: the value at a.b, else DEFAULT. */
function dig(...args: unknown[]): unknown {
  const map = wantMap(args[args.length - 1], "dig");
  const fallback = args[args.length - 2];
  let value: unknown = map;
  for (const key of args.slice(0, -2)) {
    if (!isMap(value) || !Object.hasOwn(value, strval(key))) return fallback;
    value = value[strval(key)];
  }
  return value;
}

const list = (value: unknown, name: string): unknown[] => wantList(value, name);

const LISTS: Record<string, FunctionSpec> = {
  list: [0, Infinity, (...items: unknown[]) => items],
  first: [1, 1, (value: unknown) => list(value, "find first")[0]],
  last: [1, 1, (value: unknown) => list(value, "find last").at(-1)],
  rest: [1, 1, (value: unknown) => list(value, "find rest").slice(1)],
  initial: [1, 1, (value: unknown) => list(value, "find initial").slice(0, -1)],
  append: [2, 2, (value: unknown, item: unknown) => [...list(value, "append"), item]],
  push: [2, 2, (value: unknown, item: unknown) => [...list(value, "push"), item]],
  prepend: [2, 2, (value: unknown, item: unknown) => [item, ...list(value, "prepend")]],
  concat: [0, Infinity, (...lists: unknown[]) => lists.flatMap((value) => list(value, "concat"))],
  reverse: [1, 1, (value: unknown) => [...list(value, "reverse")].reverse()],
  uniq: [1, 1, (value: unknown) => uniq(list(value, "uniq"))],
  without: [
    1,
    Infinity,
    (value: unknown, ...omit: unknown[]) =>
      list(value, "without").filter((x) => !omit.some((o) => deepEqual(o, x))),
  ],
  has: [2, 2, (needle: unknown, value: unknown) => list(value, "has").some((x) => deepEqual(x, needle))],
  compact: [1, 1, (value: unknown) => list(value, "compact").filter(truthy)],
  slice: [1, 3, slice],
  chunk: [2, 2, (size: unknown, value: unknown) => chunk(toInt(size), list(value, "chunk"))],
  until: [1, 1, (n: unknown) => untilStep(0, toInt(n), toInt(n) >= 0 ? 1 : -1)],
  untilStep: [3, 3, (a: unknown, b: unknown, c: unknown) => untilStep(toInt(a), toInt(b), toInt(c))],
  seq: [0, 3, seq],
};

const DICTS: Record<string, FunctionSpec> = {
  dict: [0, Infinity, dict],
  get: [
    2,
    2,
    (map: unknown, key: unknown) => (isMap(map) && Object.hasOwn(map, strval(key)) ? map[strval(key)] : ""),
  ],
  set: [
    3,
    3,
    (map: unknown, key: unknown, value: unknown) => {
      wantMap(map, "set")[strval(key)] = value;
      return map;
    },
  ],
  unset: [
    2,
    2,
    (map: unknown, key: unknown) => {
      delete wantMap(map, "unset")[strval(key)];
      return map;
    },
  ],
  hasKey: [2, 2, (map: unknown, key: unknown) => isMap(map) && Object.hasOwn(map, strval(key))],
  pluck: [
    1,
    Infinity,
    (key: unknown, ...maps: unknown[]) =>
      maps.filter((m): m is Json => isMap(m) && Object.hasOwn(m, strval(key))).map((m) => m[strval(key)]),
  ],
  dig: [2, Infinity, dig],
  // Sorted (Sprig's come in random order).
  keys: [
    1,
    Infinity,
    (...maps: unknown[]) => [...new Set(maps.flatMap((m) => Object.keys(wantMap(m, "keys"))))].sort(),
  ],
  values: [
    1,
    1,
    (map: unknown) => {
      const m = wantMap(map, "values");
      return Object.keys(m)
        .sort()
        .map((k) => m[k]);
    },
  ],
  pick: [
    1,
    Infinity,
    (map: unknown, ...names: unknown[]) => {
      const m = wantMap(map, "pick");
      return Object.fromEntries(
        names
          .map(strval)
          .filter((k) => Object.hasOwn(m, k))
          .map((k) => [k, m[k]]),
      );
    },
  ],
  omit: [
    1,
    Infinity,
    (map: unknown, ...names: unknown[]) => {
      const drop = new Set(names.map(strval));
      return Object.fromEntries(Object.entries(wantMap(map, "omit")).filter(([k]) => !drop.has(k)));
    },
  ],
  merge: [
    1,
    Infinity,
    (dst: unknown, ...srcs: unknown[]) =>
      srcs.reduce((out: Json, src) => mergeInto(out, wantMap(src, "merge"), false), wantMap(dst, "merge")),
  ],
  mergeOverwrite: [
    1,
    Infinity,
    (dst: unknown, ...srcs: unknown[]) =>
      srcs.reduce(
        (out: Json, src) => mergeInto(out, wantMap(src, "mergeOverwrite"), true),
        wantMap(dst, "mergeOverwrite"),
      ),
  ],
  deepCopy: [1, 1, deepCopy],
};

/** Sprig's `must` variants fail where the plain ones fail too, so they are the same functions here. */
const MUST = [
  "first",
  "last",
  "rest",
  "initial",
  "append",
  "push",
  "prepend",
  "reverse",
  "uniq",
  "without",
  "has",
  "compact",
  "slice",
  "chunk",
  "merge",
  "mergeOverwrite",
  "deepCopy",
] as const;

const ALL: Record<string, FunctionSpec> = { ...LISTS, ...DICTS };

export const SPRIG_LISTS: Record<string, Func> = functionTable({
  ...ALL,
  ...Object.fromEntries(MUST.map((name) => [`must${name[0]!.toUpperCase()}${name.slice(1)}`, ALL[name]!])),
});
