/**
 * discover's tree and its deprecated table, with the compiled binary against the real registry,
 * as ORAS 1.3 prints them: annotations shown by default (as YAML), `<unknown>` for a referrer
 * without an artifact type, the table of direct referrers with ORAS's warning on stderr.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

let registry: RunningRegistry;
let host: string;
let work: string;
let subject: string;
let sbom: string;
let signature: string;

async function ok(args: string[]) {
  const result = await runSkiff(args, { cwd: work, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`skiff ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
  return result;
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = tempDir("skiff-discover-output-");
  writeFileSync(join(work, "app"), "app");
  writeFileSync(join(work, "sbom.json"), "{}\n");
  writeFileSync(join(work, "sig"), "sig");
  subject = JSON.parse((await ok(["push", "--format", "json", `${host}/app:v1`, "app"])).stdout).digest;
  const attach = async (reference: string, type: string, file: string, annotation: string) =>
    JSON.parse(
      (await ok(["attach", "--format", "json", "--artifact-type", type, "-a", annotation, reference, file]))
        .stdout,
    ).digest as string;
  sbom = await attach(`${host}/app:v1`, "test/sbom", "sbom.json", "ready=yes");
  signature = await attach(`${host}/app@${sbom}`, "test/sig", "sig", "by=release team");
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("discover", () => {
  test("the tree shows annotations by default, as YAML, before the referrers of each referrer", async () => {
    const { stdout } = await ok(["discover", `${host}/app:v1`]);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe(`${host}/app@${subject}`);
    expect(lines[1]).toBe("└── test/sbom");
    expect(lines[2]).toBe(`    └── ${sbom}`);
    expect(lines[3]).toBe("        ├── [annotations]");
    expect(stdout).toMatch(/│ {3}├── org\.opencontainers\.image\.created: "\d{4}-\d\d-\d\dT[\d:]+Z"\n/);
    expect(stdout).toContain('│   └── ready: "yes"\n');
    expect(stdout).toContain("        └── test/sig\n");
    expect(stdout).toContain(`            └── ${signature}\n`);
    expect(stdout).toContain("├── by: release team\n");
  });

  test("referrers keep the registry's order (fallback index: oldest first); tree types in the order first met", async () => {
    writeFileSync(join(work, "order"), "order");
    await ok(["push", `${host}/order:v1`, "order"]);
    const attached: string[] = [];
    for (const [type, note] of [
      ["t/b", "1"],
      ["t/a", "2"],
      ["t/c", "3"],
      ["t/a", "4"],
    ] as const) {
      const out = await ok([
        "attach",
        "--format",
        "json",
        "--artifact-type",
        type,
        "-a",
        `n=${note}`,
        `${host}/order:v1`,
        "app",
      ]);
      attached.push(JSON.parse(out.stdout).digest);
    }
    const json = JSON.parse((await ok(["discover", "--format", "json", `${host}/order:v1`])).stdout);
    expect(json.referrers.map((r: { digest: string }) => r.digest)).toEqual(attached);
    const tree = await ok(["discover", "--verbose=false", `${host}/order:v1`]);
    expect(tree.stdout.split("\n").slice(1)).toEqual([
      "├── t/b",
      `│   └── ${attached[0]}`,
      "├── t/a",
      `│   ├── ${attached[1]}`,
      `│   └── ${attached[3]}`,
      "└── t/c",
      `    └── ${attached[2]}`,
      "",
    ]);
  });

  test("--format table: direct referrers only, each with its descriptor; ORAS's warning on stderr", async () => {
    const { stdout, stderr } = await ok(["discover", "--format", "table", `${host}/app:v1`]);
    expect(stderr).toBe('Format "table" is deprecated and will be removed in a future release.\n');
    expect(stdout).toStartWith(
      `Discovered 1 artifact referencing ${host}/app:v1\nDigest: ${subject}\n\nArtifact Type   Digest\ntest/sbom       ${sbom}\n{\n`,
    );
    expect(stdout).toContain('"artifactType": "test/sbom"\n}\n');
    expect(stdout).not.toContain(signature);
    const none = await ok(["discover", "--format", "table", `${host}/app@${signature}`]);
    expect(none.stdout).toBe(
      `Discovered 0 artifacts referencing ${host}/app@${signature}\nDigest: ${signature}\n`,
    );
  });

  test("--format json on a layout tag: the root is the index.json entry, tag annotation included", async () => {
    const layout = join(work, "layout");
    await ok(["cp", "-r", `${host}/app:v1`, `oci-layout://${layout}:v1`]);
    const byTag = JSON.parse(
      (await ok(["discover", "--format", "json", `oci-layout://${layout}:v1`])).stdout,
    );
    expect(byTag.annotations["org.opencontainers.image.ref.name"]).toBe("v1");
    expect(byTag.referrers.map((r: { digest: string }) => r.digest)).toEqual([sbom]);
    const byDigest = JSON.parse(
      (await ok(["discover", "--format", "json", `oci-layout://${layout}@${subject}`])).stdout,
    );
    expect(Object.keys(byDigest)).toEqual(["reference", "mediaType", "digest", "size", "referrers"]);
  });
});
