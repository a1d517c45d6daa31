import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { run } from "../../src/cli/program.ts";
import { captureConsole as capture } from "../fixtures/capture-console.ts";

async function completion(shell: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const console = capture();
  const code = await run(["completion", shell], console);
  return { code, stdout: console.stdout, stderr: console.stderr };
}

function bashComplete(script: string, words: string[]): string[] {
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_skiff; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync("bash", ["-c", program], { encoding: "utf8" });
  expect(result.status).toBe(0);
  return result.stdout.split("\n").filter(Boolean);
}

describe("skiff completion", () => {
  test("bash script completes commands and the flags of a subcommand", async () => {
    const { code, stdout } = await completion("bash");
    expect(code).toBe(0);
    expect(bashComplete(stdout, ["skiff", "ver"])).toEqual(["version"]);
    expect(bashComplete(stdout, ["skiff", "completion", "--h"])).toEqual(["--help"]);
  });

  test("zsh, fish and powershell scripts name the commands", async () => {
    for (const shell of ["zsh", "fish", "powershell"]) {
      const { code, stdout } = await completion(shell);
      expect(code).toBe(0);
      expect(stdout).toContain("completion");
      expect(stdout).toContain("version");
    }
    expect((await completion("fish")).stdout).toContain(
      "complete -c skiff -n '__fish_use_subcommand' -a 'version'",
    );
  });

  test("an unknown shell is a usage error with the list of shells", async () => {
    const { code, stderr } = await completion("tcsh");
    expect(code).toBe(1);
    expect(stderr).toContain("Usage: skiff completion");
    expect(stderr).toContain('unknown shell "tcsh"');
    expect(stderr).toContain("bash, zsh, fish, powershell");
  });
});
