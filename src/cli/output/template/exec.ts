/** The template executor: runs a parsed tree on JSON data, with Go's scoping of variables. */
import { SkiffError } from "../../../errors.ts";
import { CallError, FUNCTIONS, isNil } from "./funcs.ts";
import { HINT, lineColumn } from "./lex.ts";
import type { Command, ControlNode, Expr, Node, Pipeline } from "./parse.ts";
import { formatValue, isMap, printValue, truthy, typeName } from "./values.ts";

interface Variable {
  name: string;
  value: unknown;
}

export class Executor {
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
