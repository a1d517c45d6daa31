import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { OpenTargetOptions, RemoteSettings } from "../content/open.ts";
import { SkiffError } from "../errors.ts";
import { type Platform, parsePlatform } from "../oci/platform.ts";
import { type ParsedReference, type ParseReferenceOptions, parseReference } from "../oci/reference.ts";
import { hostPlatform } from "../runtime/index.ts";
import type { Console } from "./io.ts";

/** Which side of a two-sided command (`cp --from-* --to-*`) a flag set belongs to. */
export type Side = "" | "from" | "to";

type Flags = Record<string, unknown>;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function flagName(side: Side, name: string): string {
  return side ? `--${side}-${name}` : `--${name}`;
}

function key(side: Side, camel: string): string {
  return side ? side + camel[0]!.toUpperCase() + camel.slice(1) : camel;
}

function sideNote(side: Side): string {
  return side === "from" ? " (source)" : side === "to" ? " (destination)" : "";
}

/** `-d/--debug` and `--no-tty`, on every command that talks to a target. */
export function addCommonOptions(command: Command): Command {
  return command
    .option("-d, --debug", "print HTTP requests and responses (secrets scrubbed) on stderr")
    .option("--no-tty", "print plain status lines instead of progress bars");
}

/** Registry flags with ORAS's names: credentials, TLS, transport, headers. */
export function addRemoteOptions(command: Command, side: Side = ""): Command {
  const note = sideNote(side);
  const short = (s: string, long: string) => (side ? long : `${s}, ${long}`);
  return command
    .option(short("-u", `${flagName(side, "username")} <name>`), `registry username${note}`)
    .option(short("-p", `${flagName(side, "password")} <password>`), `registry password or token${note}`)
    .option(`${flagName(side, "password-stdin")}`, `read the password from stdin${note}`)
    .option(`${flagName(side, "identity-token")} <token>`, `registry identity (refresh) token${note}`)
    .option(`${flagName(side, "identity-token-stdin")}`, `read the identity token from stdin${note}`)
    .option(`${flagName(side, "insecure")}`, `allow TLS connections without certificate verification${note}`)
    .option(`${flagName(side, "plain-http")}`, `use plain HTTP instead of HTTPS${note}`)
    .option(`${flagName(side, "ca-file")} <file>`, `trust the CA certificates in this PEM file${note}`)
    .option(`${flagName(side, "cert-file")} <file>`, `client certificate for mutual TLS${note}`)
    .option(`${flagName(side, "key-file")} <file>`, `client key for mutual TLS${note}`)
    .option(
      `${flagName(side, "resolve")} <host:port:address[:port]>`,
      `resolve a host to an address${note}`,
      collect,
    )
    .option(`${flagName(side, "registry-config")} <path>`, `registry credentials file${note}`, collect)
    .option(
      side ? `${flagName(side, "header")} <header>` : "-H, --header <header>",
      `add an HTTP header${note}`,
      collect,
    );
}

/** `--oci-layout` and `--oci-layout-path`, for commands that accept a layout. */
export function addLayoutOptions(command: Command, side: Side = ""): Command {
  const note = sideNote(side);
  return command
    .option(
      flagName(side, "oci-layout"),
      `the reference is an OCI layout PATH[:tag|@digest] (directory or tar)${note}`,
    )
    .option(
      `${flagName(side, "oci-layout-path")} <path>`,
      `the OCI layout to use; the argument is the tag or digest${note}`,
    );
}

/** `--platform os/arch[/variant][:os.version]`. */
export function addPlatformOption(
  command: Command,
  description = "select one platform of a multi-platform index",
): Command {
  return command.option("--platform <os/arch[/variant][:os.version]>", description);
}

/** `--format`, restricted to what the command can print. */
export function addFormatOption(
  command: Command,
  choices: string[] = ["text", "json", "go-template"],
): Command {
  if (!choices.includes("go-template")) {
    return command.addOption(new Option("--format <format>", `output format: ${choices.join(", ")}`));
  }
  return command
    .addOption(new Option("--format <format>", `output format: ${choices.join(", ")}[=TEMPLATE]`))
    .option("--template <template>", "Go template used with --format go-template");
}

/** The platform flag as a Platform, or undefined; a missing architecture is the host's. */
export function platformFlag(flags: Flags): Platform | undefined {
  const text = flags.platform as string | undefined;
  return text === undefined ? undefined : parsePlatform(text, hostPlatform().architecture);
}

/** Reference-parsing options from `--oci-layout`/`--oci-layout-path` on one side. */
export function referenceOptions(flags: Flags, side: Side = "", tagList = false): ParseReferenceOptions {
  const options: ParseReferenceOptions = { tagList };
  if (flags[key(side, "ociLayout")]) options.layout = true;
  const path = flags[key(side, "ociLayoutPath")] as string | undefined;
  if (path !== undefined) options.layoutPath = path;
  return options;
}

/** Parses a command's reference argument with the side's layout flags. */
export function referenceArgument(
  text: string,
  flags: Flags,
  side: Side = "",
  tagList = false,
): ParsedReference {
  return parseReference(text, referenceOptions(flags, side, tagList));
}

let stdinText: string | undefined;

/** Reads all of stdin once (for --password-stdin / --identity-token-stdin). */
export function readStdinOnce(): string {
  stdinText ??= readFileSync(0, "utf8");
  return stdinText;
}

function readPem(path: string | undefined, what: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SkiffError("INVALID_INPUT", `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** RemoteSettings from the remote flags of one side. */
export function remoteSettings(flags: Flags, side: Side = "", console?: Console): RemoteSettings {
  const get = <T>(camel: string): T | undefined => flags[key(side, camel)] as T | undefined;
  const settings: RemoteSettings = {};
  const username = get<string>("username");
  let password = get<string>("password");
  if (get<boolean>("passwordStdin")) {
    if (password !== undefined)
      throw new SkiffError("USAGE", "--password and --password-stdin cannot be used together");
    password = readStdinOnce().replace(/\r?\n$/, "");
  }
  let identityToken = get<string>("identityToken");
  if (get<boolean>("identityTokenStdin")) identityToken = readStdinOnce().trim();
  if (username !== undefined) settings.username = username;
  if (password !== undefined) settings.password = password;
  if (identityToken !== undefined) settings.identityToken = identityToken;
  if (get<boolean>("plainHttp")) settings.plainHttp = true;
  if (get<boolean>("insecure")) settings.insecure = true;
  for (const [field, flag] of [
    ["caFile", "caFile"],
    ["certFile", "certFile"],
    ["keyFile", "keyFile"],
  ] as const) {
    const value = get<string>(flag);
    if (value !== undefined) {
      readPem(value, flag === "caFile" ? "CA file" : flag === "certFile" ? "certificate file" : "key file");
      settings[field] = value;
    }
  }
  const resolve = get<string[]>("resolve");
  if (resolve) settings.resolve = resolve;
  const headers = get<string[]>("header");
  if (headers) settings.headers = headers;
  const configs = get<string[]>("registryConfig");
  if (configs) settings.registryConfigs = configs;
  if (flags.debug && console) settings.debug = (line) => console.err(`${line}\n`);
  return settings;
}

/** Everything `openTarget` needs for one side of a command. */
export function openOptions(
  flags: Flags,
  side: Side = "",
  console?: Console,
  forWriting = false,
): OpenTargetOptions {
  return { remote: remoteSettings(flags, side, console), forWriting };
}

/** Parses repeated `-a key=value` flags into an annotation map. */
export function annotationFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new SkiffError("USAGE", `invalid annotation "${value}": expected KEY=VALUE`);
    const name = value.slice(0, eq);
    if (name in out) throw new SkiffError("USAGE", `annotation "${name}" is given twice`);
    out[name] = value.slice(eq + 1);
  }
  return out;
}

export { collect };
