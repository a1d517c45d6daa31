/**
 * The rest of the Sprig subset: defaults and logic (`default`, `empty`, `coalesce`, `ternary`),
 * integer and float math (Sprig's int64 and float64 rules), types, base64/base32, hashes, paths
 * and the environment (`env`, `expandenv`, which ORAS's templates have too).
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import process from "node:process";
import {
  CallError,
  deepEqual,
  type Func,
  functionTable,
  isNil,
  strval,
  toFloat,
  toInt,
  wantString,
} from "./calls.ts";
import { encoder, isMap, truthy } from "./values.ts";

/** Go's type name of a value as ORAS's templates see it: JSON numbers are float64 there. */
function typeOf(value: unknown): string {
  if (isNil(value)) return "<nil>";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "float64";
  if (Array.isArray(value)) return "[]interface {}";
  return "map[string]interface {}";
}

function kindOf(value: unknown): string {
  if (isNil(value)) return "invalid";
  if (Array.isArray(value)) return "slice";
  if (isMap(value)) return "map";
  return typeOf(value);
}

const ints = (args: unknown[]): number[] => args.map(toInt);

function divide(a: unknown, b: unknown, name: string): [number, number] {
  const [x, y] = [toInt(a), toInt(b)];
  if (y === 0) throw new CallError(`${name}: integer divide by zero`);
  return [x, y];
}

function round(value: unknown, places: unknown, half: unknown = 0.5): number {
  const scale = 10 ** toInt(places);
  const scaled = toFloat(value) * scale;
  const whole = Math.trunc(scaled);
  const fraction = Math.abs(scaled - whole);
  return (fraction >= toFloat(half) ? whole + Math.sign(scaled || 1) : whole) / scale;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}

function base32Decode(text: string): string {
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const c of text.replace(/=+$/, "")) {
    const index = BASE32.indexOf(c);
    if (index < 0) return "illegal base32 data";
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function base64Decode(text: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return "illegal base64 data";
  return new TextDecoder().decode(Buffer.from(text, "base64"));
}

function adler32(text: string): number {
  let a = 1;
  let b = 0;
  for (const byte of encoder.encode(text)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Go's os.ExpandEnv: `$NAME` and `${NAME}`, unset names become empty. */
function expandEnv(text: string): string {
  return text.replace(
    /\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g,
    (_m, braced, plain) => process.env[braced ?? plain] ?? "",
  );
}

const hash = (algorithm: string, text: unknown): string =>
  createHash(algorithm).update(wantString(text)).digest("hex");

export const SPRIG_MISC: Record<string, Func> = functionTable({
  // Defaults and logic.
  default: [
    1,
    2,
    (fallback: unknown, ...given: unknown[]) =>
      given.length === 1 && truthy(given[0]) ? given[0] : fallback,
  ],
  empty: [1, 1, (value: unknown) => !truthy(value)],
  coalesce: [0, Infinity, (...args: unknown[]) => args.find(truthy) ?? null],
  all: [0, Infinity, (...args: unknown[]) => args.every(truthy)],
  any: [0, Infinity, (...args: unknown[]) => args.some(truthy)],
  ternary: [3, 3, (yes: unknown, no: unknown, condition: unknown) => (condition === true ? yes : no)],
  fail: [
    1,
    1,
    (message: unknown) => {
      throw new CallError(strval(message));
    },
  ],
  // Integer math (Sprig converts to int64) and float math.
  add: [0, Infinity, (...args: unknown[]) => ints(args).reduce((a, b) => a + b, 0)],
  add1: [1, 1, (a: unknown) => toInt(a) + 1],
  sub: [2, 2, (a: unknown, b: unknown) => toInt(a) - toInt(b)],
  mul: [1, Infinity, (...args: unknown[]) => ints(args).reduce((a, b) => a * b, 1)],
  div: [2, 2, (a: unknown, b: unknown) => Math.trunc(divide(a, b, "div").reduce((x, y) => x / y))],
  mod: [2, 2, (a: unknown, b: unknown) => divide(a, b, "mod").reduce((x, y) => x % y)],
  max: [1, Infinity, (...args: unknown[]) => Math.max(...ints(args))],
  min: [1, Infinity, (...args: unknown[]) => Math.min(...ints(args))],
  addf: [0, Infinity, (...args: unknown[]) => args.map(toFloat).reduce((a, b) => a + b, 0)],
  add1f: [1, 1, (a: unknown) => toFloat(a) + 1],
  subf: [
    1,
    Infinity,
    (a: unknown, ...rest: unknown[]) => rest.map(toFloat).reduce((x, y) => x - y, toFloat(a)),
  ],
  mulf: [1, Infinity, (...args: unknown[]) => args.map(toFloat).reduce((a, b) => a * b, 1)],
  divf: [
    1,
    Infinity,
    (a: unknown, ...rest: unknown[]) => rest.map(toFloat).reduce((x, y) => x / y, toFloat(a)),
  ],
  maxf: [1, Infinity, (...args: unknown[]) => Math.max(...args.map(toFloat))],
  minf: [1, Infinity, (...args: unknown[]) => Math.min(...args.map(toFloat))],
  floor: [1, 1, (a: unknown) => Math.floor(toFloat(a))],
  ceil: [1, 1, (a: unknown) => Math.ceil(toFloat(a))],
  round: [2, 3, round],
  int: [1, 1, toInt],
  int64: [1, 1, toInt],
  float64: [1, 1, toFloat],
  atoi: [
    1,
    1,
    (text: unknown) => (/^[+-]?\d+$/.test(strval(text).trim()) ? Number.parseInt(strval(text), 10) : 0),
  ],
  // Types.
  typeOf: [1, 1, typeOf],
  kindOf: [1, 1, kindOf],
  typeIs: [2, 2, (name: unknown, value: unknown) => strval(name) === typeOf(value)],
  kindIs: [2, 2, (name: unknown, value: unknown) => strval(name) === kindOf(value)],
  deepEqual: [2, 2, deepEqual],
  // Encodings and hashes.
  b64enc: [1, 1, (text: unknown) => Buffer.from(strval(text)).toString("base64")],
  b64dec: [1, 1, (text: unknown) => base64Decode(strval(text))],
  b32enc: [1, 1, (text: unknown) => base32Encode(encoder.encode(strval(text)))],
  b32dec: [1, 1, (text: unknown) => base32Decode(strval(text))],
  sha1sum: [1, 1, (text: unknown) => hash("sha1", text)],
  sha256sum: [1, 1, (text: unknown) => hash("sha256", text)],
  adler32sum: [1, 1, (text: unknown) => String(adler32(wantString(text)))],
  // Paths (always `/`).
  base: [1, 1, (path: unknown) => posix.basename(wantString(path)) || (wantString(path) ? "/" : ".")],
  dir: [1, 1, (path: unknown) => posix.dirname(wantString(path))],
  ext: [1, 1, (path: unknown) => posix.extname(wantString(path))],
  clean: [
    1,
    1,
    (path: unknown) =>
      wantString(path) === "" ? "." : posix.normalize(wantString(path)).replace(/(.)\/$/, "$1"),
  ],
  isAbs: [1, 1, (path: unknown) => posix.isAbsolute(wantString(path))],
  // The environment, as ORAS's templates (Sprig's TxtFuncMap) have it.
  env: [1, 1, (name: unknown) => process.env[wantString(name)] ?? ""],
  expandenv: [1, 1, (text: unknown) => expandEnv(wantString(text))],
});
