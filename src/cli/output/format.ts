/**
 * `--format` and `--template`: which shape a command's result takes on stdout, and the JSON
 * shapes shared by every command (ORAS key order, so scripts written for ORAS keep working).
 */
import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Console } from "../io.ts";
import { goJson, sortedMap } from "./go-json.ts";
import { parseTemplate, type Template } from "./template.ts";

/** The names `--format` accepts; a command says which of them it supports. */
export type FormatName = "text" | "json" | "go-template" | "tree" | "table";

/** A parsed `--format`: text, tree and table are printed by the command; json and go-template by {@link renderResult}. */
export type OutputFormat =
  | { kind: "text" }
  | { kind: "tree" }
  | { kind: "table" }
  | { kind: "json" }
  | { kind: "go-template"; template: Template };

/** The flag values as commander hands them over. */
export interface FormatFlags {
  format?: string;
  template?: string;
}

/** What most commands support. */
export const DEFAULT_FORMATS: readonly FormatName[] = ["text", "json", "go-template"];

const KNOWN: readonly FormatName[] = ["text", "json", "go-template", "tree", "table"];

function choices(allowed: readonly FormatName[]): string {
  return allowed.map((name) => (name === "go-template" ? "go-template=TEMPLATE" : name)).join(", ");
}

/**
 * Parses `--format` (`text`, `json`, `tree`, `go-template=TEMPLATE`, or `go-template` with
 * `--template TEMPLATE`) against the formats a command allows. The template is compiled here so a
 * broken template fails before any work is done. Without `--format`, the result is `fallback`
 * (default: `text` when allowed, else the first allowed format). Throws SkiffError("USAGE").
 */
export function parseFormat(
  flags: FormatFlags,
  allowed: readonly FormatName[] = DEFAULT_FORMATS,
  fallback: FormatName = allowed.includes("text") ? "text" : (allowed[0] ?? "text"),
): OutputFormat {
  const value = flags.format;
  const hint = `use --format ${choices(allowed)}`;
  if (value === undefined) {
    if (flags.template !== undefined) {
      throw new SkiffError(
        "USAGE",
        "--template must be used with --format go-template",
        "use --format go-template --template TEMPLATE, or --format go-template=TEMPLATE",
      );
    }
    return fallback === "go-template" ? { kind: "text" } : { kind: fallback };
  }
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!(KNOWN as readonly string[]).includes(name)) {
    throw new SkiffError("USAGE", `invalid format type: ${JSON.stringify(name)}`, hint);
  }
  if (!allowed.includes(name as FormatName)) {
    throw new SkiffError(
      "USAGE",
      `invalid format type: ${JSON.stringify(name)} (this command does not support --format ${name})`,
      hint,
    );
  }
  if (name !== "go-template") {
    if (eq >= 0) throw new SkiffError("USAGE", `--format ${name} takes no value, got "${value}"`, hint);
    if (flags.template !== undefined) {
      throw new SkiffError(
        "USAGE",
        `--template must be used with --format go-template, not --format ${name}`,
        "use --format go-template --template TEMPLATE, or --format go-template=TEMPLATE",
      );
    }
    return { kind: name as "text" | "json" | "tree" | "table" };
  }
  const inline = eq < 0 ? undefined : value.slice(eq + 1);
  if (inline !== undefined && flags.template !== undefined) {
    throw new SkiffError(
      "USAGE",
      "the template is given twice: in --format go-template=... and in --template",
      "keep one of them",
    );
  }
  const source = inline ?? flags.template;
  if (source === undefined || source === "") {
    throw new SkiffError(
      "USAGE",
      "format specified but no template given: --format go-template needs a template",
      "use --format go-template='{{.digest}}' or --format go-template --template '{{.digest}}'",
    );
  }
  return { kind: "go-template", template: parseTemplate(source) };
}

/** True when stdout carries only the result (json, go-template): status lines must go elsewhere. */
export function isStructured(format: OutputFormat): boolean {
  return format.kind === "json" || format.kind === "go-template";
}

/** `value` as 2-space indented JSON with a final newline, escaped as ORAS (Go) escapes it. */
export function renderJson(value: unknown): string {
  return `${goJson(value, true)}\n`;
}

/**
 * The result as text for json and go-template (the template's output as is, with no newline added,
 * like Go and ORAS); `undefined` for text and tree, which the command prints itself.
 */
export function renderResult(format: OutputFormat, value: unknown): string | undefined {
  if (format.kind === "json") return renderJson(value);
  if (format.kind === "go-template") return format.template.execute(value);
  return undefined;
}

/** Writes the result to stdout for json and go-template; false (nothing written) for text and tree. */
export function writeResult(console: Console, format: OutputFormat, value: unknown): boolean {
  const text = renderResult(format, value);
  if (text === undefined) return false;
  console.out(text);
  return true;
}

/** A descriptor as skiff prints it in JSON and templates. */
interface DescriptorJson {
  reference: string;
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  [extra: string]: unknown;
}

/**
 * The JSON of a descriptor in ORAS's key order: `reference`, `mediaType`, `digest`, `size`,
 * `annotations` (only when there are some, keys sorted), `artifactType` (only when set), then `extra` in its
 * own order (e.g. `referenceAsTags`). `reference` is `repo@digest` or `layoutPath@digest`.
 * Extra keys never override the descriptor's own.
 */
export function descriptorJson(
  reference: string,
  desc: Descriptor,
  extra: Record<string, unknown> = {},
): DescriptorJson {
  const out: DescriptorJson = {
    reference,
    mediaType: desc.mediaType,
    digest: desc.digest,
    size: desc.size,
  };
  if (desc.annotations && Object.keys(desc.annotations).length > 0)
    out.annotations = sortedMap(desc.annotations);
  if (desc.artifactType) out.artifactType = desc.artifactType;
  for (const [key, value] of Object.entries(extra)) {
    if (!(key in out) && value !== undefined) out[key] = value;
  }
  return out;
}
