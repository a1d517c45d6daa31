/**
 * Redirects, followed by hand (client.ts, and transfer/registry-origin.ts for the transfer
 * workers) so that credentials never reach another host and HTTPS is never left for plain HTTP.
 */
import { SkiffError } from "../../errors.ts";
import { scrubUrl } from "./debug.ts";

/** The statuses that redirect. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Redirects followed for one request at the most. */
const MAX_REDIRECTS = 10;

/**
 * Where a redirect from `from` to `location` leads, when `followed` redirects came before it:
 * refused past {@link MAX_REDIRECTS}, from HTTPS to anything else, and to a URL that is not
 * http(s). `who` names the registry (or token endpoint) in the error.
 */
export function redirectTarget(who: string, from: URL, location: string, followed: number): URL {
  if (followed >= MAX_REDIRECTS) {
    throw new SkiffError("REGISTRY", `${who} redirected more than ${MAX_REDIRECTS} times`);
  }
  const next = new URL(location, from);
  if (from.protocol === "https:" && next.protocol !== "https:") {
    throw new SkiffError(
      "REGISTRY",
      `${who} redirected ${scrubUrl(from.href)} to ${scrubUrl(next.href)}: refusing to leave HTTPS`,
    );
  }
  if (next.protocol !== "https:" && next.protocol !== "http:") {
    throw new SkiffError("REGISTRY", `${who} redirected to an unsupported URL ${scrubUrl(next.href)}`);
  }
  return next;
}
