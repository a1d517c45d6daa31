/**
 * Sprig's string functions, with Sprig's names and argument order (the string worked on comes
 * last, so they end a pipeline): `{{.digest | trimPrefix "sha256:" | trunc 12}}`.
 */
import {
  CallError,
  type Func,
  type FunctionSpec,
  functionTable,
  isNil,
  strval,
  toInt,
  wantList,
  wantString,
} from "./calls.ts";
import { goQuote } from "./values.ts";

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

/** Splits at case changes, spaces, `-` and `_`: "fooBar-baz" -> foo, Bar, baz. */
function parts(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_\-.]+/)
    .filter(Boolean);
}

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * Go's regexp syntax (RE2) in JavaScript: `(?P<name>` groups and a leading `(?ims)` flag group
 * are translated; the rest is close enough for the patterns templates use.
 */
function regex(pattern: unknown, flags = ""): RegExp {
  let source = wantString(pattern, "regex").replaceAll("(?P<", "(?<");
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    flags += [...new Set(inline[1])].join("");
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new CallError(`error parsing regexp: ${(error as Error).message}`);
  }
}

/**
 * Go's Regexp.Expand: `$name` and `${name}` (the longest run of letters, digits and `_`) are the
 * group of that number or name, or empty; `$$` is a `$`.
 */
function expand(template: string, match: string[], groups: Record<string, string> | undefined): string {
  return template.replace(
    /\$(\$|\{(\w+)\}|(\w+))/g,
    (_all, token: string, braced?: string, plain?: string) => {
      if (token === "$") return "$";
      const name = braced ?? plain!;
      if (/^\d+$/.test(name)) return match[Number(name)] ?? "";
      return groups?.[name] ?? "";
    },
  );
}

function replaceAll(pattern: unknown, text: unknown, replacement: unknown): string {
  return s(text).replace(regex(pattern, "g"), (...found: unknown[]) => {
    const hasGroups = typeof found[found.length - 1] === "object";
    const groups = hasGroups ? (found[found.length - 1] as Record<string, string>) : undefined;
    const captures = found.slice(0, hasGroups ? -3 : -2).map((c) => (c as string | undefined) ?? "");
    return expand(s(replacement), captures, groups);
  });
}

/** Up to `n` matches (all for n < 0), as Go's FindAllString does. */
function limited<T>(items: T[], n: number): T[] {
  return n < 0 ? items : items.slice(0, n);
}

/** Sprig's `split` and `splitn`: a map `_0`, `_1`, ... of the pieces. */
function pieces(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((piece, i) => [`_${i}`, piece]));
}

function splitN(text: string, separator: string, n: number): string[] {
  const all = text.split(separator);
  if (n < 0 || all.length <= n) return all;
  if (n === 0) return [];
  return [...all.slice(0, n - 1), all.slice(n - 1).join(separator)];
}

const s = wantString;

const STRINGS: Record<string, FunctionSpec> = {
  trim: [1, 1, (text) => s(text).trim()],
  trimAll: [
    2,
    2,
    (cutset, text) => {
      const cut = new Set(s(cutset));
      const chars = [...s(text)];
      let start = 0;
      let end = chars.length;
      while (start < end && cut.has(chars[start]!)) start++;
      while (end > start && cut.has(chars[end - 1]!)) end--;
      return chars.slice(start, end).join("");
    },
  ],
  trimPrefix: [
    2,
    2,
    (prefix, text) => (s(text).startsWith(s(prefix)) ? s(text).slice(s(prefix).length) : text),
  ],
  trimSuffix: [
    2,
    2,
    (suffix, text) => (s(suffix) && s(text).endsWith(suffix) ? s(text).slice(0, -s(suffix).length) : text),
  ],
  upper: [1, 1, (text) => s(text).toUpperCase()],
  lower: [1, 1, (text) => s(text).toLowerCase()],
  title: [1, 1, (text) => s(text).replace(/(^|\s)(\S)/g, (_m, space, c: string) => space + c.toUpperCase())],
  untitle: [
    1,
    1,
    (text) => s(text).replace(/(^|\s)(\S)/g, (_m, space, c: string) => space + c.toLowerCase()),
  ],
  repeat: [2, 2, (count, text) => s(text).repeat(Math.max(0, toInt(count)))],
  substr: [
    3,
    3,
    (start, end, text) => {
      const [a, b, t] = [toInt(start), toInt(end), s(text)];
      if (a < 0) return t.slice(0, b);
      if (b < 0 || b > t.length) return t.slice(a);
      return t.slice(a, b);
    },
  ],
  nospace: [1, 1, (text) => s(text).replace(/\s+/g, "")],
  trunc: [
    2,
    2,
    (count, text) => {
      const [n, t] = [toInt(count), s(text)];
      if (n < 0 && t.length + n > 0) return t.slice(t.length + n);
      if (n >= 0 && t.length > n) return t.slice(0, n);
      return t;
    },
  ],
  abbrev: [
    2,
    2,
    (width, text) => {
      const [w, t] = [toInt(width), s(text)];
      return w < 4 || t.length <= w ? t : `${t.slice(0, w - 3)}...`;
    },
  ],
  initials: [
    1,
    1,
    (text) =>
      words(s(text))
        .map((word) => [...word][0])
        .join(""),
  ],
  contains: [2, 2, (part, text) => s(text).includes(s(part))],
  hasPrefix: [2, 2, (prefix, text) => s(text).startsWith(s(prefix))],
  hasSuffix: [2, 2, (suffix, text) => s(text).endsWith(s(suffix))],
  quote: [
    0,
    Infinity,
    (...args) =>
      args
        .filter((a) => !isNil(a))
        .map((a) => goQuote(strval(a)))
        .join(" "),
  ],
  squote: [
    0,
    Infinity,
    (...args) =>
      args
        .filter((a) => !isNil(a))
        .map((a) => `'${strval(a)}'`)
        .join(" "),
  ],
  cat: [
    0,
    Infinity,
    (...args) =>
      args
        .filter((a) => !isNil(a))
        .map(strval)
        .join(" "),
  ],
  indent: [2, 2, (spaces, text) => s(text).replace(/^/gm, " ".repeat(Math.max(0, toInt(spaces))))],
  nindent: [2, 2, (spaces, text) => `\n${s(text).replace(/^/gm, " ".repeat(Math.max(0, toInt(spaces))))}`],
  replace: [3, 3, (old, replacement, text) => s(text).split(s(old)).join(s(replacement))],
  plural: [3, 3, (one, many, count) => (toInt(count) === 1 ? one : many)],
  snakecase: [
    1,
    1,
    (text) =>
      parts(s(text))
        .map((p) => p.toLowerCase())
        .join("_"),
  ],
  kebabcase: [
    1,
    1,
    (text) =>
      parts(s(text))
        .map((p) => p.toLowerCase())
        .join("-"),
  ],
  camelcase: [
    1,
    1,
    (text) =>
      parts(s(text))
        .map((p) => capitalize(p.toLowerCase()))
        .join(""),
  ],
  swapcase: [
    1,
    1,
    (text) => [...s(text)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""),
  ],
  // (Typed by hand: an object literal key named toString loses its contextual type.)
  toString: [1, 1, (value: unknown) => strval(value)] as FunctionSpec,
  toStrings: [1, 1, (list) => wantList(list, "toStrings").map(strval)],
  split: [2, 2, (separator, text) => pieces(strval(text).split(s(separator)))],
  splitList: [2, 2, (separator, text) => s(text).split(s(separator))],
  splitn: [3, 3, (separator, n, text) => pieces(splitN(s(text), s(separator), toInt(n)))],
  join: [
    2,
    2,
    (separator, list) =>
      (typeof list === "string" ? [list] : wantList(list, "join"))
        .filter((item) => !isNil(item))
        .map(strval)
        .join(s(separator, "separator")),
  ],
  sortAlpha: [1, 1, (list) => wantList(list, "sortAlpha").map(strval).sort()],
  regexMatch: [2, 2, (pattern, text) => regex(pattern).test(s(text))],
  mustRegexMatch: [2, 2, (pattern, text) => regex(pattern).test(s(text))],
  regexFind: [2, 2, (pattern, text) => regex(pattern).exec(s(text))?.[0] ?? ""],
  mustRegexFind: [2, 2, (pattern, text) => regex(pattern).exec(s(text))?.[0] ?? ""],
  regexFindAll: [
    3,
    3,
    (pattern, text, n) =>
      limited(
        [...s(text).matchAll(regex(pattern, "g"))].map((m) => m[0]),
        toInt(n),
      ),
  ],
  mustRegexFindAll: [
    3,
    3,
    (pattern, text, n) =>
      limited(
        [...s(text).matchAll(regex(pattern, "g"))].map((m) => m[0]),
        toInt(n),
      ),
  ],
  regexReplaceAll: [3, 3, replaceAll],
  mustRegexReplaceAll: [3, 3, replaceAll],
  regexReplaceAllLiteral: [
    3,
    3,
    (pattern, text, repl) => s(text).replace(regex(pattern, "g"), () => s(repl)),
  ],
  mustRegexReplaceAllLiteral: [
    3,
    3,
    (pattern, text, repl) => s(text).replace(regex(pattern, "g"), () => s(repl)),
  ],
  regexSplit: [3, 3, (pattern, text, n) => limited(s(text).split(regex(pattern)), toInt(n))],
  mustRegexSplit: [3, 3, (pattern, text, n) => limited(s(text).split(regex(pattern)), toInt(n))],
  regexQuoteMeta: [1, 1, (text) => s(text).replace(/[\\.+*?()|[\]{}^$]/g, "\\$&")],
};

export const SPRIG_STRINGS: Record<string, Func> = functionTable(STRINGS);
