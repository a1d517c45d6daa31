/**
 * Fails when a module under src/ exports a name that no other file imports (main.ts, src, tests
 * and scripts count as importers): an export is a promise to other modules, and one nobody takes
 * up is dead code or a name that should be private. Run by `npm run check`.
 *
 * It reads the sources as text, which works because biome keeps them in one format: `export`
 * declarations, `export { ... } [from]`, static `import ... from`, and `await import("...")` with
 * a destructuring or a property read. `bun scripts/check-exports.ts [ROOT]` checks ROOT (default:
 * this repository).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Source text without comments and string contents that could look like code. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Names in `{ a, type b, c as d }`: the imported (left) side, or with `exported` the right side. */
function names(list: string, exported = false): string[] {
  return list
    .split(",")
    .map((part) => part.trim().replace(/^type\s+/, ""))
    .filter((part) => part !== "")
    .map((part) => {
      const [left, right] = part.split(/\s+as\s+/);
      return (exported ? (right ?? left) : left)!.trim();
    });
}

const checked = filesUnder(join(root, "src"));
const importers = [...checked, ...filesUnder(join(root, "tests")), ...filesUnder(join(root, "scripts"))];
const main = join(root, "main.ts");
try {
  statSync(main);
  importers.push(main);
} catch {
  // A scratch copy may have no main.ts.
}

/** Exported names per file. */
const exported = new Map<string, Set<string>>();
for (const file of checked) {
  const text = code(readFileSync(file, "utf8"));
  const found = new Set<string>();
  const declaration =
    /^export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|const|let|var|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const match of text.matchAll(declaration)) found.add(match[1]!);
  for (const match of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const name of names(match[1]!, true)) found.add(name);
  }
  exported.set(file, found);
}

/** `used.get(file)` holds the names other files import from `file`; "*" means all of them. */
const used = new Map<string, Set<string>>();
const use = (from: string, specifier: string, taken: string[]): void => {
  if (!specifier.startsWith(".")) return;
  const target = resolve(dirname(from), specifier);
  if (target === from) return;
  let set = used.get(target);
  if (!set) {
    set = new Set();
    used.set(target, set);
  }
  for (const name of taken) set.add(name);
};
for (const file of importers) {
  const text = code(readFileSync(file, "utf8"));
  const statics =
    /^(?:import|export)\s+(?:type\s+)?([\w$]+\s*,?\s*)?(\{[^}]*\}|\*\s+as\s+[\w$]+|\*)?\s*from\s+"([^"]+)"/gm;
  for (const match of text.matchAll(statics)) {
    const [, , clause, specifier] = match;
    if (clause?.startsWith("{")) use(file, specifier!, names(clause.slice(1, -1)));
    else if (clause?.startsWith("*")) use(file, specifier!, ["*"]);
  }
  for (const match of text.matchAll(/\{([^{}]*)\}\s*=\s*await\s+import\("([^"]+)"\)/g)) {
    use(file, match[2]!, names(match[1]!.replace(/:\s*[\w$]+/g, "")));
  }
  for (const match of text.matchAll(/\(await\s+import\("([^"]+)"\)\)\.([\w$]+)/g)) {
    use(file, match[1]!, [match[2]!]);
  }
  for (const match of text.matchAll(/import\("([^"]+)"\)\.([\w$]+)/g)) use(file, match[1]!, [match[2]!]);
}

const unused: string[] = [];
for (const [file, names] of exported) {
  const taken = used.get(file) ?? new Set();
  if (taken.has("*")) continue;
  for (const name of names) {
    const line = `${relative(root, file)}: ${name}`;
    if (!taken.has(name)) unused.push(line);
  }
}
if (unused.length > 0) {
  console.error(`unused exports (no other file imports them; drop \`export\` or the code):`);
  for (const line of unused.sort()) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`exports: every export under src/ is imported somewhere (${checked.length} files)`);
