/**
 * A subset of Go's text/template language for `--format go-template`, written for the data skiff
 * prints (JSON-shaped values: objects, arrays, strings, numbers, booleans, null). The subset and
 * where it differs from Go are documented in docs/TEMPLATES.md.
 */
import { Executor } from "./template/exec.ts";
import { lex } from "./template/lex.ts";
import { TreeParser } from "./template/parse.ts";

export { templateFunctions } from "./template/funcs.ts";
export { sprintf, truthy } from "./template/values.ts";

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
