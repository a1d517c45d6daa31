/**
 * The flags several commands share, as flag groups (see command.ts), and how their values become
 * the options of an op: remote settings, reference parsing, platform, concurrency, packing.
 * A flag for several commands is one `.option()` line in a group here; a flag of one command is
 * one `.option()` line in its file.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { InvalidArgumentError } from "commander";
import { errnoReason } from "../content/files/disk.ts";
import type { OpenTargetOptions, RemoteSettings } from "../content/open.ts";
import type { ReferrersMode } from "../content/registry/referrers.ts";
import { SkiffError } from "../errors.ts";
import { type Platform, parsePlatform } from "../oci/platform.ts";
import { LAYOUT_SCHEME, noTagOrDigest, type ParsedReference, parseReference } from "../oci/reference.ts";
import { hostPlatform } from "../runtime/index.ts";
import {
  type CommandUnknownOpts,
  type FlagGroup,
  type FlagValues,
  flagGroup,
  warnOnFlag,
} from "./command.ts";
import type { Console } from "./io.ts";
import { DEFAULT_FORMATS, type FormatName } from "./output/format.ts";

/** The parse function of a repeatable flag: every value, in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `-d/--debug` and `--no-tty`, on every command that talks to a target. */
export const commonFlags = flagGroup((command) =>
  command
    .option("-d, --debug", "print HTTP requests and responses (secrets scrubbed) on stderr")
    .option("--no-tty", "print plain status lines instead of progress bars"),
);

/** ORAS's warning line for `-v/--verbose`, which it deprecated and still accepts. */
export const VERBOSE_DEPRECATED =
  "Flag --verbose has been deprecated, and will be removed in a future release.";

/**
 * `-v/--verbose` (also `--verbose=false`), on the commands where ORAS accepts it: hidden, and
 * answered with ORAS's deprecation line on stderr, so scripts written for ORAS keep working. Only
 * discover reads it: `--verbose=false` leaves annotations out of the tree.
 */
export const verboseFlags = flagGroup((command) => {
  warnOnFlag(command, "verbose", VERBOSE_DEPRECATED);
  warnOnFlag(command, "no-verbose", VERBOSE_DEPRECATED);
  return command
    .addOption(command.createOption("-v, --verbose", "deprecated; accepted for ORAS scripts").hideHelp())
    .addOption(command.createOption("--no-verbose", "deprecated; --verbose=false").hideHelp());
});

/** The warnings ORAS (and docker) print on every command given a secret on the command line. */
const PASSWORD_ON_COMMAND_LINE = "WARNING! Using --password via the CLI is insecure. Use --password-stdin.";
const TOKEN_ON_COMMAND_LINE =
  "WARNING! Using --identity-token via the CLI is insecure. Use --identity-token-stdin.";

/**
 * Credential flags that exclude each other, checked in ORAS's order and named in its words
 * (`--username, --identity-token cannot be used at the same time`): a user name goes with a
 * password, not a token; one secret, from one place.
 */
const EXCLUSIVE_CREDENTIAL_FLAGS = [
  ["username", "identityToken", "identityTokenStdin"],
  ["password", "identityToken", "identityTokenStdin", "passwordStdin"],
] as const;

/**
 * Refuses credential flags that exclude each other; `prefix` names one side of cp (`from-`).
 */
export function refuseExclusiveCredentials(flags: Record<string, unknown>, prefix = ""): void {
  for (const group of EXCLUSIVE_CREDENTIAL_FLAGS) {
    const given = group.filter((key) => flags[key] !== undefined && flags[key] !== false);
    if (given.length > 1) {
      const names = given.map((key) => `--${prefix}${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw new SkiffError(
        "USAGE",
        `${names.join(", ")} cannot be used at the same time`,
        "give a username with a password, or an identity token alone",
      );
    }
  }
}

/**
 * Before the action (after the arguments are counted): refuses credential flags that exclude each
 * other, then warns about a secret given on the command line, once, as ORAS does.
 */
function checkCredentialFlags(command: CommandUnknownOpts): void {
  command.hook("preAction", (_, action) => {
    const flags = action.opts();
    refuseExclusiveCredentials(flags);
    // Mutual TLS needs both, checked before either file is read (ORAS's words).
    if (Boolean(flags.certFile) !== Boolean(flags.keyFile)) {
      const [given, missing] = flags.certFile ? ["--cert-file", "--key-file"] : ["--key-file", "--cert-file"];
      throw new SkiffError(
        "USAGE",
        `${given} must be used in conjunction with ${missing}`,
        "mutual TLS needs the client certificate and its key",
      );
    }
    const warning =
      flags.identityToken !== undefined
        ? TOKEN_ON_COMMAND_LINE
        : flags.password !== undefined
          ? PASSWORD_ON_COMMAND_LINE
          : undefined;
    if (warning) action.configureOutput().writeErr?.(`${warning}\n`);
  });
}

/** Registry flags with ORAS's names: credentials, TLS, transport, headers. */
export const remoteFlags = flagGroup((command) => {
  checkCredentialFlags(command as unknown as CommandUnknownOpts);
  return command
    .option("-u, --username <name>", "registry username")
    .option("-p, --password <password>", "registry password or token")
    .option("--password-stdin", "read the password from stdin")
    .option("--identity-token <token>", "registry identity (refresh) token")
    .option("--identity-token-stdin", "read the identity token from stdin")
    .option("--insecure", "allow TLS connections without certificate verification")
    .option("--plain-http", "use plain HTTP instead of HTTPS")
    .option("--ca-file <file>", "trust the CA certificates in this PEM file")
    .option("--cert-file <file>", "client certificate for mutual TLS")
    .option("--key-file <file>", "client key for mutual TLS")
    .option("--resolve <host:port:address[:port]>", "resolve a host to an address", collect)
    .option("--registry-config <path>", "registry credentials file", collect)
    .option("-H, --header <header>", "add an HTTP header", collect);
});

/** `--oci-layout` and `--oci-layout-path`, for commands that accept a layout. */
export const layoutFlags = flagGroup((command) =>
  command
    .option("--oci-layout", "the reference is an OCI layout PATH[:tag|@digest] (directory or tar)")
    .option("--oci-layout-path <path>", "the OCI layout to use; the argument is the tag or digest"),
);

/** The tail of most commands that open one target: layout, registry and common flags. */
export const TARGET_FLAGS = [layoutFlags, remoteFlags, commonFlags] as const;

const DISTRIBUTION_SPECS: Readonly<Record<string, ReferrersMode>> = {
  "v1.1-referrers-tag": "tag",
  "v1.1-referrers-api": "api",
};

/**
 * The value of `--distribution-spec` (ORAS's names) as how referrers are found and indexed. A bad
 * value is commander's invalid-argument error, so the usage line names the command.
 */
function parseDistributionSpec(value: string): ReferrersMode {
  const mode = Object.hasOwn(DISTRIBUTION_SPECS, value) ? DISTRIBUTION_SPECS[value] : undefined;
  if (mode === undefined) {
    throw new InvalidArgumentError(
      `unknown distribution specification flag: ${value}\nAvailable options: ${Object.keys(DISTRIBUTION_SPECS).join(", ")}`,
    );
  }
  return mode;
}

/** `--distribution-spec`, on the commands that read or write referrers in a registry. */
export const distributionSpecFlags = flagGroup((command) =>
  command.option(
    "--distribution-spec <spec>",
    "how the registry's referrers are found and indexed: v1.1-referrers-api (only the referrers API) or v1.1-referrers-tag (only sha256-<hex> tags); default: the API when the registry has it",
    parseDistributionSpec,
  ),
);

/** `--platform os/arch[/variant][:os.version]`. */
export function platformFlags(description = "select one platform of a multi-platform index") {
  return flagGroup((command) => command.option("--platform <os/arch[/variant][:os.version]>", description));
}

/** `--format` (and `--template` when go-template is offered), restricted to what the command prints. */
export function formatFlags(
  choices: readonly FormatName[] = DEFAULT_FORMATS,
): FlagGroup<{ format?: string; template?: string }> {
  if (!choices.includes("go-template")) {
    return flagGroup((command) =>
      command.option("--format <format>", `output format: ${choices.join(", ")}`),
    );
  }
  return flagGroup((command) =>
    command
      .option("--format <format>", `output format: ${choices.join(", ")}[=TEMPLATE]`)
      .option("--template <template>", "Go template used with --format go-template"),
  );
}

/** What push and attach share: what goes into the artifact and how it is written. */
export const packingFlags = flagGroup((command) =>
  command
    .option("-a, --annotation <key=value>", "manifest annotation (repeatable)", collect)
    .option(
      "--annotation-file <path>",
      'annotations from a JSON file: {"$manifest": {...}, "$config": {...}, "<file>": {...}}',
    )
    .option("--export-manifest <path>", "write the pushed manifest to this file")
    .option("--disable-path-validation", "allow absolute file paths and paths outside the current directory")
    .option(
      "--no-created",
      "do not add the org.opencontainers.image.created annotation (default: SOURCE_DATE_EPOCH if set, else now)",
    )
    .option("--concurrency <n>", "blobs uploaded at once", "5")
    .option(
      "--stdin-name <name>",
      'the file name (title) of the file read from stdin, given as "-"',
      "stdin",
    ),
);

/** `--include-referrers` / `--exclude-referrers` / `--dry-run` of backup and restore. */
const referrerFlags = flagGroup((command) =>
  command
    .option("--include-referrers", "copy the referrers of each artifact too (the default)")
    .option("--exclude-referrers", "copy the tagged artifacts only, without their referrers")
    .option("--dry-run", "resolve the tags and count the referrers, but copy nothing"),
);

type CommonValues = FlagValues<typeof commonFlags>;
type RemoteValues = FlagValues<typeof remoteFlags>;
type LayoutValues = FlagValues<typeof layoutFlags>;

/** The platform flag as a Platform, or undefined; a missing architecture is the host's. */
export function platformFlag(flags: { platform?: string }): Platform | undefined {
  return flags.platform === undefined
    ? undefined
    : parsePlatform(flags.platform, hostPlatform().architecture);
}

/** Parses a command's reference argument with the layout flags. */
export function referenceArgument(text: string, flags: LayoutValues, tagList = false): ParsedReference {
  return parseReference(text, {
    tagList,
    ...(flags.ociLayout ? { layout: true } : {}),
    ...(flags.ociLayoutPath !== undefined ? { layoutPath: flags.ociLayoutPath } : {}),
  });
}

/**
 * Refuses a reference with neither tag nor digest where ORAS needs one: on a registry, and for a
 * layout given with `--oci-layout PATH` (ORAS's form). skiff's own `oci-layout://PATH` stays
 * tagless where the command can use a layout's only manifest.
 */
export function requireTagOrDigest(ref: ParsedReference, text: string, flags: LayoutValues): void {
  if (ref.tag || ref.digest) return;
  if (ref.kind === "layout" && (text.startsWith(LAYOUT_SCHEME) || flags.ociLayoutPath !== undefined)) return;
  throw noTagOrDigest(
    text,
    ref.kind === "layout"
      ? `add :TAG or @DIGEST, or write oci-layout://${ref.path} to use the layout's only manifest`
      : `add :TAG or @DIGEST, e.g. ${text}:latest`,
    "USAGE",
  );
}

/**
 * The repository argument of backup and restore: `host/repo[:t1,t2]` or `oci-layout://PATH[:t1,t2]`;
 * no digest (tags are what a backup records).
 */
export function repositoryArgument(text: string): ParsedReference {
  if (text === "") throw new SkiffError("USAGE", "the repository reference cannot be empty");
  const noDigest = new SkiffError(
    "USAGE",
    `digest references are not supported: "${text}"`,
    "name tags (REPO:tag1,tag2) or none for every tag; copy a digest with skiff cp",
  );
  let ref: ParsedReference;
  try {
    ref = parseReference(text, { tagList: true });
  } catch (error) {
    // A digest is refused as such, before whether it is a well-formed digest matters.
    throw text.includes("@") ? noDigest : error;
  }
  if (ref.digest) throw noDigest;
  return ref;
}

/**
 * The value of a flag the command cannot do without, checked after the arguments (the order ORAS
 * checks them in), with ORAS's words.
 */
export function requiredFlag<T>(value: T | undefined, name: string, hint: string): T {
  if (value === undefined) throw new SkiffError("USAGE", `required flag(s) "${name}" not set`, hint);
  return value;
}

let stdinText: string | undefined;

/** Reads all of stdin once (for --password-stdin / --identity-token-stdin). */
function readStdinOnce(): string {
  stdinText ??= readFileSync(0, "utf8");
  return stdinText;
}

function checkReadable(path: string, what: string): void {
  try {
    readFileSync(path, "utf8");
  } catch (error) {
    throw new SkiffError("INVALID_INPUT", `cannot read ${what} ${path}: ${errnoReason(error)}`);
  }
}

/** RemoteSettings from the registry flags (and `--debug`, which logs HTTP on the console). */
export function remoteSettings(
  flags: RemoteValues & Partial<CommonValues>,
  console?: Console,
): RemoteSettings {
  const settings: RemoteSettings = {};
  let password = flags.password;
  if (flags.passwordStdin) {
    if (password !== undefined)
      throw new SkiffError("USAGE", "--password, --password-stdin cannot be used at the same time");
    password = readStdinOnce().replace(/\r?\n$/, "");
  }
  let identityToken = flags.identityToken;
  if (flags.identityTokenStdin) identityToken = readStdinOnce().trim();
  if (flags.username !== undefined) settings.username = flags.username;
  if (password !== undefined) settings.password = password;
  if (identityToken !== undefined) settings.identityToken = identityToken;
  if (flags.plainHttp) settings.plainHttp = true;
  if (flags.insecure) settings.insecure = true;
  for (const [field, what] of [
    ["caFile", "CA file"],
    ["certFile", "certificate file"],
    ["keyFile", "key file"],
  ] as const) {
    const value = flags[field];
    if (value !== undefined) {
      checkReadable(value, what);
      settings[field] = value;
    }
  }
  if (flags.resolve) settings.resolve = flags.resolve;
  if (flags.header) settings.headers = flags.header;
  if (flags.registryConfig) settings.registryConfigs = flags.registryConfig;
  if (flags.debug && console) settings.debug = (line) => console.err(`${line}\n`);
  return settings;
}

/**
 * Everything `openTarget` needs: the remote settings, whether the target is written, and how its
 * referrers are found (`--distribution-spec`, on the commands that have it).
 */
export function openOptions(
  flags: RemoteValues & Partial<CommonValues> & { distributionSpec?: ReferrersMode },
  console?: Console,
  forWriting = false,
): OpenTargetOptions {
  const options: OpenTargetOptions = { remote: remoteSettings(flags, console), forWriting };
  if (flags.distributionSpec !== undefined) options.referrers = flags.distributionSpec;
  return options;
}

/**
 * `--concurrency N`: a whole number; 0 or less means the command's default, as in ORAS (whose copy
 * engine takes a limit of 0 or less as its default, 3), so scripts passing 0 keep working.
 */
export function parseConcurrency(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) {
    throw new SkiffError("USAGE", `--concurrency must be a whole number, got "${value}"`);
  }
  return Number(value) < 1 ? fallback : Number(value);
}

/** Whether referrers are copied, from `--include-referrers`/`--exclude-referrers` (not both). */
function referrersFlag(flags: FlagValues<typeof referrerFlags>): boolean {
  if (flags.includeReferrers && flags.excludeReferrers) {
    throw new SkiffError("USAGE", "--include-referrers and --exclude-referrers cannot be used together");
  }
  return !flags.excludeReferrers;
}

/** The flags backup and restore share, after their own. */
export const TAG_COPY_FLAGS = [
  referrerFlags,
  distributionSpecFlags,
  formatFlags(["text", "json"]),
  remoteFlags,
  commonFlags,
] as const;

/** The options of backup's and restore's tag copy: the tags the argument names, and the flags. */
export function tagCopyOptions(
  ref: ParsedReference,
  flags: FlagValues<typeof referrerFlags> & { concurrency: string },
  defaultConcurrency: number,
): { tags?: string[]; referrers: boolean; dryRun: boolean; concurrency: number } {
  return {
    ...(ref.tags.length > 0 ? { tags: ref.tags } : {}),
    referrers: referrersFlag(flags),
    dryRun: Boolean(flags.dryRun),
    concurrency: parseConcurrency(flags.concurrency, defaultConcurrency),
  };
}

/** Refuses stdin for content (`what`, given as `-`) when the password or token comes from stdin too. */
export function refuseSecondStdin(flags: RemoteValues, what: string): void {
  const secret = flags.passwordStdin
    ? "`--password-stdin` read password"
    : flags.identityTokenStdin
      ? "`--identity-token-stdin` read identity token"
      : undefined;
  if (secret) {
    // ORAS's words, which scripts may look for.
    throw new SkiffError(
      "USAGE",
      `\`-\` read file from input and ${secret} from input cannot be both used`,
      `${what} and the ${flags.passwordStdin ? "password" : "identity token"} cannot both come from stdin: log in first (skiff login), or give the file by name`,
    );
  }
}

/** For a `-` file: how to open stdin, and the name it is published under. */
export async function stdinOptions(
  fileArgs: string[],
  flags: { stdinName: string } & RemoteValues,
): Promise<{ stdin?: () => ReadableStream<Uint8Array>; stdinName?: string }> {
  if (!fileArgs.some((arg) => arg === "-" || arg.startsWith("-:"))) return {};
  refuseSecondStdin(flags, "a file");
  const { stdinOpener } = await import("./files.ts");
  return { stdin: await stdinOpener(), stdinName: flags.stdinName };
}

/** The manifest's `created` annotation and the tar mtime, from `--no-created` and SOURCE_DATE_EPOCH. */
export async function reproducibility(
  flags: { created?: boolean },
  env: Record<string, string | undefined> = process.env,
): Promise<{ created: string | null | undefined; mtime: number | undefined }> {
  const { formatCreated, sourceDateEpoch } = await import("../ops/annotations.ts");
  const epoch = sourceDateEpoch(env);
  const created =
    flags.created === false ? null : epoch === undefined ? undefined : formatCreated(new Date(epoch * 1000));
  return { created, mtime: epoch };
}
