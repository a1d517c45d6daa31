/**
 * What `manifest fetch` and `manifest fetch-config` run alike: their flags checked, the target of
 * the reference opened, the document found by the command's op, and printed (printFetched).
 */
import type { Target } from "../content/target.ts";
import { asSkiffError, SkiffError } from "../errors.ts";
import type { Platform } from "../oci/platform.ts";
import type { Reference } from "../oci/reference.ts";
import type { Fetchable } from "../ops/manifest-fetch.ts";
import { openOptions, platformFlag, referenceArgument, requireTagOrDigest } from "./flags.ts";
import type { Console } from "./io.ts";
import { checkFetchFlags, printFetched } from "./output/descriptors.ts";
import { type FormatFlags, parseFormat } from "./output/format.ts";

type FetchFlags = FormatFlags &
  Parameters<typeof checkFetchFlags>[0] &
  Parameters<typeof referenceArgument>[1] &
  Parameters<typeof openOptions>[0] & { platform?: string };

interface FetchSpec {
  /** What the document is called in messages: `manifest`, `config`. */
  what: string;
  /** The command's own flag checks, after the shared ones and before the reference is parsed. */
  check?: () => void;
  /** The op that finds the document. */
  find(target: Target, ref: Reference, platform: Platform | undefined): Promise<Fetchable>;
  /**
   * ORAS's words before a failure to reach or find the document (`failed to fetch the content of
   * "REF"`), for the commands that have them; the reference as typed.
   */
  failurePrefix?: (text: string) => string;
}

export async function runFetch(console: Console, text: string, flags: FetchFlags, spec: FetchSpec) {
  const { openTarget } = await import("../content/open.ts");
  const format = parseFormat(flags);
  checkFetchFlags(flags, format);
  spec.check?.();
  const ref = referenceArgument(text, flags);
  requireTagOrDigest(ref, text, flags);
  const { desc, fetch } = await openTarget(ref, openOptions(flags, console))
    .then((target) => spec.find(target, ref, platformFlag(flags)))
    .catch((error: unknown) => Promise.reject(prefixed(error, spec.failurePrefix?.(text))));
  await printFetched(console, format, flags, { ref, desc, what: spec.what, fetch });
}

/** Failures that are not about the document: usage, a bad reference or flag file, the runtime. */
const OWN_WORDS = new Set(["INVALID_REFERENCE", "INVALID_INPUT", "UNSUPPORTED"]);

/** The failure with ORAS's words first; usage errors and bad references or files keep their own. */
function prefixed(error: unknown, prefix: string | undefined): unknown {
  if (prefix === undefined) return error;
  const failure = asSkiffError(error);
  if (failure.isUsage || OWN_WORDS.has(failure.code)) return error;
  return new SkiffError(failure.code, `${prefix}: ${failure.message}`, failure.hint, {
    cause: error,
    ...(failure.heading !== undefined ? { heading: failure.heading } : {}),
  });
}
