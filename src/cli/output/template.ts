/**
 * A subset of Go's text/template language for `--format go-template`, written for the data skiff
 * prints (JSON-shaped values: objects, arrays, strings, numbers, booleans, null). The subset and
 * where it differs from Go are documented in docs/TEMPLATES.md.
 */
import { SkiffError } from "../../errors.ts";

/** A parsed template, ready to run on any number of values. */
export interface Template {
  readonly source: string;
  /** Renders `data`; throws SkiffError("INVALID_INPUT") when the template cannot be evaluated on it. */
  execute(data: unknown): string;
}

/** Parses `source`; throws SkiffError("USAGE", "invalid template: LINE:COL: ...") on a syntax error. */
export function parseTemplate(source: string): Template {
  const nodes = new TreeParser(source, lex(source)).parseRoot();
  return {
    source,
    execute: (data) => {
      const out: string[] = [];
      new Executor(source, out, data).run(nodes, data);
      return out.join("");
    },
  };
}

/** Parses and renders in one step. */
export function renderTemplate(source: string, data: unknown): string {
  return parseTemplate(source).execute(data);
}

// ---------------------------------------------------------------------------------------------
// Positions and errors

function lineColumn(source: string, offset: number): string {
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

const HINT = "see docs/TEMPLATES.md for the template language skiff supports";

function syntaxError(source: string, offset: number, message: string): never {
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

interface Token {
  type: TokenType;
  /** Name for field/var/ident; the decoded value for string; the source text otherwise. */
  text: string;
  pos: number;
  /** Whitespace came right before this token (separates operands; `.a .b` is not `.a.b`). */
  space: boolean;
  value?: unknown;
}

type Item =
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

function lex(source: string): Item[] {
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

// ---------------------------------------------------------------------------------------------
// Parse tree

type Expr =
  | { t: "dot"; pos: number }
  | { t: "var"; name: string; pos: number }
  | { t: "literal"; value: unknown; pos: number }
  | { t: "func"; name: string; pos: number }
  | { t: "pipe"; pipe: Pipeline; pos: number }
  /** `base.a.b`: field access on dot, a variable or a parenthesized pipeline. */
  | { t: "fields"; base: Expr; names: string[]; pos: number };

interface Command {
  args: Expr[];
  pos: number;
}

interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  vars: string[];
  assign: boolean;
  commands: Command[];
  pos: number;
}

interface ControlNode {
  t: "if" | "with" | "range";
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
  pos: number;
}

type Node = { t: "text"; text: string } | { t: "action"; pipe: Pipeline } | ControlNode;

const UNSUPPORTED = new Set(["define", "template", "block", "break", "continue"]);

class TokenStream {
  private index = 0;
  constructor(
    readonly tokens: Token[],
    readonly endPos: number,
  ) {}
  peek(ahead = 0): Token | undefined {
    return this.tokens[this.index + ahead];
  }
  next(): Token | undefined {
    return this.tokens[this.index++];
  }
  get pos(): number {
    return this.peek()?.pos ?? this.endPos;
  }
}

class TreeParser {
  private index = 0;
  /** Variables in scope, for "undefined variable" errors at parse time. */
  private vars: string[] = ["$"];

  constructor(
    readonly source: string,
    readonly items: Item[],
  ) {}

  private fail(pos: number, message: string): never {
    syntaxError(this.source, pos, message);
  }

  parseRoot(): Node[] {
    const { nodes, stop } = this.parseList();
    if (stop) this.fail(stop.pos, `unexpected {{${stop.tokens[0]!.text}}}`);
    return nodes;
  }

  /** Parses nodes until `{{else ...}}`, `{{end}}` or the end of the template. */
  private parseList(): { nodes: Node[]; stop?: Item & { kind: "action" } } {
    const nodes: Node[] = [];
    while (this.index < this.items.length) {
      const item = this.items[this.index++]!;
      if (item.kind === "text") {
        nodes.push({ t: "text", text: item.text });
        continue;
      }
      const first = item.tokens[0];
      if (!first) this.fail(item.pos, "missing value for command");
      if (first.type === "ident") {
        if (first.text === "end" || first.text === "else") {
          if (first.text === "end" && item.tokens.length > 1)
            this.fail(item.tokens[1]!.pos, "unexpected token after end");
          return { nodes, stop: item };
        }
        if (first.text === "if" || first.text === "with" || first.text === "range") {
          nodes.push(this.parseControl(first.text, item, 1));
          continue;
        }
        if (UNSUPPORTED.has(first.text)) {
          this.fail(first.pos, `{{${first.text}}} is not supported by skiff's template subset`);
        }
      }
      const stream = new TokenStream(item.tokens, item.end);
      const pipe = this.parsePipeline(stream, "action");
      if (stream.peek()) this.fail(stream.pos, `unexpected ${describe(stream.peek()!)} in action`);
      nodes.push({ t: "action", pipe });
    }
    return { nodes };
  }

  /** `{{if|with|range PIPELINE}} body [{{else [if|with ...]}} otherwise] {{end}}`, from token `start`. */
  private parseControl(kind: "if" | "with" | "range", item: Item & { kind: "action" }, start: number): Node {
    const keyword = item.tokens[start - 1]!;
    const stream = new TokenStream(item.tokens.slice(start), item.end);
    if (!stream.peek()) this.fail(keyword.pos, `missing value for ${kind}`);
    const scope = this.vars.length;
    const pipe = this.parsePipeline(stream, kind);
    if (stream.peek()) this.fail(stream.pos, `unexpected ${describe(stream.peek()!)} in ${kind}`);
    // Variables the pipeline declares are visible in the body and the else branch.
    const declared = this.vars.length;
    const body = this.parseList();
    let otherwise: Node[] = [];
    if (!body.stop) this.fail(keyword.pos, `missing {{end}} for {{${kind}}}`);
    const stopWord = body.stop.tokens[0]!;
    if (stopWord.text === "else") {
      const chained = body.stop.tokens[1];
      if (chained) {
        // `{{else if ...}}` / `{{else with ...}}` is a nested control that shares our {{end}}.
        if (
          chained.type !== "ident" ||
          (chained.text !== "if" && chained.text !== "with") ||
          kind === "range"
        ) {
          this.fail(chained.pos, `unexpected ${describe(chained)} after else`);
        }
        this.vars.length = declared;
        otherwise = [this.parseControl(chained.text as "if" | "with", body.stop, 2)];
        this.vars.length = scope;
        return { t: kind, pipe, body: body.nodes, otherwise, pos: keyword.pos };
      }
      this.vars.length = declared;
      const rest = this.parseList();
      if (!rest.stop) this.fail(keyword.pos, `missing {{end}} for {{${kind}}}`);
      if (rest.stop.tokens[0]!.text !== "end") this.fail(rest.stop.pos, `expected {{end}}, found {{else}}`);
      otherwise = rest.nodes;
    }
    this.vars.length = scope;
    return { t: kind, pipe, body: body.nodes, otherwise, pos: keyword.pos };
  }

  private parsePipeline(
    stream: TokenStream,
    context: "action" | "if" | "with" | "range" | "paren",
  ): Pipeline {
    const pos = stream.pos;
    const vars: string[] = [];
    let assign = false;
    const a = stream.peek();
    const b = stream.peek(1);
    if (context !== "paren" && a?.type === "var") {
      if (b?.type === "declare" || b?.type === "assign") {
        vars.push(a.text);
        assign = b.type === "assign";
        stream.next();
        stream.next();
      } else if (b?.type === "comma" && context === "range") {
        const c = stream.peek(2);
        const d = stream.peek(3);
        if (c?.type !== "var" || d?.type !== "declare") this.fail(b.pos, "expected $index, $element :=");
        vars.push(a.text, c.text);
        for (let i = 0; i < 4; i++) stream.next();
      }
    }
    if (assign && !this.vars.includes(vars[0]!)) this.fail(a!.pos, `undefined variable "${vars[0]}"`);
    const commands: Command[] = [];
    for (;;) {
      const command = this.parseCommand(stream);
      if (command.args.length === 0) this.fail(stream.pos, "missing command in pipeline");
      commands.push(command);
      if (stream.peek()?.type !== "pipe") break;
      stream.next();
    }
    for (const [i, command] of commands.entries()) {
      const head = command.args[0]!;
      if (head.t !== "func" && (command.args.length > 1 || i > 0)) {
        this.fail(command.pos, `can't give argument to non-function ${describeExpr(head, this.source)}`);
      }
    }
    // Declared variables become visible after the pipeline that declares them.
    if (!assign) this.vars.push(...vars);
    return { vars, assign, commands, pos };
  }

  private parseCommand(stream: TokenStream): Command {
    const pos = stream.pos;
    const args: Expr[] = [];
    for (;;) {
      const token = stream.peek();
      if (!token || token.type === "pipe" || token.type === "rparen") break;
      if (args.length > 0 && !token.space) this.fail(token.pos, `missing space before ${describe(token)}`);
      args.push(this.parseOperand(stream));
    }
    return { args, pos };
  }

  private parseOperand(stream: TokenStream): Expr {
    const token = stream.next()!;
    let expr: Expr;
    switch (token.type) {
      case "dot":
        expr = { t: "dot", pos: token.pos };
        break;
      case "field":
        expr = { t: "fields", base: { t: "dot", pos: token.pos }, names: [token.text], pos: token.pos };
        break;
      case "var":
        if (!this.vars.includes(token.text)) this.fail(token.pos, `undefined variable "${token.text}"`);
        expr = { t: "var", name: token.text, pos: token.pos };
        break;
      case "string":
      case "number":
      case "bool":
      case "nil":
        expr = { t: "literal", value: token.value, pos: token.pos };
        break;
      case "ident":
        if (!(token.text in FUNCTIONS)) {
          if (["if", "else", "end", "range", "with"].includes(token.text) || UNSUPPORTED.has(token.text)) {
            this.fail(token.pos, `unexpected keyword "${token.text}" in command`);
          }
          this.fail(token.pos, `function "${token.text}" not defined`);
        }
        expr = { t: "func", name: token.text, pos: token.pos };
        break;
      case "lparen": {
        const pipe = this.parsePipeline(stream, "paren");
        const close = stream.next();
        if (close?.type !== "rparen") this.fail(token.pos, "unclosed left paren");
        expr = { t: "pipe", pipe, pos: token.pos };
        break;
      }
      default:
        this.fail(token.pos, `unexpected ${describe(token)} in operand`);
    }
    // Field chains: `.a.b`, `$x.a`, `(pipeline).a` (no space before the next field).
    while (stream.peek()?.type === "field" && !stream.peek()!.space) {
      if (expr.t === "literal" || expr.t === "func") {
        this.fail(stream.pos, `unexpected field after ${describeExpr(expr, this.source)}`);
      }
      const name = stream.next()!.text;
      expr =
        expr.t === "fields"
          ? { ...expr, names: [...expr.names, name] }
          : { t: "fields", base: expr, names: [name], pos: expr.pos };
    }
    return expr;
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case "field":
      return `field .${token.text}`;
    case "declare":
    case "assign":
    case "comma":
    case "pipe":
    case "lparen":
    case "rparen":
      return `"${token.text}"`;
    default:
      return `${token.type} ${token.text}`;
  }
}

function describeExpr(expr: Expr, source: string): string {
  switch (expr.t) {
    case "dot":
      return ".";
    case "var":
      return expr.name;
    case "func":
      return expr.name;
    case "fields":
      return `${expr.base.t === "dot" ? "" : describeExpr(expr.base, source)}.${expr.names.join(".")}`;
    case "literal":
      return typeof expr.value === "string" ? JSON.stringify(expr.value) : String(expr.value);
    case "pipe":
      return "(...)";
  }
}

// ---------------------------------------------------------------------------------------------
// Values: Go's view of JSON data

type Json = Record<string, unknown>;

function isMap(value: unknown): value is Json {
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
function typeName(value: unknown): string {
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
function formatValue(value: unknown): string {
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
function printValue(value: unknown): string {
  return value === undefined || value === null ? "<no value>" : formatValue(value);
}

function goQuote(text: string): string {
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

const encoder = new TextEncoder();

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
function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += formatValue(arg);
  });
  return out;
}

function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value === undefined ? null : value, null, indent) ?? "null";
}

// ---------------------------------------------------------------------------------------------
// Functions

class CallError extends Error {}

function wantString(value: unknown, what = "value"): string {
  if (typeof value === "string") return value;
  throw new CallError(`wrong type for ${what}; expected string; got ${typeName(value)}`);
}

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new CallError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
}

function isNil(value: unknown): boolean {
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

type Func = (args: unknown[]) => unknown;

const FUNCTIONS: Record<string, Func> = {
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

// ---------------------------------------------------------------------------------------------
// Executor

interface Variable {
  name: string;
  value: unknown;
}

class Executor {
  private vars: Variable[];

  constructor(
    readonly source: string,
    readonly out: string[],
    root: unknown,
  ) {
    this.vars = [{ name: "$", value: root }];
  }

  private fail(pos: number, message: string): never {
    throw new SkiffError(
      "INVALID_INPUT",
      `template failed at ${lineColumn(this.source, pos)}: ${message}`,
      HINT,
    );
  }

  run(nodes: Node[], dot: unknown): void {
    for (const node of nodes) {
      switch (node.t) {
        case "text":
          this.out.push(node.text);
          break;
        case "action": {
          const value = this.pipeline(node.pipe, dot);
          if (node.pipe.vars.length === 0) this.out.push(printValue(value));
          break;
        }
        case "if":
        case "with": {
          const scope = this.vars.length;
          const value = this.pipeline(node.pipe, dot);
          if (truthy(value)) this.run(node.body, node.t === "with" ? value : dot);
          else this.run(node.otherwise, dot);
          this.vars.length = scope;
          break;
        }
        case "range":
          this.range(node, dot);
          break;
      }
    }
  }

  private range(node: ControlNode, dot: unknown): void {
    const scope = this.vars.length;
    const value = this.commands(node.pipe, dot);
    const [first, second] = node.pipe.vars;
    const iteration = (key: unknown, item: unknown): void => {
      this.vars.length = scope;
      if (second !== undefined) this.vars.push({ name: first!, value: key }, { name: second, value: item });
      else if (first !== undefined) this.vars.push({ name: first, value: item });
      this.run(node.body, item);
    };
    let count = 0;
    if (Array.isArray(value)) {
      count = value.length;
      for (const [i, item] of value.entries()) iteration(i, item);
    } else if (isMap(value)) {
      const keys = Object.keys(value).sort();
      count = keys.length;
      for (const key of keys) iteration(key, value[key]);
    } else if (typeof value === "number" && Number.isInteger(value)) {
      if (second !== undefined) this.fail(node.pos, "can't use $index, $element with range over an integer");
      count = Math.max(0, value);
      for (let i = 0; i < count; i++) iteration(i, i);
    } else if (!isNil(value)) {
      this.fail(node.pos, `range can't iterate over ${formatValue(value)}`);
    }
    this.vars.length = scope;
    if (count === 0) this.run(node.otherwise, dot);
  }

  /** Runs a pipeline's commands without its variable declarations. */
  private commands(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown;
    pipe.commands.forEach((command, i) => {
      value = this.command(command, dot, i > 0 ? [value] : []);
    });
    return value;
  }

  private pipeline(pipe: Pipeline, dot: unknown): unknown {
    const value = this.commands(pipe, dot);
    const name = pipe.vars[0];
    if (name !== undefined) {
      if (pipe.assign) {
        const variable = this.vars.findLast((v) => v.name === name);
        if (!variable) this.fail(pipe.pos, `undefined variable "${name}"`);
        variable.value = value;
      } else {
        this.vars.push({ name, value });
      }
    }
    return value;
  }

  private command(command: Command, dot: unknown, piped: unknown[]): unknown {
    const head = command.args[0]!;
    if (head.t !== "func") return this.expr(head, dot);
    const argExprs = command.args.slice(1);
    // `and` and `or` stop at the first argument that decides the result, like Go.
    if (head.name === "and" || head.name === "or") {
      const all = [
        ...argExprs.map((expr) => () => this.expr(expr, dot)),
        ...piped.map((value) => () => value),
      ];
      if (all.length === 0)
        this.fail(head.pos, `error calling ${head.name}: wrong number of args: want at least 1 got 0`);
      let value: unknown;
      for (const get of all) {
        value = get();
        if (truthy(value) === (head.name === "or")) return value;
      }
      return value;
    }
    const args = [...argExprs.map((expr) => this.expr(expr, dot)), ...piped];
    return this.call(head.name, args, head.pos);
  }

  private call(name: string, args: unknown[], pos: number): unknown {
    try {
      return FUNCTIONS[name]!(args);
    } catch (error) {
      if (error instanceof CallError) this.fail(pos, `error calling ${name}: ${error.message}`);
      throw error;
    }
  }

  private expr(expr: Expr, dot: unknown): unknown {
    switch (expr.t) {
      case "dot":
        return dot;
      case "literal":
        return expr.value;
      case "var": {
        const variable = this.vars.findLast((v) => v.name === expr.name);
        if (!variable) this.fail(expr.pos, `undefined variable "${expr.name}"`);
        return variable.value;
      }
      case "func":
        return this.call(expr.name, [], expr.pos);
      case "pipe":
        return this.commands(expr.pipe, dot);
      case "fields": {
        let value = this.expr(expr.base, dot);
        for (const name of expr.names) {
          // A missing value stays missing down the chain (Go would stop with an error).
          if (value === undefined || value === null) return undefined;
          if (!isMap(value)) this.fail(expr.pos, `can't evaluate field ${name} in type ${typeName(value)}`);
          value = Object.hasOwn(value, name) ? value[name] : undefined;
        }
        return value;
      }
    }
  }
}
