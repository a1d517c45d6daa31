/**
 * Writes docs/commands/*.md from the commands' own --help text, so the docs never drift.
 *   bun scripts/gen-command-docs.ts           regenerate
 *   bun scripts/gen-command-docs.ts --check   exit 1 when docs/commands differs from --help
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "../src/cli/program.ts";

const dir = join(import.meta.dir, "..", "docs", "commands");
// Help goes to console.out; collecting it gives exactly what `--help` prints, examples included.
let printed = "";
const collecting = {
  out(text: string) {
    printed += text;
  },
  err() {},
  outBytes() {},
  stdoutIsTerminal: false,
  stderrIsTerminal: false,
};

function helpText(command: Command): string {
  printed = "";
  command.outputHelp();
  return printed.replace(/\s+$/, "");
}

function pages(command: Command, path: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of command.commands) {
    const names = [...path, sub.name()];
    const help = helpText(sub);
    out.set(
      `${names.join("-")}.md`,
      `# skiff ${names.join(" ")}\n\n${sub.summary() || sub.description()}\n\n\`\`\`text\n${help}\n\`\`\`\n\n_Generated from \`skiff ${names.join(" ")} --help\` by scripts/gen-command-docs.ts._\n`,
    );
    for (const [file, text] of pages(sub, names)) out.set(file, text);
  }
  return out;
}

const program = await buildProgram(collecting);
const wanted = pages(program);
const index = `# Command reference\n\n${[...wanted.keys()]
  .map((file) => `- [skiff ${file.replace(/\.md$/, "").replaceAll("-", " ")}](${file})`)
  .join("\n")}\n`;
wanted.set("README.md", index);

if (process.argv.includes("--check")) {
  const existing = existsSync(dir) ? readdirSync(dir) : [];
  const stale = [...wanted].filter(
    ([file, text]) => !existsSync(join(dir, file)) || readFileSync(join(dir, file), "utf8") !== text,
  );
  const extra = existing.filter((file) => !wanted.has(file));
  if (stale.length || extra.length) {
    console.error(
      `docs/commands is out of date (${[...stale.map(([f]) => f), ...extra].join(", ")}): run bun scripts/gen-command-docs.ts`,
    );
    process.exit(1);
  }
  console.log(`docs/commands matches --help (${wanted.size} pages)`);
} else {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of wanted) writeFileSync(join(dir, file), text);
  console.log(`wrote ${wanted.size} pages to docs/commands`);
}
