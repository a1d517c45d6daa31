import type { Command } from "commander";
import { SkiffError } from "../../errors.ts";
import { isTerminal } from "../../runtime/index.ts";
import type { Console } from "../io.ts";
import { addCommonOptions, addRemoteOptions, remoteSettings } from "../options.ts";
import { readLine } from "./prompt.ts";

type Flags = Record<string, unknown>;

export function registerLogin(command: Command, console: Console): void {
  command
    .description("Log in to a registry: check the credentials, then store them in the docker config")
    .argument("<registry>", "registry host, e.g. registry.example.com or localhost:5000");
  addRemoteOptions(command);
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Credentials go to the first --registry-config file, else $DOCKER_CONFIG/config.json or
~/.docker/config.json (mode 0600, written atomically), or to the credential helper that file names
(credsStore, credHelpers). A password without a username is an identity token.

Examples:
  skiff login -u me --password-stdin registry.example.com < token.txt
  skiff login localhost:5000                  (prompts on a terminal)
  skiff login --registry-config auth.json -u me -p secret registry.example.com`,
  );
  command.action(async (registry: string, flags: Flags) => {
    const { login } = await import("../../ops/login.ts");
    const settings = remoteSettings(flags, "", console);
    if (settings.password === undefined && settings.identityToken === undefined) {
      if (!isTerminal("stdin")) {
        throw new SkiffError(
          "USAGE",
          "login needs credentials: stdin is not a terminal to ask for them",
          "pass -u USER with -p PASSWORD or --password-stdin, or --identity-token",
        );
      }
      if (settings.username === undefined) {
        const username = (await readLine(console, "Username: ")).trim();
        if (username !== "") settings.username = username;
      }
      const secret = await readLine(console, settings.username ? "Password: " : "Token: ", true);
      if (secret === "")
        throw new SkiffError("USAGE", settings.username ? "password required" : "token required");
      if (settings.username) settings.password = secret;
      else settings.identityToken = secret;
    }
    await login(registry, settings);
    console.out("Login Succeeded\n");
  });
}

export function registerLogout(command: Command, console: Console): void {
  command
    .description("Log out from a registry: remove its stored credentials")
    .argument("<registry>", "registry host, e.g. registry.example.com or localhost:5000")
    .option(
      "--registry-config <path>",
      "registry credentials file (default: the docker config)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .option("-d, --debug", "print debug output on stderr");
  command.action(async (registry: string, flags: Flags) => {
    const { logout } = await import("../../ops/login.ts");
    const configs = flags.registryConfig as string[] | undefined;
    const removed = logout(registry, configs ? { registryConfigs: configs } : {});
    if (removed) console.out(`Removing login credentials for ${registry}\n`);
    else console.err(`Not logged in to ${registry}\n`);
  });
}
