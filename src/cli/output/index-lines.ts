/**
 * The status lines of `manifest index create` and `update`, as ORAS words them: each source
 * `Fetching` (as typed) and `Fetched` (with its full digest), `Removed`/`Added`/`Merged` for an
 * update, then `Packed` (create) or `Updated` (update) with the new index. The copies and uploads
 * behind them print nothing, as in ORAS.
 */

import type { Listener } from "../../content/events.ts";
import { shortDigest } from "../../oci/digest.ts";
import { formatReference, type Reference } from "../../oci/reference.ts";
import { printable } from "./printable.ts";
import { promptWidth } from "./status.ts";

/** A listener writing ORAS's index lines through `write`; `index` is the index being made or updated. */
export function indexStatusListener(
  write: (text: string) => void,
  mode: "create" | "update",
  index: Reference,
): Listener {
  const width = promptWidth("push");
  const line = (prompt: string, ...fields: string[]): void =>
    write(`${[prompt.padEnd(width), ...fields].join(" ")}\n`);
  // ORAS names the index it updates by what follows the repository: the tag or digest.
  const typed = formatReference(index);
  const shown = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : printable(text === typed ? (index.tag ?? index.digest ?? text) : text);
  return (event) => {
    if (event.type !== "status") return;
    const name = shown(event.text);
    const digest = event.desc.digest;
    switch (event.prompt) {
      case "Fetching":
        line("Fetching", name ?? digest);
        break;
      case "Fetched":
      case "Added":
      case "Merged":
        line(event.prompt, ...(name === undefined || name === digest ? [digest] : [digest, name]));
        break;
      case "Removed":
        line("Removed", digest);
        break;
      case "Packed":
        if (mode === "create") line("Packed", shortDigest(digest), event.desc.mediaType);
        break;
      case "Updated":
        if (mode === "update") line("Updated", digest);
        break;
    }
  };
}
