/**
 * A string as a YAML scalar, quoted the way ORAS's `discover` tree prints annotations (go-yaml v3):
 * plain when it reads back as the same string, `'single-quoted'` when an indicator forbids plain
 * style, `"double-quoted"` when it would read back as something else (`true`, `123`, `null`, a
 * date) or holds characters that need escapes.
 */

/** YAML 1.1 booleans go-yaml still quotes, and the null and bool words of YAML 1.2. */
const WORDS = new Set([
  ...["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"],
  ...["true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~"],
  ...[".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"],
]);

const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP =
  /^\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?(?:Z|[+-]\d{1,2}(?::\d{2})?)?)?$/;

/** True when go-yaml would read `text` back as something other than this string. */
function resolvesElsewhere(text: string): boolean {
  if (WORDS.has(text)) return true;
  const plain = text.replaceAll("_", "");
  return FLOAT.test(plain) || INT.test(plain) || BASE60.test(text) || TIMESTAMP.test(text);
}

/** Characters a YAML emitter only writes escaped: controls (tab and newline too), DEL, BOM, surrogates. */
const SPECIAL = /[\u0000-\u001f\u007f-\u0084\u0086-\u009f\ufeff\ud800-\udfff\ufffe\uffff]/;

/** Whether the emitter allows plain style in block context (libyaml's scalar analysis). */
function plainAllowed(text: string): boolean {
  if (text.startsWith(" ") || text.endsWith(" ")) return false;
  if (/^(---|\.\.\.)/.test(text)) return false;
  const chars = [...text];
  for (const [i, c] of chars.entries()) {
    const next = chars[i + 1];
    const followedBySpace = next === undefined || next === " ";
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(c)) return false;
      if ((c === "?" || c === ":" || c === "-") && followedBySpace) return false;
    } else {
      if (c === ":" && followedBySpace) return false;
      if (c === "#" && chars[i - 1] === " ") return false;
    }
  }
  return true;
}

function doubleQuoted(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (SPECIAL.test(c))
      out +=
        code <= 0xff
          ? `\\x${code.toString(16).toUpperCase().padStart(2, "0")}`
          : `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

export function yamlScalar(text: string): string {
  if (text === "" || SPECIAL.test(text) || resolvesElsewhere(text)) return doubleQuoted(text);
  if (!plainAllowed(text)) return `'${text.replaceAll("'", "''")}'`;
  return text;
}
