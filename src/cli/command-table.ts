/**
 * Every top-level command with what the top-level help shows for it, and how to load it.
 * Start-up cost is why this table exists: a command's module (and commander, and the node:
 * built-ins its verb needs) loads only when that command runs, so `skiff version` and
 * `skiff --help` never load them. tests/unit/cli-startup.test.ts checks the table against the
 * loaded commands, so it cannot drift from them.
 */
import type { Register } from "./command.ts";

interface CommandEntry {
  name: string;
  aliases?: string[];
  /** What follows the name in the top-level help: `[options] <reference>`. */
  usage: string;
  /** The line the top-level help shows; the command's own --help has the full description. */
  summary: string;
  load(): Promise<Register>;
  /** `completion` describes every command, so the whole program must be loaded for it. */
  needsAllCommands?: boolean;
}

export const PROGRAM_DESCRIPTION =
  "Push, pull, copy, resolve and compose OCI artifacts between registries, layouts and layout tars.";

/** In the order the help lists them (by name). */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "attach",
    usage: "[options] <subject> [files...]",
    summary: "Attach files to an existing manifest as a referrer artifact (a manifest with a subject)",
    load: async () => (await import("./commands/attach.ts")).registerAttach,
  },
  {
    name: "backup",
    usage: "[options] <repository>",
    summary: "Back up tagged artifacts of a repository, with their referrers, into an OCI layout or tar",
    load: async () => (await import("./commands/backup.ts")).registerBackup,
  },
  {
    name: "blob",
    usage: "",
    summary: "Fetch, push and delete blobs",
    load: async () => (await import("./commands/blob/index.ts")).registerBlob,
  },
  {
    name: "completion",
    usage: "<shell>",
    summary: "Print a shell completion script for bash, zsh, fish or powershell",
    load: async () => (await import("./commands/completion.ts")).registerCompletion,
    needsAllCommands: true,
  },
  {
    name: "cp",
    aliases: ["copy"],
    usage: "[options] <from> <to>",
    summary:
      "Copy an artifact and its whole graph between registries, OCI layout directories and layout tars",
    load: async () => (await import("./commands/cp.ts")).registerCopy,
  },
  {
    name: "discover",
    usage: "[options] <subject>",
    summary: "List the referrers of a manifest (signatures, SBOMs, ...) in a registry or an OCI image layout",
    load: async () => (await import("./commands/discover.ts")).registerDiscover,
  },
  {
    name: "index",
    usage: "",
    summary: "Create and update image indexes across layouts and registries",
    load: async () => (await import("./commands/index-cmd.ts")).registerIndex,
  },
  {
    name: "login",
    usage: "[options] <registry>",
    summary: "Log in to a registry: check the credentials, then store them in the docker config",
    load: async () => (await import("./commands/login.ts")).registerLogin,
  },
  {
    name: "logout",
    usage: "[options] <registry>",
    summary: "Log out from a registry: remove its stored credentials",
    load: async () => (await import("./commands/login.ts")).registerLogout,
  },
  {
    name: "manifest",
    usage: "",
    summary: "Fetch, push and delete manifests; create and update indexes",
    load: async () => (await import("./commands/manifest/index.ts")).registerManifest,
  },
  {
    name: "pull",
    usage: "[options] <reference>",
    summary: "Pull the files of an artifact from a registry, an OCI layout directory or a layout tar",
    load: async () => (await import("./commands/pull.ts")).registerPull,
  },
  {
    name: "push",
    usage: "[options] <target> [files...]",
    summary: "Push files and directories as an OCI artifact to a registry or an OCI image layout",
    load: async () => (await import("./commands/push.ts")).registerPush,
  },
  {
    name: "repo",
    aliases: ["repository"],
    usage: "",
    summary: "List repositories and tags",
    load: async () => (await import("./commands/repo/index.ts")).registerRepo,
  },
  {
    name: "resolve",
    aliases: ["digest"],
    usage: "[options] <reference>",
    summary: "Print the digest a reference resolves to (tagless on layouts when unambiguous)",
    load: async () => (await import("./commands/resolve.ts")).registerResolve,
  },
  {
    name: "restore",
    usage: "[options] <repository>",
    summary: "Restore tagged artifacts, with their referrers, from an OCI layout or tar into a repository",
    load: async () => (await import("./commands/restore.ts")).registerRestore,
  },
  {
    name: "tag",
    usage: "[options] <source> [tags...]",
    summary: "Tag a manifest in a registry or an OCI image layout",
    load: async () => (await import("./commands/tag.ts")).registerTag,
  },
  {
    name: "version",
    usage: "",
    summary: "Show the version, git commit, runtime and platform of this skiff",
    load: async () => (await import("./commands/version.ts")).registerVersion,
  },
];

/** The entry named `name` (or one of its aliases). */
export function findCommand(name: string | undefined): CommandEntry | undefined {
  return COMMANDS.find((entry) => entry.name === name || entry.aliases?.includes(name ?? ""));
}

/** `cp|copy [options] <from> <to>`: the left column of the top-level help. */
export function commandTerm(entry: CommandEntry): string {
  const name = entry.aliases?.[0] ? `${entry.name}|${entry.aliases[0]}` : entry.name;
  return entry.usage ? `${name} ${entry.usage}` : name;
}

export const HELP_WIDTH = 100;

/**
 * Commander's layout of help items (two columns, descriptions wrapped at HELP_WIDTH), so the
 * top-level help can be printed without loading commander; the unit test compares the two.
 */
function formatItems(items: [string, string][], termWidth: number): string[] {
  const indent = "  ";
  const descriptionWidth = HELP_WIDTH - termWidth - 2 - indent.length;
  return items.map(([term, description]) => {
    const continuation = `\n${indent}${" ".repeat(termWidth + 2)}`;
    return `${indent}${term.padEnd(termWidth)}  ${wrap(description, descriptionWidth).join(continuation)}`;
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines;
}

/** The text of `skiff --help`. */
export function topLevelHelp(): string {
  const options: [string, string][] = [
    ["--version", "print the version number"],
    ["-h, --help", "display help for command"],
  ];
  const commands = COMMANDS.map((entry): [string, string] => [commandTerm(entry), entry.summary]);
  const termWidth = Math.max(...[...options, ...commands].map(([term]) => term.length));
  return [
    "Usage: skiff [options] [command]",
    "",
    ...wrap(PROGRAM_DESCRIPTION, HELP_WIDTH),
    "",
    "Options:",
    ...formatItems(options, termWidth),
    "",
    "Commands:",
    ...formatItems(commands, termWidth),
    "",
  ].join("\n");
}
