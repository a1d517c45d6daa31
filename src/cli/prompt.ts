/** Questions on the terminal: a line of input (hidden for passwords) and yes/no confirmations. */
import process from "node:process";
import { SkiffError } from "../errors.ts";
import type { Console } from "./io.ts";

/** What a read from stdin brought past the line it was asked for: the next question's answer. */
let unread = "";

/**
 * Writes `prompt` (on stderr unless `show` says otherwise) and reads one line from stdin, a
 * terminal or a pipe (`printf 'me\nsecret\n' | skiff login`: each question takes the next line).
 * With `hidden` on a terminal, the typed characters are not echoed. End of input gives what was
 * read so far.
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
      // The typed newline was not echoed: end the prompt's line.
      if (raw) console.err("\n");
    };
    /** Takes characters until a line ends; true when it did (the rest is kept for the next question). */
    const take = (chunk: string): boolean => {
      const chars = [...chunk];
      for (const [i, ch] of chars.entries()) {
        if (raw && (ch === "\u0003" || ch === "\u0004")) {
          cleanup();
          reject(new SkiffError("USAGE", "cancelled"));
          return true;
        }
        if (ch === "\n" || ch === "\r") {
          // A CRLF line end is one end, not an empty next line.
          const rest = chars.slice(i + 1).join("");
          unread = ch === "\r" && rest.startsWith("\n") ? rest.slice(1) : rest;
          cleanup();
          resolve(text);
          return true;
        }
        if (raw && (ch === "\u007f" || ch === "\b")) {
          text = text.slice(0, -1);
          continue;
        }
        text += ch;
      }
      return false;
    };
    const onData = (chunk: Buffer | string) => {
      take(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    };
    const onEnd = () => {
      cleanup();
      resolve(text);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new SkiffError("IO", `cannot read stdin: ${error.message}`));
    };
    const earlier = unread;
    unread = "";
    if (take(earlier)) return;
    if (stdin.readableEnded) {
      onEnd();
      return;
    }
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
