/**
 * ORAS-style plain status lines (`Uploaded  a948904f2f0f hello.txt`) for runs without a terminal,
 * and the closing lines of push, pull and copy.
 */

import type { Listener, TransferEvent } from "../../content/events.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import { shortDigest } from "../../oci/digest.ts";
import { Annotation } from "../../oci/media-types.ts";
import { formatReference, type Reference, referenceName } from "../../oci/reference.ts";
import type { Console } from "../io.ts";
import { printable } from "./printable.ts";

/** The verbs whose transfers have their own words: attach and index commands use `push`. */
export type Verb = "push" | "pull" | "copy" | "backup" | "restore";

/** The words each verb uses for each kind of event. */
interface Prompts {
  start: string;
  done: string;
  exists: string;
  skipped: string;
  mounted: string;
  restored: string;
  resumed: string;
  failed: string;
  /** A layer whose bytes were copied under another title (pull restores those files instead: none). */
  duplicate?: string;
  /** Column the prompts are padded to; default: the longest transfer word. */
  width?: number;
}

/**
 * ORAS's prompts: push Uploading/Uploaded/Exists/Skipped, pull Downloading/Downloaded/Skipped/Restored,
 * copy Copying/Copied/Exists/Mounted, backup Pulling/Pulled, restore Pushing/Pushed.
 */
export const PROMPTS: Readonly<Record<Verb, Readonly<Prompts>>> = (() => {
  const common = {
    exists: "Exists",
    skipped: "Skipped",
    mounted: "Mounted",
    restored: "Restored",
    resumed: "Resuming",
    failed: "Failed",
  };
  return {
    // ORAS's push reports a second title of uploaded bytes as already there.
    push: { ...common, start: "Uploading", done: "Uploaded", duplicate: "Exists" },
    // ORAS's pull has no "Exists": content already there is skipped.
    pull: { ...common, start: "Downloading", done: "Downloaded", exists: "Skipped", mounted: "Skipped" },
    copy: { ...common, start: "Copying", done: "Copied", duplicate: "Skipped" },
    backup: { ...common, start: "Pulling", done: "Pulled", duplicate: "Skipped", width: 9 },
    restore: { ...common, start: "Pushing", done: "Pushed", duplicate: "Skipped", width: 9 },
  };
})();

/**
 * The column width prompts are padded to, so digests line up, as ORAS does: the longest of the
 * verb's transfer words (push 9, pull 11, copy 7), 9 for backup and restore.
 */
export function promptWidth(verb: Verb): number {
  const p = PROMPTS[verb];
  return p.width ?? Math.max(...[p.start, p.done, p.exists, p.skipped, p.mounted].map((word) => word.length));
}

/** What a status line calls a blob: its title annotation, else its media type; made printable (titles come from whoever pushed). */
export function displayName(desc: Descriptor): string {
  return printable(desc.annotations?.[Annotation.title] || desc.mediaType);
}

/** The prompt for an event, or undefined for events that print no status line (progress, fail). */
function eventPrompt(verb: Verb, event: TransferEvent): string | undefined {
  const p = PROMPTS[verb];
  switch (event.type) {
    case "start":
      return p.start;
    case "done":
      return p.done;
    case "skip":
      return p[event.reason];
    case "duplicate":
      return p.duplicate;
    case "restored":
      return p.restored;
    case "resumed":
      return p.resumed;
    case "status":
      return event.prompt;
    default:
      return undefined;
  }
}

/** `<Prompt> <12 hex> <title|mediaType>` for one event (no newline), or undefined when the event prints nothing. */
export function statusLine(verb: Verb, event: TransferEvent): string | undefined {
  const prompt = eventPrompt(verb, event);
  if (prompt === undefined) return undefined;
  const name =
    event.type === "status" && event.text !== undefined ? printable(event.text) : displayName(event.desc);
  return `${prompt.padEnd(promptWidth(verb))} ${shortDigest(event.desc.digest)} ${name}`;
}

/**
 * A listener printing one status line per event through `write` (normally `console.out`).
 * Each line is written whole in one call, so events from parallel transfers never mix.
 */
export function statusListener(write: (text: string) => void, verb: Verb): Listener {
  return (event) => {
    const line = statusLine(verb, event);
    if (line !== undefined) write(`${line}\n`);
  };
}

/**
 * `listener` for the titled nodes only: what ORAS prints with `--verbose=false` (no manifest,
 * config or other untitled blob).
 */
export function titledOnly(listener: Listener): Listener {
  return (event) => {
    if (event.desc.annotations?.[Annotation.title]) listener(event);
  };
}

/** `listener` without the free-form `status` events, for commands that word those lines themselves. */
export function transfersOnly(listener: Listener): Listener {
  return (event) => {
    if (event.type !== "status") listener(event);
  };
}

/**
 * ORAS's first status line for a push or attach without files; the transfer lines follow as usual.
 * push says it at once (ORAS does, even when the registry then fails); attach with its first
 * transfer (`atFirstEvent`), once the subject is found, so a missing subject prints nothing.
 */
export function emptyArtifactListener(console: Console, listener: Listener, atFirstEvent = false): Listener {
  let said = false;
  const say = () => {
    if (!said) console.out("Uploading empty artifact\n");
    said = true;
  };
  if (!atFirstEvent) say();
  return (event) => {
    say();
    listener(event);
  };
}

/** Status lines on the console's stdout. */
export function consoleStatusListener(console: Console, verb: Verb): Listener {
  return statusListener((text) => console.out(text), verb);
}

/** A place as ORAS names it in closing lines: `[registry] host/repo:tag` or `[oci-layout] path:tag`. */
export function describeTarget(ref: Reference, text: string = formatReference(ref)): string {
  return `[${ref.kind === "registry" ? "registry" : "oci-layout"}] ${text}`;
}

/**
 * How ORAS names a layout given as `--oci-layout-path DIR ARG` in its closing lines: by ARG alone
 * (its first tag, else its digest, else nothing); undefined for any other reference.
 */
export function pathFlagText(ref: Reference, firstTag: string | undefined): string | undefined {
  if (ref.kind !== "layout" || !ref.byPathFlag) return undefined;
  return firstTag ?? ref.digest ?? "";
}

/** A reference and, optionally, the text to show for it (what the user typed); default: the formatted reference. */
export interface Shown {
  ref: Reference;
  text?: string;
}

/** How ORAS words the `Pushed` line of a command. */
interface PushedStyle {
  /** Tags set after the first (shown in the `Pushed` line): one `Tagged TAG` line each. */
  tags?: readonly string[];
  /** `Pushed: [registry] ...`, as `blob push` and `manifest push` say it. */
  colon?: boolean;
  /** `Pushed    [registry] ...`, aligned with the status lines, as `manifest index` says it. */
  padded?: boolean;
}

/**
 * `Pushed [registry] ref`, `Tagged TAG` for each further tag, `ArtifactType: T` (when given),
 * `Digest: sha256:...`, each with a newline.
 */
export function pushedLines(
  target: Shown,
  digest: string,
  artifactType?: string,
  style: PushedStyle = {},
): string {
  const word = style.colon ? "Pushed:" : style.padded ? "Pushed".padEnd(promptWidth("push")) : "Pushed";
  let out = `${word} ${describeTarget(target.ref, target.text)}\n`;
  for (const tag of style.tags ?? []) out += `Tagged ${printable(tag)}\n`;
  if (artifactType) out += `ArtifactType: ${artifactType}\n`;
  return `${out}Digest: ${digest}\n`;
}

/** The destination as ORAS shows it in `Pushed`: as typed, with only the first of its `tags`. */
export function pushedTarget(ref: Reference, tags: readonly string[]): Shown {
  const name = referenceName(ref);
  const first = tags[0];
  const text = first ? `${name}:${first}` : ref.digest ? `${name}@${ref.digest}` : name;
  return { ref, text: pathFlagText(ref, first) ?? text };
}

/** `Pulled [registry|oci-layout] ref` and `Digest: sha256:...`, each with a newline. */
export function pulledLines(source: Shown, digest: string): string {
  return `Pulled ${describeTarget(source.ref, source.text)}\nDigest: ${digest}\n`;
}

/**
 * ORAS's two lines after a pull that left untitled layers out (its first line word for word, for
 * scripts), naming the skiff command that copies every layer. `reference` as the user can type it.
 */
export function skippedLayersHint(reference: string): string {
  return (
    `Skipped pulling layers without file name in "${Annotation.title}"\n` +
    `Use 'skiff copy ${printable(reference)} --to-oci-layout <layout-dir>' to pull all layers.\n`
  );
}

/**
 * `Copied [a] x => [b] y`, a `Tagged TAG` line for each of `moreTags` (the destination's tags after
 * the one in `y`, as ORAS prints them), and `Digest: sha256:...`, each with a newline.
 */
export function copiedLines(
  source: Shown,
  destination: Shown,
  digest: string,
  moreTags: readonly string[] = [],
): string {
  let out = `Copied ${describeTarget(source.ref, source.text)} => ${describeTarget(destination.ref, destination.text)}\n`;
  for (const tag of moreTags) out += `Tagged ${printable(tag)}\n`;
  return `${out}Digest: ${digest}\n`;
}
