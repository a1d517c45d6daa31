/**
 * The last behaviours ORAS's e2e suite checked that skiff did differently, with the compiled binary
 * against real registries (Debian's docker-registry, without the referrers API):
 * `--artifact-platform` writes only the platform as the image config (ORAS's bytes and digest);
 * `cp -r` records a copied subject that is a referrer itself (a signature of an SBOM of an image)
 * in the fallback index and in a layout; `--debug` numbers requests once per process (`Request #0`)
 * and lists each one's headers quoted (`"A": " b"`, a `-H` value as given);
 * `resolve` says `failed to resolve digest:` first; `cp`'s `--from-resolve`/`--to-resolve` win over
 * the shared `--resolve`; a registry reference without tag or digest is a usage error everywhere; a
 * reader that closes stdout early (`| head`) ends skiff quietly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff, skiffCommand, tmpDir } from "../harness/skiff.ts";

let registry: RunningRegistry;
let other: RunningRegistry;
let work: string;

async function skiff(args: string[]) {
  const result = await runSkiff(args, { cwd: work, timeoutMs: 60_000 });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

async function ok(args: string[]): Promise<string> {
  const result = await skiff(args);
  if (result.code !== 0)
    throw new Error(`skiff ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

beforeAll(async () => {
  work = tmpDir("skiff-oras-final-");
  mkdirSync(join(work, "foobar"));
  writeFileSync(join(work, "foobar", "bar"), "bar");
  writeFileSync(join(work, "sbom.json"), '{"sbom":true}');
  writeFileSync(join(work, "sig.txt"), "signed");
  [registry, other] = await Promise.all([startRegistry("plain"), startRegistry("plain")]);
});

afterAll(async () => {
  await Promise.all([registry?.stop(), other?.stop()]);
});

describe("push --artifact-platform", () => {
  // ORAS 1.3.2 writes exactly these bytes for darwin/arm64 (config digest e94c0ba80a11...).
  const ORAS_CONFIG = '{"architecture":"arm64","os":"darwin"}';
  const ORAS_CONFIG_DIGEST = "sha256:e94c0ba80a1157ffab5b5c6656fffc089c6446c7ed0604f3382910d1ef7dd40d";

  test("the config is the platform alone: ORAS's bytes, digest and status lines", async () => {
    expect(sha256(ORAS_CONFIG)).toBe(ORAS_CONFIG_DIGEST);
    const layout = join(work, "platform");
    const out = await ok([
      "push",
      "--oci-layout",
      `${layout}:e2e`,
      "--artifact-platform",
      "darwin/arm64",
      "foobar/bar",
    ]);
    expect(out).toContain("Uploading e94c0ba80a11 application/vnd.oci.image.config.v1+json\n");
    expect(out).toContain("Uploaded  e94c0ba80a11 application/vnd.oci.image.config.v1+json\n");
    expect(out).toContain("Uploaded  fcde2b2edba5 foobar/bar\n");
    expect(out).toContain("ArtifactType: application/vnd.unknown.artifact.v1\n");
    const manifest = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${layout}:e2e`]));
    expect(manifest.config).toEqual({
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: ORAS_CONFIG_DIGEST,
      size: ORAS_CONFIG.length,
    });
    const blob = readFileSync(join(layout, "blobs", "sha256", ORAS_CONFIG_DIGEST.slice(7)), "utf8");
    expect(blob).toBe(ORAS_CONFIG);
  });

  test("image-spec v1.0: the same config, its media type as the artifact type", async () => {
    const layout = join(work, "platform-v10");
    const out = await ok([
      "push",
      "--oci-layout",
      `${layout}:e2e`,
      "--image-spec",
      "v1.0",
      "--artifact-platform",
      "darwin/arm64",
      "foobar/bar",
    ]);
    expect(out).toContain("Uploaded  e94c0ba80a11 application/vnd.oci.image.config.v1+json\n");
    expect(out).toContain("ArtifactType: application/vnd.oci.image.config.v1+json\n");
    const manifest = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${layout}:e2e`]));
    expect(manifest.artifactType).toBeUndefined();
    expect(manifest.config.digest).toBe(ORAS_CONFIG_DIGEST);
  });

  test("variant and os.version follow in ORAS's order; pull --platform selects it", async () => {
    const layout = join(work, "platform-el8");
    await ok([
      "push",
      "--oci-layout",
      `${layout}:e2e`,
      "--artifact-platform",
      "linux/arm64/v8:el8",
      "foobar/bar",
    ]);
    const config = await ok(["manifest", "fetch-config", "--oci-layout", `${layout}:e2e`]);
    expect(config).toBe('{"architecture":"arm64","os":"linux","os.version":"el8","variant":"v8"}');
    const out = await ok([
      "pull",
      "--oci-layout",
      "--platform",
      "linux/arm64/v8:el8",
      "-o",
      join(work, "pulled-el8"),
      `${layout}:e2e`,
    ]);
    expect(out).toContain("Downloaded  fcde2b2edba5 foobar/bar");
    expect(readFileSync(join(work, "pulled-el8", "foobar", "bar"), "utf8")).toBe("bar");
  });
});

describe("cp -r of a referrer whose subject is a referrer too", () => {
  let image: string;
  let sbom: string;
  let signature: string;

  beforeAll(async () => {
    const repo = `${registry.localhost}/chain/app`;
    image = JSON.parse(await ok(["push", "--format", "json", `${repo}:v1`, "foobar/bar"])).digest;
    const attach = async (subject: string, type: string, file: string) =>
      JSON.parse(
        await ok(["attach", "--format", "json", "--artifact-type", type, `${repo}@${subject}`, file]),
      ).digest as string;
    sbom = await attach(image, "application/vnd.example.sbom", "sbom.json");
    signature = await attach(sbom, "application/vnd.example.sig", "sig.txt");
  });

  test("to a registry without the referrers API: both fallback indexes, so discover finds the chain", async () => {
    const to = `${other.localhost}/chain/copied`;
    await ok(["cp", "-r", `${registry.localhost}/chain/app@${signature}`, to]);
    const response = await other.fetch("/v2/chain/copied/tags/list");
    const tags = ((await response.json()) as { tags: string[] }).tags.sort();
    expect(tags).toEqual([`sha256-${image.slice(7)}`, `sha256-${sbom.slice(7)}`].sort());
    const tree = await ok(["discover", `${to}@${image}`]);
    expect(tree).toContain(sbom);
    expect(tree).toContain(signature);
    const json = JSON.parse(await ok(["discover", "--format", "json", `${to}@${image}`]));
    expect(json.referrers.map((r: { digest: string }) => r.digest)).toEqual([sbom]);
    expect(json.referrers[0].referrers.map((r: { digest: string }) => r.digest)).toEqual([signature]);
  });

  test("to a layout: the subject that is a referrer gets an untagged entry, so discover finds it", async () => {
    const layout = join(work, "chain-layout");
    await ok(["cp", `${registry.localhost}/chain/app@${signature}`, "--to-oci-layout", `${layout}:sig`]);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    const entries = index.manifests.map((m: { digest: string }) => m.digest).sort();
    expect(entries).toEqual([sbom, signature].sort());
    const tree = await ok(["discover", "--oci-layout", `${layout}@${image}`]);
    expect(tree).toContain(sbom);
    expect(tree).toContain(signature);
  });
});

describe("--debug", () => {
  test("cp numbers every request once for both sides: Request #0 appears once", async () => {
    await ok(["push", `${registry.localhost}/debug/src:v1`, "foobar/bar"]);
    const result = await skiff([
      "cp",
      "-d",
      `${registry.localhost}/debug/src:v1`,
      `${other.localhost}/debug/dst:v1`,
    ]);
    expect(result.code).toBe(0);
    const requests = [...result.stderr.matchAll(/^> Request #(\d+): /gm)].map((m) => Number(m[1]));
    const responses = [...result.stderr.matchAll(/^< Response #(\d+): /gm)].map((m) => Number(m[1]));
    expect(requests.filter((id) => id === 0)).toHaveLength(1);
    expect(new Set(requests).size).toBe(requests.length);
    expect(requests.length).toBeGreaterThan(4);
    // Both registries were asked, under one count.
    expect(result.stderr).toContain(`: HEAD http://${registry.localhost}/`);
    expect(result.stderr).toContain(`http://${other.localhost}/`);
    expect([...responses].sort((a, b) => a - b)).toEqual([...requests].sort((a, b) => a - b));
  });
});

describe("--debug with -H", () => {
  test("each request lists its headers quoted, custom ones as given, after `> Request headers:`", async () => {
    await ok(["push", `${registry.localhost}/debug/hdr:v1`, "foobar/bar"]);
    const result = await skiff([
      "resolve",
      "-d",
      "-H",
      "Foo:bar",
      "-H",
      "A: b",
      `${registry.localhost}/debug/hdr:v1`,
    ]);
    expect(result.code).toBe(0);
    // Split the way ORAS's suite reads a debug log: from `Request #` to `Response #`.
    const requests = result.stderr
      .split("Request #")
      .slice(1)
      .map((part) => part.split("Response #")[0]!);
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const headers = request.split("> Request headers:\n")[1] ?? "";
      expect(headers).toContain('"Foo": "bar"');
      expect(headers).toContain('"A": " b"');
      expect(headers).toContain('"User-Agent": "skiff/');
    }
    expect(result.stderr).toContain("< Response headers:\n");
  });

  test("cp --from-header: the source's requests carry it, listed after their URL", async () => {
    await ok(["push", `${registry.localhost}/debug/from:v1`, "foobar/bar"]);
    const result = await skiff([
      "cp",
      "-d",
      "--from-header",
      "Foo:bar",
      `${registry.localhost}/debug/from:v1`,
      `${registry.localhost}/debug/from-copy:v1`,
    ]);
    expect(result.code).toBe(0);
    // The part of each request after a source URL, up to its response, as ORAS's suite reads it.
    const prefix = `://${registry.localhost}/v2/debug/from/`;
    const afterSourceUrl = result.stderr
      .split("Request #")
      .slice(1)
      .map((part) => part.split("Response #")[0]!)
      .filter((part) => part.includes(prefix))
      .map((part) => part.slice(part.indexOf(prefix)));
    expect(afterSourceUrl.length).toBeGreaterThan(0);
    for (const request of afterSourceUrl) expect(request).toContain('"Foo": "bar"');
    const toDestination = result.stderr
      .split("Request #")
      .filter((part) => part.includes("/v2/debug/from-copy/"));
    expect(toDestination.length).toBeGreaterThan(0);
    for (const request of toDestination) expect(request.split("Response #")[0]).not.toContain('"Foo"');
  });
});

describe("resolve", () => {
  test("a missing tag: `failed to resolve digest:` first, with `not found`", async () => {
    await ok(["push", `${registry.localhost}/resolve/app:v1`, "foobar/bar"]);
    const result = await skiff(["resolve", `${registry.localhost}/resolve/app:i-dont-think-this-tag-exists`]);
    expect(result.code).toBe(1);
    const first = result.stderr.split("\n")[0];
    expect(first).toStartWith("Error: failed to resolve digest: ");
    expect(first).toContain("not found");
    expect(first).toContain("Error response from registry: ");
  });

  test("in a layout: the phrase first, skiff's hint (the tags there) second", async () => {
    const layout = join(work, "resolve-layout");
    await ok(["push", "--oci-layout", `${layout}:v1`, "foobar/bar"]);
    const result = await skiff(["resolve", "--oci-layout", `${layout}:nope`]);
    expect(result.code).toBe(1);
    const [first, hint] = result.stderr.split("\n");
    expect(first).toStartWith("Error: failed to resolve digest: ");
    expect(first).toContain("not found");
    expect(hint).toContain("v1");
  });
});

describe("a registry reference without tag or digest", () => {
  test("is a usage error in every command, its usage line after the hint, as in ORAS", async () => {
    const repo = `${registry.localhost}/usage/app`;
    for (const args of [
      ["cp", repo, `${repo}:dst`],
      ["discover", repo],
      ["resolve", repo],
      ["tag", repo, "v2"],
      ["pull", repo],
      ["attach", "--artifact-type", "a/b", repo],
      ["manifest", "fetch", repo],
    ]) {
      const result = await skiff(args);
      const [first, hint, usage] = result.stderr.split("\n");
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(first).toBe(`Error: "${repo}": no tag or digest specified`);
      expect(hint).not.toStartWith("Usage:");
      expect(usage).toStartWith(`Usage: skiff ${args[0]}`);
    }
  });
});

describe("tag list", () => {
  test("with --oci-layout the hint points at the layout's tags", async () => {
    const result = await skiff(["tag", "list", "--oci-layout"]);
    const [first, hint] = result.stderr.split("\n");
    expect(result.code).toBe(1);
    expect(first).toBe('Error: there is no "list" sub-command for "skiff tag" command');
    expect(hint).toContain("OCI image layout");
    expect(hint).toContain('"skiff repo tags --oci-layout PATH"');
  });
});

describe("cp --from-resolve / --to-resolve", () => {
  test("a side's own rule wins over the shared --resolve for the same host and port", async () => {
    await ok(["push", `${registry.localhost}/resolve/cp:v1`, "foobar/bar"]);
    const name = "skiff.e2e.test";
    const result = await skiff([
      "cp",
      `${name}/resolve/cp:v1`,
      `${name}/resolve/cp:copied`,
      "--from-resolve",
      `${name}:80:127.0.0.1:${registry.port}`,
      "--from-plain-http",
      "--to-resolve",
      `${name}:80:127.0.0.1:${other.port}`,
      "--to-plain-http",
      // Nothing listens on port 9: only the sided rules can make this work.
      "--resolve",
      `${name}:80:127.0.0.1:9`,
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(await ok(["resolve", `${other.localhost}/resolve/cp:copied`])).toStartWith("sha256:");
  });

  test("the shared --resolve still serves a side that has no rule of its own", async () => {
    const name = "skiff-shared.e2e.test";
    await ok([
      "cp",
      `${name}/resolve/cp:v1`,
      `${other.localhost}/resolve/cp:shared`,
      "--from-plain-http",
      "--resolve",
      `${name}:80:127.0.0.1:${registry.port}`,
      "--from-resolve",
      `unrelated.e2e.test:80:127.0.0.1:9`,
    ]);
    expect(await ok(["resolve", `${other.localhost}/resolve/cp:shared`])).toStartWith("sha256:");
  });
});

describe("a reader that closes stdout early", () => {
  // skiff starts after the reader has closed its end, so every write meets a closed pipe.
  const closedPipe = (args: string[]) => {
    const { command, args: prefix } = skiffCommand();
    const words = [command, ...prefix, ...args].map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
    const script = `(sleep 0.3; exec ${words}) 2>"$ERR" | { exec 0<&-; sleep 1; }; echo "\${PIPESTATUS[0]}"`;
    const errFile = join(work, `epipe-${args.join("-").replace(/[^a-z-]/g, "")}.err`);
    const shell = spawnSync("bash", ["-c", script], {
      env: { ...process.env, ERR: errFile },
      encoding: "utf8",
    });
    return { status: shell.stdout.trim(), stderr: readFileSync(errFile, "utf8") };
  };

  for (const args of [
    ["blob", "push", "--help"],
    ["attach", "-h"],
    ["version"],
    ["manifest", "fetch", "--oci-layout", "PLACEHOLDER"],
  ]) {
    test(`skiff ${args.join(" ")}: no error printed, the status of a CLI ended by SIGPIPE (141)`, async () => {
      if (args.includes("PLACEHOLDER")) {
        const layout = join(work, "epipe-layout");
        await ok(["push", "--oci-layout", `${layout}:v1`, "foobar/bar"]);
        args[args.length - 1] = `${layout}:v1`;
      }
      const { status, stderr } = closedPipe(args);
      expect(stderr).toBe("");
      expect(status).toBe("141");
    });
  }
});
