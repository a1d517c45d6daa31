/** Questions on the terminal: a line of input (hidden for passwords) and yes/no confirmations. */
import process from "node:process";
import { SkiffError } from "../errors.ts";
import type { Console } from "./io.ts";

/**
 * Writes `prompt` (on stderr unless `show` says otherwise) and reads one line from stdin. With
 * `hidden` on a terminal, the typed characters are not echoed. End of input gives what was read so far.
 */
export function readLine(
  console: Console,
  prompt: string,
  hidden = false,
  show: (text: string) => void = (text) => console.err(text),
): Promise<string> {
  const stdin = process.stdin;
  const raw = hidden && Boolean(stdin.isTTY) && typeof stdin.setRawMode === "function";
  // Echo goes off before the prompt shows, so an answer typed at once is never echoed.
  if (raw) stdin.setRawMode(true);
  show(prompt);
  return new Promise((resolve, reject) => {
    let text = "";
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onError);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (hidden) console.err("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (raw && (ch === "\u0003" || ch === "\u0004")) {
          cleanup();
          reject(new SkiffError("USAGE", "cancelled"));
          return;
        }
        if (ch === "\n" || ch === "\r") {
          cleanup();
          resolve(text);
          return;
        }
        if (raw && (ch === "\u007f" || ch === "\b")) {
          text = text.slice(0, -1);
          continue;
        }
        text += ch;
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(text);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new SkiffError("IO", `cannot read stdin: ${error.message}`));
    };
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onError);
    stdin.resume();
  });
}

/**
 * Asks `question [y/N]` on stdout, as ORAS does (the commands that ask print nothing else there),
 * and reads the answer from stdin: true for y or yes; no input is no.
 */
export async function confirm(console: Console, question: string): Promise<boolean> {
  const answer = await readLine(console, `${question} [y/N] `, false, (text) => console.out(text));
  return /^\s*y(es)?\s*$/i.test(answer);
}
