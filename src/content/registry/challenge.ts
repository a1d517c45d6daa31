/**
 * `WWW-Authenticate` challenges (RFC 7235) and Docker token scopes
 * (`repository:NAME:pull,push`, `registry:catalog:*`). Pure functions, no I/O.
 */

/** One challenge: the scheme in lower case and its parameters (names in lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `WWW-Authenticate` value into its challenges, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 * Unparseable parts are skipped rather than thrown: a registry's odd header must not hide the
 * status it came with.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  const n = header.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // the opening quote
    let value = "";
    while (i < n && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < n) i++;
      value += header[i];
      i++;
    }
    i++; // the closing quote
    return value;
  };
  /** At `=`: is a parameter value (quoted string or token) next, rather than token68 padding? */
  const valueFollows = (): boolean => {
    let k = i + 1;
    while (k < n && (header[k] === " " || header[k] === "\t")) k++;
    return k < n && (header[k] === '"' || (header[k] !== "=" && TOKEN_CHAR.test(header[k]!)));
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipSpace();
    if (header[i] === ",") {
      i++;
      continue;
    }
    const name = readToken();
    if (name === "") {
      i++; // a stray character
      continue;
    }
    skipSpace();
    if (current && header[i] === "=" && valueFollows()) {
      i++;
      skipSpace();
      current.params[name.toLowerCase()] = header[i] === '"' ? readQuoted() : readToken();
      continue;
    }
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
    // A token68 right after the scheme (`Negotiate abc==`), kept as the `token68` parameter.
    const save = i;
    const token = /^[A-Za-z0-9\-._~+/]+=*/.exec(header.slice(i))?.[0];
    if (token) {
      i += token.length;
      skipSpace();
      if (i >= n || header[i] === ",") {
        current.params.token68 = token;
        continue;
      }
      i = save;
    }
  }
  return out;
}

/** A token scope: `type:name:action,action`. */
interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** Parses one scope; undefined when it is not `type:name:actions`. */
export function parseScope(text: string): Scope | undefined {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actions = text
    .slice(last + 1)
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  if (name === "") return undefined;
  return { type, name, actions };
}

/** Formats a scope with its actions in a stable order. */
export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${[...new Set(scope.actions)].sort().join(",")}`;
}

/** `repository:NAME:actions` for a repository. */
export function repositoryScope(repository: string, ...actions: string[]): string {
  return formatScope({ type: "repository", name: repository, actions });
}

/** The scope of the registry catalog. */
export const CATALOG_SCOPE = "registry:catalog:*";

/**
 * Merges scope strings: actions of the same resource are joined, `*` absorbs the rest. The
 * result is sorted, so equal sets of access give equal cache keys whatever the order asked.
 * Parts that are not scopes are kept as they are.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Scope>();
  const opaque = new Set<string>();
  for (const group of scopes) {
    for (const text of group.split(" ")) {
      if (text === "") continue;
      const scope = parseScope(text);
      if (!scope) {
        opaque.add(text);
        continue;
      }
      const key = `${scope.type}:${scope.name}`;
      const had = byResource.get(key);
      if (had) had.actions.push(...scope.actions);
      else byResource.set(key, { ...scope, actions: [...scope.actions] });
    }
  }
  const out = [...opaque];
  for (const scope of byResource.values()) {
    if (scope.actions.includes("*")) scope.actions = ["*"];
    out.push(formatScope(scope));
  }
  return out.sort();
}

/** True when the access in `have` covers everything in `need` (both merged scope lists). */
export function scopesCover(have: readonly string[], need: readonly string[]): boolean {
  const granted = new Map<string, Set<string>>();
  for (const text of have) {
    const scope = parseScope(text);
    if (!scope) {
      granted.set(text, new Set(["<opaque>"]));
      continue;
    }
    const key = `${scope.type}:${scope.name}`;
    const set = granted.get(key) ?? new Set<string>();
    for (const action of scope.actions) set.add(action);
    granted.set(key, set);
  }
  for (const text of need) {
    const scope = parseScope(text);
    if (!scope) {
      if (!granted.has(text)) return false;
      continue;
    }
    const set = granted.get(`${scope.type}:${scope.name}`);
    if (!set) return false;
    if (set.has("*")) continue;
    if (!scope.actions.every((a) => set.has(a))) return false;
  }
  return true;
}
