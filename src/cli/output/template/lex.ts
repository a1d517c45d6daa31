/**
 * The template lexer: text items and action items (each a list of tokens), with Go's trim
 * markers and comments; and the positions and errors shared by the parser and the executor.
 */
import { SkiffError } from "../../../errors.ts";

export function lineColumn(source: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return `${line}:${offset - start + 1}`;
}

export const HINT = "see docs/TEMPLATES.md for the template language skiff supports";

export function syntaxError(source: string, offset: number, message: string): never {
  throw new SkiffError("USAGE", `invalid template: ${lineColumn(source, offset)}: ${message}`, HINT);
}

// ---------------------------------------------------------------------------------------------
// Lexer: the template becomes a list of text items and action items (each a list of tokens).

type TokenType =
  | "dot"
  | "field"
  | "var"
  | "ident"
  | "string"
  | "number"
  | "bool"
  | "nil"
  | "pipe"
  | "lparen"
  | "rparen"
  | "declare"
  | "assign"
  | "comma";

export interface Token {
  type: TokenType;
  /** Name for field/var/ident; the decoded value for string; the source text otherwise. */
  text: string;
  pos: number;
  /** Whitespace came right before this token (separates operands; `.a .b` is not `.a.b`). */
  space: boolean;
  value?: unknown;
}

export type Item =
  | { kind: "text"; text: string; pos: number }
  /** `pos` is where `{{` starts, `end` where the closing delimiter starts. */
  | { kind: "action"; tokens: Token[]; pos: number; end: number };

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

const NUMBER = /[+-]?(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/y;

function trimEnd(text: string): string {
  return text.replace(/[ \t\r\n]+$/, "");
}

export function lex(source: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let trimNext = false;
  const trimPrevious = (): void => {
    const last = items[items.length - 1];
    if (last?.kind === "text") {
      last.text = trimEnd(last.text);
      if (last.text === "") items.pop();
    }
  };
  while (i <= source.length) {
    const open = source.indexOf("{{", i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    trimNext = false;
    if (text !== "") items.push({ kind: "text", text, pos: i });
    if (open < 0) break;
    let p = open + 2;
    if (source[p] === "-" && isSpace(source[p + 1])) {
      trimPrevious();
      p += 2;
    }
    // A comment: {{/* ... */}}, with optional trim markers.
    let q = p;
    while (isSpace(source[q])) q++;
    if (source.startsWith("/*", q)) {
      const close = source.indexOf("*/", q + 2);
      if (close < 0) syntaxError(source, open, "unclosed comment");
      let r = close + 2;
      while (isSpace(source[r])) r++;
      if (source[r] === "-" && source.startsWith("}}", r + 1) && isSpace(source[r - 1])) {
        trimNext = true;
        r += 1;
      }
      if (!source.startsWith("}}", r)) syntaxError(source, close, "comment ends before closing delimiter");
      i = r + 2;
      continue;
    }
    const tokens: Token[] = [];
    let space = false;
    let end = p;
    for (;;) {
      const before = p;
      while (isSpace(source[p])) p++;
      space = p > before || tokens.length === 0;
      if (p >= source.length) syntaxError(source, open, "unclosed action");
      end = p;
      if (source.startsWith("}}", p)) {
        p += 2;
        break;
      }
      if (source[p] === "-" && source.startsWith("}}", p + 1) && p > before) {
        trimNext = true;
        p += 3;
        break;
      }
      const token = lexToken(source, p, space);
      tokens.push(token.token);
      p = token.next;
    }
    items.push({ kind: "action", tokens, pos: open, end });
    i = p;
  }
  return items;
}

function lexToken(source: string, p: number, space: boolean): { token: Token; next: number } {
  const c = source[p]!;
  const simple = (type: TokenType, length: number): { token: Token; next: number } => ({
    token: { type, text: source.slice(p, p + length), pos: p, space },
    next: p + length,
  });
  switch (c) {
    case "|":
      return simple("pipe", 1);
    case "(":
      return simple("lparen", 1);
    case ")":
      return simple("rparen", 1);
    case ",":
      return simple("comma", 1);
    case "=":
      return simple("assign", 1);
    case ":":
      if (source[p + 1] === "=") return simple("declare", 2);
      return syntaxError(source, p, 'expected ":="');
    case '"':
      return lexQuoted(source, p, space);
    case "`": {
      const close = source.indexOf("`", p + 1);
      if (close < 0) syntaxError(source, p, "unterminated raw quoted string");
      return {
        token: {
          type: "string",
          text: source.slice(p + 1, close),
          pos: p,
          space,
          value: source.slice(p + 1, close),
        },
        next: close + 1,
      };
    }
    case "'":
      return syntaxError(source, p, "character constants are not supported; use a string");
    case "$": {
      let q = p + 1;
      while (isIdentChar(source[q])) q++;
      return { token: { type: "var", text: source.slice(p, q), pos: p, space }, next: q };
    }
  }
  if (c === "." && !isDigit(source[p + 1])) {
    if (!isIdentStart(source[p + 1])) return simple("dot", 1);
    let q = p + 1;
    while (isIdentChar(source[q])) q++;
    return { token: { type: "field", text: source.slice(p + 1, q), pos: p, space }, next: q };
  }
  if (
    isDigit(c) ||
    c === "." ||
    ((c === "-" || c === "+") && (isDigit(source[p + 1]) || source[p + 1] === "."))
  ) {
    NUMBER.lastIndex = p;
    const match = NUMBER.exec(source);
    const text = match?.[0] ?? "";
    const next = p + text.length;
    if (!match || isIdentChar(source[next]) || source[next] === ".") {
      let q = next;
      while (isIdentChar(source[q]) || source[q] === ".") q++;
      syntaxError(source, p, `bad number syntax: "${source.slice(p, q)}"`);
    }
    const unsigned = text.replace(/^[+-]/, "");
    const magnitude = Number(unsigned);
    const value = text.startsWith("-") ? -magnitude : magnitude;
    return { token: { type: "number", text, pos: p, space, value }, next };
  }
  if (isIdentStart(c)) {
    let q = p;
    while (isIdentChar(source[q])) q++;
    const word = source.slice(p, q);
    if (word === "true" || word === "false") {
      return { token: { type: "bool", text: word, pos: p, space, value: word === "true" }, next: q };
    }
    if (word === "nil") return { token: { type: "nil", text: word, pos: p, space, value: null }, next: q };
    return { token: { type: "ident", text: word, pos: p, space }, next: q };
  }
  return syntaxError(source, p, `unexpected character ${JSON.stringify(c)} in action`);
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  '"': '"',
  "\\": "\\",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "'": "'",
};

function lexQuoted(source: string, p: number, space: boolean): { token: Token; next: number } {
  let value = "";
  let q = p + 1;
  for (;;) {
    const c = source[q];
    if (c === undefined || c === "\n") syntaxError(source, p, "unterminated quoted string");
    if (c === '"') break;
    if (c === "\\") {
      const e = source[q + 1];
      if (e !== undefined && e in ESCAPES) {
        value += ESCAPES[e];
        q += 2;
        continue;
      }
      const hexLength = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
      const hex = source.slice(q + 2, q + 2 + hexLength);
      if (hexLength === 0 || !new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) {
        syntaxError(source, q, `invalid escape sequence in string: \\${e ?? ""}`);
      }
      value += String.fromCodePoint(Number.parseInt(hex, 16));
      q += 2 + hexLength;
      continue;
    }
    value += c;
    q++;
  }
  return { token: { type: "string", text: source.slice(p, q + 1), pos: p, space, value }, next: q + 1 };
}
