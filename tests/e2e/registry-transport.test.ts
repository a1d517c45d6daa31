/**
 * How skiff reaches registries: TLS verification and its hints, plain HTTP for localhost,
 * --resolve, -H, HTTP(S)_PROXY/NO_PROXY, a registry that is down, chunked and streamed uploads,
 * cross-repository mounts, the referrers fallback index kept by manifest push/delete, and secrets
 * kept out of --debug output and error messages.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { startFaultProxy } from "../harness/fault-proxy.ts";
import { type RegistryHandle, useRegistries } from "../harness/registry.ts";
import { type RunOptions, removeTmpDir, runSkiff, skiffOk, tmpDir, UNDER_DENO } from "../harness/skiff.ts";

const registries = useRegistries(["plain", "basic", "tls", "token"]);
const work = tmpDir("skiff-e2e-transport-");
afterAll(() => removeTmpDir(work));

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";

/** skiff runs in the work folder and must succeed. */
const ok = (args: string[], options: RunOptions = {}) => skiffOk(args, { cwd: work, ...options });

function flags(r: RegistryHandle): string[] {
  const out = r.tls ? ["--ca-file", r.caFile!] : ["--plain-http"];
  if (r.username) out.push("-u", r.username, "-p", r.password!);
  return out;
}

/** Pushes one small file artifact; returns its manifest digest. */
async function pushArtifact(
  r: RegistryHandle,
  repo: string,
  tag: string,
  content = `content of ${repo}:${tag}\n`,
) {
  const dir = join(work, `src-${randomBytes(4).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "file.txt"), content);
  const result = await ok(["push", "--format", "json", ...flags(r), r.ref(repo, tag), "file.txt"], {
    cwd: dir,
  });
  return JSON.parse(result.stdout).digest as string;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("TLS", () => {
  test("an unknown CA fails with the --ca-file hint; --ca-file and --insecure work", async () => {
    const r = registries.tls;
    const digest = await pushArtifact(r, "tls/app", "v1");
    const refused = await runSkiff(["resolve", r.ref("tls/app", "v1")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toStartWith(
      `Error: failed to resolve digest: the TLS certificate of ${r.host} does not verify: x509: certificate signed by unknown authority`,
    );
    expect(refused.stderr).toEndWith(
      "pass --ca-file FILE with the CA that signed it (or --insecure to skip verification)\n",
    );
    expect((await ok(["resolve", "--ca-file", r.caFile!, r.ref("tls/app", "v1")])).stdout).toBe(
      `${digest}\n`,
    );
    // Deno has no per-client switch to skip verification (only the global
    // --unsafely-ignore-certificate-errors), so --insecure is a Bun-binary feature.
    if (!UNDER_DENO)
      expect((await ok(["resolve", "--insecure", r.ref("tls/app", "v1")])).stdout).toBe(`${digest}\n`);
    const pulled = join(work, "tls-pull");
    await ok([
      "pull",
      UNDER_DENO ? `--ca-file=${r.caFile}` : "--insecure",
      "-o",
      pulled,
      r.ref("tls/app", "v1"),
    ]);
  });

  test("HTTPS to a plain registry says to pass --plain-http; plain HTTP to a TLS registry fails clearly", async () => {
    const plain = registries.plain;
    const tlsToPlain = await runSkiff(["resolve", plain.ref("any/app", "v1")]);
    expect(tlsToPlain.code).toBe(1);
    expect(tlsToPlain.stderr).toContain("pass --plain-http");
    const plainToTls = await runSkiff(["resolve", "--plain-http", registries.tls.ref("tls/app", "v1")]);
    expect(plainToTls.code).toBe(1);
    expect(plainToTls.stderr).toStartWith(`Error: `);
    expect(plainToTls.stderr).toContain(registries.tls.host);
  });

  test("localhost is spoken to over plain HTTP without --plain-http (like ORAS); 127.0.0.1 is not", async () => {
    const r = registries.plain;
    const digest = await pushArtifact(r, "local/app", "v1");
    expect((await ok(["resolve", `${r.localhost}/local/app:v1`])).stdout).toBe(`${digest}\n`);
  });
});

describe("reaching the registry", () => {
  test("a registry that is down: cannot reach HOST, at once and without retries", async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runSkiff(["resolve", "--plain-http", `127.0.0.1:${port}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: failed to resolve digest: cannot reach 127.0.0.1:${port}: connection refused\ncheck the host and port, and that the registry is running\n`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("invalid references are refused before any request", async () => {
    for (const bad of [
      "127.0.0.1:5000/UPPER/case:v1",
      "127.0.0.1:5000/app:bad tag",
      "127.0.0.1:5000/app@sha256:abc",
      "noslash",
    ]) {
      const result = await runSkiff(["resolve", "--plain-http", bad]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("invalid reference");
    }
  });

  test("--resolve maps a registry name to an address; the Host header keeps the name", async () => {
    const r = registries.plain;
    const digest = await pushArtifact(r, "resolve/app", "v1");
    const proxy = await startFaultProxy({ upstream: r.url });
    try {
      const result = await ok([
        "resolve",
        "--plain-http",
        "--resolve",
        `registry.invalid:5000:127.0.0.1:${proxy.port}`,
        "registry.invalid:5000/resolve/app:v1",
      ]);
      expect(result.stdout).toBe(`${digest}\n`);
      // Deno sets Host from the URL (it ignores a Host header); the binary keeps the name.
      if (!UNDER_DENO)
        expect(proxy.requests.every((q) => q.headers.host === "registry.invalid:5000")).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  test("HTTP_PROXY is used for the registry, NO_PROXY bypasses it", async () => {
    const r = registries.plain;
    const digest = await pushArtifact(r, "proxied/app", "v1");
    const proxy = await startFaultProxy({ upstream: r.url });
    try {
      const via = await ok(["resolve", "--plain-http", "registry.invalid:5000/proxied/app:v1"], {
        env: { HTTP_PROXY: proxy.url, http_proxy: proxy.url },
      });
      expect(via.stdout).toBe(`${digest}\n`);
      expect(proxy.requests.map((q) => q.target)).toContain(
        "http://registry.invalid:5000/v2/proxied/app/manifests/v1",
      );
      const bypass = await runSkiff(["resolve", "--plain-http", "registry.invalid:5000/proxied/app:v1"], {
        env: {
          HTTP_PROXY: proxy.url,
          http_proxy: proxy.url,
          NO_PROXY: "registry.invalid",
          no_proxy: "registry.invalid",
        },
      });
      expect(bypass.code).toBe(1);
      expect(bypass.stderr).toContain("cannot reach registry.invalid:5000: the host name does not resolve");
    } finally {
      await proxy.stop();
    }
  });

  test("-H headers reach the registry on every request", async () => {
    const r = registries.basic;
    const digest = await pushArtifact(r, "headers/app", "v1");
    const proxy = await startFaultProxy({ upstream: r.url });
    try {
      const result = await ok([
        "resolve",
        "--plain-http",
        "-u",
        r.username!,
        "-p",
        r.password!,
        "-H",
        "X-Tenant: blue",
        "-H",
        "X-Trace: 42",
        `${proxy.host}/headers/app:v1`,
      ]);
      expect(result.stdout).toBe(`${digest}\n`);
      expect(proxy.requests.length).toBeGreaterThanOrEqual(2);
      for (const request of proxy.requests) {
        expect(request.headers["x-tenant"]).toBe("blue");
        expect(request.headers["x-trace"]).toBe("42");
      }
    } finally {
      await proxy.stop();
    }
  });
});

describe("uploads", () => {
  test("SKIFF_UPLOAD_CHUNK_SIZE: a blob goes up in PATCH chunks and arrives whole", async () => {
    for (const r of [registries.plain, registries.token]) {
      const content = randomBytes(300 * 1024 + 17);
      const file = join(work, `chunked-${r.mode}.bin`);
      writeFileSync(file, content);
      const result = await ok(["blob", "push", "-d", ...flags(r), r.ref("chunked/app"), file], {
        env: { SKIFF_UPLOAD_CHUNK_SIZE: "64k" },
      });
      const patches = result.stderr.match(/> Request #\d+: PATCH /g) ?? [];
      expect(patches).toHaveLength(5);
      expect(result.stderr).toContain('"Content-Range": "0-65535"');
      expect(result.stderr).toContain(`"Content-Range": "262144-${content.byteLength - 1}"`);
      const fetched = await r.fetch(`/v2/chunked/app/blobs/${sha256(content)}`);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(content)).toBe(true);
    }
  });

  test("a blob over the in-memory limit is streamed in one PUT", async () => {
    const r = registries.basic;
    const content = randomBytes(6 * 1024 * 1024 + 3);
    const file = join(work, "streamed.bin");
    writeFileSync(file, content);
    const result = await ok(["blob", "push", "-d", ...flags(r), r.ref("streamed/app"), file]);
    expect(result.stderr.match(/> Request #\d+: PUT /g)).toHaveLength(1);
    expect(result.stderr).toContain(`"Content-Length": "${content.byteLength}"`);
    const fetched = await r.fetch(`/v2/streamed/app/blobs/${sha256(content)}`);
    expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(sha256(content));
  });

  test("cp between repositories of one registry mounts blobs instead of uploading them", async () => {
    const r = registries.token;
    await pushArtifact(r, "mount/source", "v1");
    const side = (prefix: string) => [
      `--${prefix}-plain-http`,
      `--${prefix}-username`,
      r.username!,
      `--${prefix}-password`,
      r.password!,
    ];
    const result = await ok([
      "cp",
      "-d",
      ...side("from"),
      ...side("to"),
      r.ref("mount/source", "v1"),
      r.ref("mount/target", "v1"),
    ]);
    expect(result.stderr).toMatch(
      /> Request #\d+: POST \S+\/v2\/mount\/target\/blobs\/uploads\/\?mount=sha256%3A[0-9a-f]{64}&from=mount%2Fsource/,
    );
    expect(result.stderr).toMatch(/< Response #\d+: 201 Created/);
    expect(result.stderr).toMatch(/> Request #\d+: PUT \S+\/v2\/mount\/target\/manifests\//);
    expect(result.stderr).not.toMatch(/> Request #\d+: PUT \S+\/v2\/mount\/target\/blobs\/uploads/);
  });
});

describe("referrers fallback kept by manifest push and delete", () => {
  test("a manifest with a subject lands in the sha256-<hex> index; deleting it takes it out", async () => {
    const r = registries.plain;
    const subject = await pushArtifact(r, "refs/app", "v1");
    const subjectSize = Number(
      (
        await r.fetch(`/v2/refs/app/manifests/v1`, { method: "HEAD", headers: { Accept: MANIFEST } })
      ).headers.get("content-length"),
    );
    const empty = {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: sha256("{}"),
      size: 2,
      data: "e30=",
    };
    const referrer = (n: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        artifactType: "application/vnd.example.sig",
        config: empty,
        layers: [empty],
        subject: { mediaType: MANIFEST, digest: subject, size: subjectSize },
        annotations: { n: String(n) },
      });
    const tag = `sha256-${subject.slice(7)}`;
    await ok(["manifest", "push", "--plain-http", r.ref("refs/app"), "-"], { stdin: referrer(1) });
    await ok(["manifest", "push", "--plain-http", r.ref("refs/app"), "-"], { stdin: referrer(2) });
    const index = (await (
      await r.fetch(`/v2/refs/app/manifests/${tag}`, { headers: { Accept: INDEX } })
    ).json()) as {
      manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[];
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([sha256(referrer(1)), sha256(referrer(2))]);
    expect(index.manifests.map((m) => m.artifactType)).toEqual([
      "application/vnd.example.sig",
      "application/vnd.example.sig",
    ]);
    expect(index.manifests[1]!.annotations).toEqual({ n: "2" });
    const discovered = await ok(["discover", "--plain-http", "--format", "json", r.ref("refs/app", "v1")]);
    expect(
      JSON.parse(discovered.stdout)
        .referrers.map((m: { digest: string }) => m.digest)
        .sort(),
    ).toEqual([sha256(referrer(1)), sha256(referrer(2))].sort());
    await ok(["manifest", "delete", "--plain-http", "-f", r.ref("refs/app", sha256(referrer(1)))]);
    const after = (await (
      await r.fetch(`/v2/refs/app/manifests/${tag}`, { headers: { Accept: INDEX } })
    ).json()) as {
      manifests: { digest: string }[];
    };
    expect(after.manifests.map((m) => m.digest)).toEqual([sha256(referrer(2))]);
    await ok(["manifest", "delete", "--plain-http", "-f", r.ref("refs/app", sha256(referrer(2)))]);
    expect(
      (await r.fetch(`/v2/refs/app/manifests/${tag}`, { method: "HEAD", headers: { Accept: INDEX } })).status,
    ).toBe(404);
  });
});

describe("secrets stay out of --debug output and error messages", () => {
  function secretsOf(r: RegistryHandle): string[] {
    const out = [r.password!, Buffer.from(`${r.username}:${r.password}`).toString("base64")];
    if (r.token) {
      out.push(r.token.refreshToken);
      for (const { token } of r.token.issued) out.push(token, token.split(".")[2]!);
    }
    return out.filter((s) => s.length >= 6);
  }

  for (const mode of ["basic", "token"] as const) {
    test(`${mode}: push, pull, tag, resolve, login (right and wrong) with -d`, async () => {
      const r = registries[mode];
      const dir = join(work, `debug-${mode}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "f.txt"), "debug me\n");
      const common = ["-d", "--plain-http", "-u", r.username!, "-p", r.password!];
      const runs = [
        await runSkiff(["push", ...common, r.ref("debug/app", "v1"), "f.txt"], { cwd: dir }),
        await runSkiff(["tag", ...common, r.ref("debug/app", "v1"), "v2"]),
        await runSkiff(["resolve", ...common, r.ref("debug/app", "v2")]),
        await runSkiff(["pull", ...common, "-o", join(dir, "out"), r.ref("debug/app", "v1")]),
        await runSkiff(["login", ...common, "-H", "X-Api-Key: api-key-secret-77", r.host]),
        await runSkiff(
          ["resolve", "-d", "--plain-http", "-u", r.username!, "--password-stdin", r.ref("debug/app", "v1")],
          {
            stdin: `${r.password}\n`,
          },
        ),
        await runSkiff([
          "login",
          "-d",
          "--plain-http",
          "-u",
          r.username!,
          "-p",
          `${r.password}-wrong`,
          r.host,
        ]),
        await runSkiff(
          [
            "push",
            "-d",
            "--plain-http",
            "-u",
            r.username!,
            "-p",
            `${r.password}-wrong`,
            r.ref("debug/app", "v3"),
            "f.txt",
          ],
          {
            cwd: dir,
          },
        ),
      ];
      if (r.token) {
        runs.push(
          await runSkiff([
            "resolve",
            "-d",
            "--plain-http",
            "--identity-token",
            r.token.refreshToken,
            r.ref("debug/app", "v1"),
          ]),
        );
      }
      expect(runs.slice(0, 6).map((x) => x.code)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(runs[6]!.code).toBe(1);
      expect(runs[7]!.code).toBe(1);
      const output = runs.map((x) => x.stdout + x.stderr).join("\n");
      // The debug output is really there, with the credentials' places scrubbed.
      expect(output).toMatch(/> Request #\d+: GET http:\/\//);
      expect(output).toMatch(/"Authorization": "(Basic|Bearer) \*\*\*\*\*"/);
      expect(output).toContain('"X-Api-Key": "*****"');
      for (const secret of [...secretsOf(r), "api-key-secret-77", `${r.password}-wrong`]) {
        expect(output.includes(secret)).toBe(false);
      }
    });
  }
});
