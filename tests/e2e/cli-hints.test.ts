/**
 * Errors that say what to type next: `Error: <what failed, on what>` and a hint, for the cases
 * people meet first. Two are tested where their subject lives: missing credentials
 * (auth-login.test.ts: after logout, the exact `skiff login HOST` hint) and an untrusted
 * certificate (registry-transport.test.ts, "an unknown CA fails with the --ca-file hint"). This
 * file covers the rest with `pull`: an ambiguous tagless layout (and the listed reference works
 * when pasted), an unknown platform in a registry index and in a tagless layout, and a file that
 * exists with -k / --keep-old-files.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LayoutBuilder } from "../fixtures/layout-builder.ts";
import { useRegistries } from "../harness/registry.ts";
import { type RunResult, runSkiff, tmpDir } from "../harness/skiff.ts";

const registries = useRegistries(["plain"]);

/** The error line, the hint lines, and checks common to every failure. */
function failed(result: RunResult, code = 1): { error: string; hint: string[] } {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: "" });
  const [error = "", ...hint] = result.stderr.trimEnd().split("\n");
  expect(error).toStartWith("Error: ");
  expect(hint.length).toBeGreaterThan(0);
  return { error, hint };
}

/** A layout with an index of linux/amd64 and linux/arm64/v8:el8, tagged v1. */
function platformLayout() {
  const b = new LayoutBuilder();
  const amd = b.platformManifest({ os: "linux", architecture: "amd64" }, { "app.txt": "amd64\n" });
  const arm = b.platformManifest(
    { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
    { "app.txt": "arm64 el8\n" },
  );
  const index = b.index([amd, arm]);
  b.writeIndex([{ ...index, tag: "v1" }]);
  return { dir: b.dir, amd, arm, index };
}

describe("ambiguous tagless reference", () => {
  test("the candidates are listed with a reference that selects each, and that reference works", async () => {
    const b = new LayoutBuilder();
    const one = b.manifest({ layers: [b.file("one.txt", "one\n")] });
    const two = b.manifest({ layers: [b.file("two.txt", "two\n")] });
    b.writeIndex([one, two]);
    const { error, hint } = failed(await runSkiff(["pull", `oci-layout://${b.dir}`, "-o", tmpDir()]));
    // ORAS's phrase first (scripts grep it), then why skiff could not pick one.
    expect(error).toBe(
      `Error: oci-layout://${b.dir}: no tag or digest specified, and index.json lists 2 manifests`,
    );
    expect(hint[0]).toBe("pass one of them by digest, or add --platform os/arch[/variant][:os.version]:");
    const pasteable = hint
      .filter((line) => line.includes("select it with: "))
      .map((line) => line.split(": ")[1]!);
    expect(pasteable.sort()).toEqual(
      [`oci-layout://${b.dir}@${one.digest}`, `oci-layout://${b.dir}@${two.digest}`].sort(),
    );

    // ORAS's own form, --oci-layout PATH, and an empty layout: the phrase first as well.
    const resolved = failed(await runSkiff(["resolve", "--oci-layout", b.dir]));
    expect(resolved.error).toContain(
      `${b.dir}: no tag or digest specified, and index.json lists 2 manifests`,
    );
    const empty = new LayoutBuilder();
    empty.writeIndex([]);
    const none = await runSkiff(["resolve", "--oci-layout", empty.dir]);
    expect(none.code).toBe(1);
    expect(none.stderr.split("\n")[0]).toContain(
      `${empty.dir}: no tag or digest specified, and the layout is empty`,
    );

    const out = tmpDir();
    const picked = await runSkiff(["pull", pasteable.find((ref) => ref.endsWith(two.digest))!, "-o", out]);
    expect(picked.code).toBe(0);
    expect(readFileSync(join(out, "two.txt"), "utf8")).toBe("two\n");
  });
});

describe("unknown platform", () => {
  let seeded: ReturnType<typeof platformLayout>;
  let ref: string;

  beforeAll(async () => {
    seeded = platformLayout();
    ref = `${registries.plain.host}/hints/multi:v1`;
    const copied = await runSkiff(["cp", `oci-layout://${seeded.dir}:v1`, ref, "--to-plain-http"]);
    expect(copied.code).toBe(0);
  });

  test("registry index: the platforms it has are listed, with how to pick one", async () => {
    const { error, hint } = failed(
      await runSkiff(["pull", "--plain-http", "--platform", "linux/s390x", ref, "-o", tmpDir()]),
    );
    expect(error).toBe(
      `Error: manifest for platform linux/s390x not found in ${ref} (index ${seeded.index.digest})`,
    );
    expect(hint).toEqual([
      "platforms in this index (pass one to --platform):",
      `  ${seeded.amd.digest} linux/amd64`,
      `  ${seeded.arm.digest} linux/arm64/v8:el8`,
    ]);
  });

  test("a manifest of another platform: ORAS's `not found` in the first line, exit 1", async () => {
    const single = `${registries.plain.host}/hints/multi@${seeded.amd.digest}`;
    const result = await runSkiff(["resolve", "--plain-http", "--platform", "linux/s390x", single]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe(
      `Error: failed to resolve digest: platform linux/s390x not found: manifest ${seeded.amd.digest} in ${single} is for platform linux/amd64`,
    );
  });

  test("tagless layout: what there is, with its platforms", async () => {
    const { error, hint } = failed(
      await runSkiff(["pull", "--platform", "windows/amd64", `oci-layout://${seeded.dir}`, "-o", tmpDir()]),
    );
    expect(error).toBe(`Error: nothing in oci-layout://${seeded.dir} matches platform windows/amd64`);
    expect(hint[0]).toBe("what there is (select one by digest, or with a --platform it has):");
    expect(hint.join("\n")).toContain("index of 2 (linux/amd64, linux/arm64/v8:el8)");
  });
});

describe("a file that exists, with -k / --keep-old-files", () => {
  for (const flag of ["-k", "--keep-old-files"]) {
    test(`${flag}: the path is named, the file is left alone, and the hint says how to overwrite`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([{ ...b.manifest({ layers: [b.file("notes.txt", "new\n")] }), tag: "v1" }]);
      const out = tmpDir();
      const existing = join(out, "notes.txt");
      writeFileSync(existing, "mine\n");
      const { error, hint } = failed(await runSkiff(["pull", flag, `oci-layout://${b.dir}:v1`, "-o", out]));
      expect(error).toBe(`Error: ${existing} already exists: overwrite disallowed`);
      expect(hint).toEqual(["remove it, or drop -k/--keep-old-files to overwrite it"]);
      expect(readFileSync(existing, "utf8")).toBe("mine\n");
      // Without the flag the same pull replaces it.
      expect((await runSkiff(["pull", `oci-layout://${b.dir}:v1`, "-o", out])).code).toBe(0);
      expect(readFileSync(existing, "utf8")).toBe("new\n");
    });
  }
});
