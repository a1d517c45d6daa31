import { SkiffError } from "../../errors.ts";
import type { CommandUnknownOpts, Register } from "../command.ts";

interface CommandInfo {
  path: string[];
  subcommands: string[];
  options: string[];
}

function describe(command: CommandUnknownOpts, path: string[] = []): CommandInfo[] {
  const info: CommandInfo = {
    path,
    subcommands: command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]),
    options: command.options.flatMap((option) =>
      [option.long, option.short].filter((flag): flag is string => !!flag),
    ),
  };
  return [info, ...command.commands.flatMap((sub) => describe(sub, [...path, sub.name()]))];
}

function bash(infos: CommandInfo[]): string {
  const cases = infos
    .map(
      (info) =>
        `    "${info.path.join(" ")}") words="${[...info.subcommands, ...info.options, "--help"].join(" ")}" ;;`,
    )
    .join("\n");
  return `# bash completion for skiff: source <(skiff completion bash)
_skiff() {
  local cur path="" word words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) [ -n "$(_skiff_words "\${path:+$path }$word")" ] && path="\${path:+$path }$word" ;; esac
  done
  words="$(_skiff_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_skiff_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o default -F _skiff skiff
`;
}

function zsh(infos: CommandInfo[]): string {
  return `#compdef skiff
# zsh completion for skiff: skiff completion zsh > "\${fpath[1]}/_skiff"
autoload -U +X bashcompinit && bashcompinit
${bash(infos)}`;
}

function fish(infos: CommandInfo[]): string {
  const lines = ["# fish completion for skiff: skiff completion fish | source", "complete -c skiff -f"];
  for (const info of infos) {
    const condition =
      info.path.length === 0
        ? "__fish_use_subcommand"
        : `__fish_seen_subcommand_from ${info.path[info.path.length - 1]}`;
    for (const sub of info.subcommands) lines.push(`complete -c skiff -n '${condition}' -a '${sub}'`);
    for (const option of info.options) {
      const flag = option.startsWith("--") ? `-l ${option.slice(2)}` : `-s ${option.slice(1)}`;
      lines.push(`complete -c skiff -n '${condition}' ${flag}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function powershell(infos: CommandInfo[]): string {
  const table = infos
    .map(
      (info) =>
        `    '${info.path.join(" ")}' = @(${[...info.subcommands, ...info.options].map((w) => `'${w}'`).join(", ")})`,
    )
    .join("\n");
  return `# PowerShell completion for skiff: skiff completion powershell | Out-String | Invoke-Expression
$skiffWords = @{
${table}
}
Register-ArgumentCompleter -Native -CommandName skiff, skiff.exe -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $path = @()
  foreach ($element in $commandAst.CommandElements | Select-Object -Skip 1) {
    $text = $element.ToString()
    if ($text -eq $wordToComplete) { break }
    if (-not $text.StartsWith('-') -and $skiffWords.ContainsKey((($path + $text) -join ' '))) { $path += $text }
  }
  $skiffWords[($path -join ' ')] | Where-Object { $_ -like "$wordToComplete*" } |
    ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
`;
}

function programOf(command: CommandUnknownOpts): CommandUnknownOpts {
  return command.parent ? programOf(command.parent) : command;
}

const SHELLS = { bash, zsh, fish, powershell } as const;

export const registerCompletion: Register = (command, console) => {
  command
    .description(
      "Print a script that lets your shell complete skiff's commands, sub-commands and flags. Load it into the current shell, or save it where your shell loads completions from so every new shell has it.",
    )
    .argument("<shell>", "bash, zsh, fish or powershell")
    .addHelpText(
      "after",
      `
Examples:
  # bash, for the current shell (add the line to ~/.bashrc to keep it)
  source <(skiff completion bash)
  # zsh, for every new shell
  skiff completion zsh > "\${fpath[1]}/_skiff"
  # fish, for the current shell
  skiff completion fish | source
  # PowerShell, for the current session
  skiff completion powershell | Out-String | Invoke-Expression`,
    )
    .action((shell) => {
      const generate = SHELLS[shell as keyof typeof SHELLS];
      if (!generate) {
        throw new SkiffError("USAGE", `unknown shell "${shell}"`, "use one of: bash, zsh, fish, powershell");
      }
      console.out(generate(describe(programOf(command))));
    });
};
