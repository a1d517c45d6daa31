/**
 * The registry's own words where a failed request carries none, so errors read as ORAS's do: a
 * refused HEAD asked again as GET, and a failed TLS handshake probed for plain HTTP.
 */
import { readCapped } from "./errors.ts";
import type { Routes } from "./routes.ts";

/**
 * A HEAD refused (401, 403) has no body to say why: `get` (the same request as GET) fetches the
 * registry's words (`unauthorized: authentication required`), as ORAS shows them where it asks
 * with GET. The answer keeps the HEAD's status line, as ORAS shows it where it asks with HEAD;
 * undefined when the GET answers otherwise or fails (the HEAD's answer stands).
 */
export async function headRefusalWithBody(
  head: Response,
  get: () => Promise<Response>,
): Promise<Response | undefined> {
  let text = "";
  try {
    const answer = await get();
    if (answer.status !== head.status) {
      await answer.body?.cancel().catch(() => {});
      return undefined;
    }
    text = await readCapped(answer, 64 * 1024);
  } catch {
    return undefined;
  }
  const { status, statusText, headers } = head;
  return new Response(text === "" ? null : text, { status, statusText, headers });
}

/**
 * After a TLS handshake failed: whether the host answers plain HTTP on that port, so the error
 * can say so as Go does. A quick probe, on the failure path only.
 */
export async function answersPlainHttp(routes: Routes, url: URL): Promise<boolean> {
  const plain = new URL(url.href);
  plain.protocol = "http:";
  if (!url.port) plain.port = "443";
  const { target, init } = routes.route(plain);
  try {
    const response = await fetch(target, { ...init, method: "GET", signal: AbortSignal.timeout(2000) });
    await response.body?.cancel().catch(() => {});
    return true;
  } catch {
    return false;
  }
}
