/**
 * cp's per-side remote flags (ORAS's --from-* / --to-*) with the compiled binary against real
 * registries that need different things: basic auth as source, token auth as destination, TLS with
 * a private CA on either side. Credentials given for the wrong side must not be used.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanup, LayoutBuilder, MT, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

let basic: RunningRegistry;
let token: RunningRegistry;
let tls: RunningRegistry;
let layout: LayoutBuilder;
let manifestDigest: string;

beforeAll(async () => {
  [basic, token, tls] = await Promise.all([
    startRegistry("basic"),
    startRegistry("token"),
    startRegistry("tls"),
  ]);
  layout = new LayoutBuilder();
  const manifest = layout.manifest({
    config: layout.imageConfig({ os: "linux", architecture: "amd64" }),
    layers: [layout.blob("layer bytes ".repeat(2000), MT.layer)],
  });
  layout.writeIndex([{ ...manifest, tag: "v1" }]);
  manifestDigest = manifest.digest;
  await basic.seed(`oci:${layout.dir}:v1`, "app:v1");
}, 120_000);

afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop(), tls?.stop()]);
  cleanup();
});

/** The digest the registry serves for `repo:reference` (with the harness's own credentials), or the status. */
async function served(registry: RunningRegistry, repo: string, reference: string): Promise<string | number> {
  const response = await registry.fetch(`/v2/${repo}/manifests/${reference}`, {
    headers: { Accept: [MT.manifest, MT.index].join(", ") },
  });
  if (!response.ok) {
    await response.body?.cancel();
    return response.status;
  }
  await response.arrayBuffer();
  return response.headers.get("docker-content-digest") ?? "";
}

describe("cp --from-* / --to-*", () => {
  test("basic-auth source -> token-auth destination, each with its own credentials", async () => {
    const result = await runSkiff([
      "cp",
      "--no-tty",
      "--from-username",
      basic.username!,
      "--from-password",
      basic.password!,
      "--to-username",
      token.username!,
      "--to-password",
      token.password!,
      `${basic.localhost}/app:v1`,
      `${token.localhost}/copied:v1`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Copied [registry] ${basic.localhost}/app:v1 => [registry] ${token.localhost}/copied:v1\n`,
    );
    expect(await served(token, "copied", "v1")).toBe(manifestDigest);
  });

  test("without source credentials the copy fails and the destination stays empty", async () => {
    const result = await runSkiff([
      "cp",
      "--to-username",
      token.username!,
      "--to-password",
      token.password!,
      `${basic.localhost}/app:v1`,
      `${token.localhost}/no-creds:v1`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unauthorized|credentials|authentication/i);
    expect(result.stderr).toContain(basic.localhost);
    expect(await served(token, "no-creds", "v1")).toBe(404);
  });

  test("credentials for the wrong side are not used", async () => {
    const result = await runSkiff([
      "cp",
      "--to-username",
      basic.username!,
      "--to-password",
      basic.password!,
      `${basic.localhost}/app:v1`,
      `oci-layout://${join(tempDir(), "out")}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unauthorized|credentials|authentication/i);
  });

  test("--to-password-stdin", async () => {
    const result = await runSkiff(
      [
        "cp",
        "--from-oci-layout",
        `${layout.dir}:v1`,
        "--to-username",
        token.username!,
        "--to-password-stdin",
        `${token.localhost}/from-stdin:v1`,
      ],
      { stdin: `${token.password}\n` },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await served(token, "from-stdin", "v1")).toBe(manifestDigest);
  });

  test("TLS with a private CA: --to-ca-file and --from-ca-file; without the CA the handshake is refused", async () => {
    const toTls = await runSkiff([
      "cp",
      "--to-ca-file",
      tls.caFile!,
      `oci-layout://${layout.dir}:v1`,
      `${tls.host}/secure:v1`,
    ]);
    expect(toTls.code, toTls.stderr).toBe(0);
    expect(await served(tls, "secure", "v1")).toBe(manifestDigest);
    const out = join(tempDir(), "from-tls");
    const fromTls = await runSkiff([
      "cp",
      "--from-ca-file",
      tls.caFile!,
      `${tls.host}/secure:v1`,
      `oci-layout://${out}`,
    ]);
    expect(fromTls.code, fromTls.stderr).toBe(0);
    const refused = await runSkiff([
      "cp",
      `${tls.host}/secure:v1`,
      `oci-layout://${join(tempDir(), "no-ca")}`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/certificate|TLS/i);
    const wrongSide = await runSkiff([
      "cp",
      "--to-ca-file",
      tls.caFile!,
      `${tls.host}/secure:v1`,
      `oci-layout://${join(tempDir(), "wrong-side")}`,
    ]);
    expect(wrongSide.code).toBe(1);
    expect(wrongSide.stderr).toMatch(/certificate|TLS/i);
  });
});
