/**
 * Paginated listings (tags, catalog, referrers): the RFC 8288 `Link` header the registry sends
 * with `rel="next"`, and the `n`/`last` query of the first page. Pure functions.
 */

/** One link of a `Link` header. */
export interface Link {
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
