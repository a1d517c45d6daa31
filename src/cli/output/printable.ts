/** Terminal safety for text that comes from others: titles, paths and registry messages. */

/** Control characters and bidirectional overrides: in a title they could move the cursor, recolour or rewrite the terminal. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character shown as an escape (`\x1b`, `\u202e`) instead of acting on the terminal. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}

/** Each line of `text` made printable; the line breaks stay. */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}
