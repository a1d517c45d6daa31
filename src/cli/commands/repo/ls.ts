import { asSkiffError, SkiffError } from "../../../errors.ts";
import { type RegisterSubcommand, withFlags } from "../../command.ts";
import { commonFlags, formatFlags, remoteFlags, remoteSettings, verboseFlags } from "../../flags.ts";
import { parseFormat, writeResult } from "../../output/format.ts";

/** Splits `host[:port][/namespace]`. */
function parseRegistryPath(text: string): { registry: string; namespace: string } {
  const slash = text.indexOf("/");
  const registry = slash === -1 ? text : text.slice(0, slash);
  const namespace = slash === -1 ? "" : text.slice(slash + 1).replace(/\/+$/, "");
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)(:\d{1,5})?$/.test(registry)) {
    throw new SkiffError(
      "INVALID_REFERENCE",
      `"${registry}" is not a registry host`,
      "use HOST[:PORT][/NAMESPACE]",
    );
  }
  if (
    namespace !== "" &&
    !/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/.test(namespace)
  ) {
    throw new SkiffError("INVALID_REFERENCE", `"${namespace}" is not a repository namespace`);
  }
  return { registry, namespace };
}

export const registerRepoLs: RegisterSubcommand = (group, console) => {
  withFlags(
    group
      .command("ls")
      .alias("list")
      .summary("List the repositories of a registry (under a namespace when given)")
      .description(
        "List the repositories a registry holds (its catalog), one per line, in the registry's order; with a namespace, only the names under it, without the prefix. Some registries restrict or turn off the catalog.",
      )
      .argument("<registry>", "HOST[:PORT][/NAMESPACE]")
      .option("--last <repository>", "start after this repository"),
    formatFlags(),
    remoteFlags,
    commonFlags,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # Every repository
  skiff repo ls localhost:5000
  # The names under team/, without the prefix
  skiff repo ls localhost:5000/team
  # Continue after a repository
  skiff repo ls --last app localhost:5000
  # As JSON: {"registry": ..., "repositories": [...]}, full names
  skiff repo ls --format json localhost:5000/team`,
    )
    .action(async (text, flags) => {
      const { listRepositories } = await import("../../../content/registry/index.ts");
      const format = parseFormat(flags);
      const { registry, namespace } = parseRegistryPath(text);
      const prefix = namespace ? `${namespace}/` : "";
      const last = flags.last ? `${prefix}${flags.last}` : undefined;
      const repositories: string[] = [];
      const settings = remoteSettings(flags, console);
      try {
        for await (const name of listRepositories(registry, settings, last)) {
          if (name.startsWith(prefix)) repositories.push(name);
        }
      } catch (error) {
        // ORAS's words first, which scripts grep for.
        const failure = asSkiffError(error);
        throw new SkiffError(
          failure.code,
          `could not list repositories for "${registry}": ${failure.message}`,
          failure.hint,
          { cause: error },
        );
      }
      // JSON and templates get full names, as in ORAS; the text lists names under the namespace.
      if (writeResult(console, format, { registry, repositories })) return;
      const lines = repositories.map((name) => name.slice(prefix.length));
      if (lines.length > 0) console.out(`${lines.join("\n")}\n`);
    });
};
