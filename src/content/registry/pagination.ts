/**
 * Paginated listings (tags, catalog, referrers): the RFC 8288 `Link` header the registry sends
 * with `rel="next"`, the `n`/`last` query of the first page, and the pages of a JSON listing.
 */
import process from "node:process";
import { SkiffError } from "../../errors.ts";
import type { RegistryClient } from "./client.ts";
import type { ErrorContext } from "./errors.ts";

/** Tags and repositories asked for per page: 1000, or `SKIFF_PAGE_SIZE` (tests use small pages). */
function pageSize(env: Record<string, string | undefined> = process.env): number {
  const size = Number(env.SKIFF_PAGE_SIZE);
  return Number.isSafeInteger(size) && size > 0 ? size : 1000;
}
/** A page of a listing (tags, catalog) larger than this is refused. */
const MAX_LISTING_BYTES = 32 * 1024 * 1024;
/** A listing that goes on for this many pages is a loop. */
const MAX_PAGES = 100_000;

/** How {@link jsonPages} asks for a listing and names it in errors. */
interface ListingRequest {
  scopes: readonly string[];
  /** The listing, for size errors: `tags of host/repo`. */
  what: string;
  /** For a failed answer. */
  context: Omit<ErrorContext, "registry" | "hadCredentials">;
  /** The message for a page that is not JSON. */
  notJson: string;
}

/** The pages of a paginated JSON listing (`n`, `last`, `Link: <...>; rel="next"`), each parsed. */
export async function* jsonPages(
  client: RegistryClient,
  path: string,
  last: string | undefined,
  request: ListingRequest,
): AsyncIterable<unknown> {
  let url: string | undefined = firstPagePath(path, pageSize(), last);
  const seen = new Set<string>();
  for (let page = 0; url !== undefined && page < MAX_PAGES; page++) {
    if (seen.has(url)) break;
    seen.add(url);
    const { response, bytes } = await client.sendForBytes(
      { method: "GET", url, headers: { Accept: "application/json" }, scopes: request.scopes },
      MAX_LISTING_BYTES,
      request.what,
    );
    if (!bytes) throw await client.fail(response, request.context);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new SkiffError("REGISTRY", request.notJson);
    }
    yield json;
    url = nextPageUrl(response.headers.get("link"), client.url(url))?.href;
  }
}

/** One link of a `Link` header. */
interface Link {
  url: string;
  params: Record<string, string>;
}

/** Parses a `Link` header: `<url>; rel="next", <url2>; rel=prev`. */
export function parseLinkHeader(value: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    const open = value.indexOf("<", i);
    if (open === -1) break;
    const close = value.indexOf(">", open);
    if (close === -1) break;
    const link: Link = { url: value.slice(open + 1, close).trim(), params: {} };
    i = close + 1;
    // Parameters up to the next comma that is outside quotes.
    while (i < n) {
      while (i < n && (value[i] === " " || value[i] === "\t")) i++;
      if (value[i] === ",") {
        i++;
        break;
      }
      if (value[i] !== ";") {
        i++;
        continue;
      }
      i++;
      while (i < n && value[i] === " ") i++;
      const nameStart = i;
      while (i < n && /[A-Za-z0-9!#$&+\-.^_`|~*]/.test(value[i]!)) i++;
      const name = value.slice(nameStart, i).toLowerCase();
      while (i < n && value[i] === " ") i++;
      let paramValue = "";
      if (value[i] === "=") {
        i++;
        while (i < n && value[i] === " ") i++;
        if (value[i] === '"') {
          i++;
          while (i < n && value[i] !== '"') {
            if (value[i] === "\\" && i + 1 < n) i++;
            paramValue += value[i];
            i++;
          }
          i++;
        } else {
          const start = i;
          while (i < n && value[i] !== ";" && value[i] !== ",") i++;
          paramValue = value.slice(start, i).trim();
        }
      }
      if (name) link.params[name] = paramValue;
    }
    links.push(link);
  }
  return links;
}

/** The `rel="next"` URL of a `Link` header, resolved against `base`; undefined at the last page. */
export function nextPageUrl(linkHeader: string | null, base: URL | string): URL | undefined {
  if (!linkHeader) return undefined;
  for (const link of parseLinkHeader(linkHeader)) {
    const rels = (link.params.rel ?? "").split(/\s+/);
    if (rels.includes("next")) {
      try {
        return new URL(link.url, base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The path and query of a first page: `path?n=N&last=L`. */
export function firstPagePath(path: string, pageSize: number | undefined, last: string | undefined): string {
  const query = new URLSearchParams();
  if (pageSize !== undefined) query.set("n", String(pageSize));
  if (last !== undefined && last !== "") query.set("last", last);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
