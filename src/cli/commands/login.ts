import { SkiffError } from "../../errors.ts";
import { type Register, withFlags } from "../command.ts";
import { collect, commonFlags, remoteFlags, remoteSettings, verboseFlags } from "../flags.ts";
import { readLine } from "../prompt.ts";

export const registerLogin: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Check a user name and password (or an identity token) against a registry, then store them for later commands in the docker config, or in the credential helper it names, where docker, ORAS and skopeo find them too. skiff asks for what is missing, on a terminal or from piped stdin (one line each); in scripts pass the secret on stdin.",
      )
      .argument("<registry>", "registry host, e.g. registry.example.com or localhost:5000"),
    remoteFlags,
    commonFlags,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Credentials go to the first --registry-config file, else $DOCKER_CONFIG/config.json or
~/.docker/config.json (mode 0600, written atomically), or to the credential helper that file names
(credsStore, credHelpers). A password without a username is an identity token.

Examples:
  # In CI: the token on stdin, never on the command line
  skiff login -u me --password-stdin registry.example.com < token.txt
  # On a terminal: skiff asks for the user name and password
  skiff login localhost:5000
  # From a script without flags: the user name and the password, one line each
  printf '%s\n' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | skiff login registry.example.com
  # Store the credentials in a file of your own
  skiff login --registry-config auth.json -u me -p secret registry.example.com`,
    )
    .action(async (registry, flags) => {
      const { login } = await import("../../ops/login.ts");
      const settings = remoteSettings(flags, console);
      // What is missing is asked for, on a terminal or from piped stdin (one line each), as ORAS does.
      if (settings.password === undefined && settings.identityToken === undefined) {
        if (settings.username === undefined) {
          const username = (await readLine(console, "Username: ")).trim();
          if (username !== "") settings.username = username;
        }
        const secret = await readLine(console, settings.username ? "Password: " : "Token: ", true);
        if (secret === "") {
          throw new SkiffError("INVALID_INPUT", settings.username ? "password required" : "token required");
        }
        if (settings.username) settings.password = secret;
        else settings.identityToken = secret;
      }
      await login(registry, settings);
      console.out("Login Succeeded\n");
    });
};

export const registerLogout: Register = (command, console) => {
  command
    .description(
      "Remove the stored credentials of one registry from the docker config (or from the --registry-config files), leaving those of other registries as they are. Not being logged in is not an error.",
    )
    .argument("<registry>", "registry host, e.g. registry.example.com or localhost:5000")
    .option("--registry-config <path>", "registry credentials file (default: the docker config)", collect)
    .option("-d, --debug", "print debug output on stderr")
    .addHelpText(
      "after",
      `
Examples:
  # Forget the credentials of a registry
  skiff logout localhost:5000
  # Remove them from a file of your own
  skiff logout --registry-config auth.json registry.example.com`,
    )
    .action(async (registry, flags) => {
      const { logout } = await import("../../ops/login.ts");
      const configs = flags.registryConfig;
      const removed = logout(registry, configs ? { registryConfigs: configs } : {});
      // ORAS prints nothing on stdout; what happened is said on stderr.
      console.err(
        removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`,
      );
    });
};
