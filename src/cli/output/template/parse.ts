/** The template parser: items from the lexer become a tree of text, actions and control nodes. */
import { FUNCTIONS } from "./funcs.ts";
import { type Item, syntaxError, type Token } from "./lex.ts";

export type Expr =
  | { t: "dot"; pos: number }
  | { t: "var"; name: string; pos: number }
  | { t: "literal"; value: unknown; pos: number }
  | { t: "func"; name: string; pos: number }
  | { t: "pipe"; pipe: Pipeline; pos: number }
  /** `base.a.b`: field access on dot, a variable or a parenthesized pipeline. */
  | { t: "fields"; base: Expr; names: string[]; pos: number };

export interface Command {
  args: Expr[];
  pos: number;
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  vars: string[];
  assign: boolean;
  commands: Command[];
  pos: number;
}

export interface ControlNode {
  t: "if" | "with" | "range";
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
  pos: number;
}

export type Node = { t: "text"; text: string } | { t: "action"; pipe: Pipeline } | ControlNode;

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

export class TreeParser {
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
