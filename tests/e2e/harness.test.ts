/**
 * Proves the test harness: each registry mode really refuses a wrong credential and accepts the
 * right one (so tests built on it prove something), registries die with the test process, and the
 * compiled binary reports its build.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LayoutBuilder, MT } from "../fixtures/layout-builder.ts";
import { makeTlsFiles } from "../harness/certs.ts";
import { type RegistryHandle, startRegistry, useRegistries } from "../harness/registry.ts";
import { ROOT, runSkiff, tmpDir, UNDER_DENO } from "../harness/skiff.ts";
import { decodeJwtClaims } from "../harness/token-server.ts";

const registries = useRegistries(["plain", "basic", "tls", "token"]);

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

type Init = RequestInit & { tls?: { ca?: string } };

/** Pushes `bytes` as a blob (POST then monolithic PUT) with the given headers; returns the statuses. */
async function pushBlob(
  registry: RegistryHandle,
  repository: string,
  bytes: Uint8Array<ArrayBuffer>,
  init: Init,
): Promise<{ start: number; finish?: number; digest: string }> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { ...init, method: "POST" });
  await start.body?.cancel();
  if (start.status !== 202) return { start: start.status, digest };
  const location = new URL(start.headers.get("location")!, registry.url);
  location.searchParams.set("digest", digest);
  const finish = await fetch(location, {
    ...init,
    method: "PUT",
    body: bytes,
    headers: { ...(init.headers as Record<string, string>), "content-type": "application/octet-stream" },
  });
  await finish.body?.cancel();
  return { start: start.status, finish: finish.status, digest };
}

async function status(url: string, init: Init = {}): Promise<number> {
  const response = await fetch(url, init);
  await response.body?.cancel();
  return response.status;
}

/** True while `pid` runs; a zombie (killed, not yet reaped by its new parent) counts as ended. */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("plain mode", () => {
  test("answers /v2/ and repository endpoints without credentials, over HTTP only", async () => {
    const registry = registries.plain;
    expect(registry.url).toBe(`http://${registry.host}`);
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await status(`${registry.url}/v2/`)).toBe(200);
    const pushed = await pushBlob(registry, "harness/plain", new TextEncoder().encode("plain blob"), {});
    expect(pushed).toMatchObject({ start: 202, finish: 201 });
    const fetched = await fetch(`${registry.url}/v2/harness/plain/blobs/${pushed.digest}`);
    expect(await fetched.text()).toBe("plain blob");
    await expect(fetch(`https://${registry.host}/v2/`)).rejects.toThrow();
    expect(await status(`http://${registry.localhost}/v2/`)).toBe(200);
  });

  test("deletes are enabled", async () => {
    const registry = registries.plain;
    const pushed = await pushBlob(registry, "harness/delete", new TextEncoder().encode("delete me"), {});
    expect(pushed.finish).toBe(201);
    const url = `${registry.url}/v2/harness/delete/blobs/${pushed.digest}`;
    expect(await status(url, { method: "DELETE" })).toBe(202);
    expect(await status(url, { method: "HEAD" })).toBe(404);
  });
});

describe("basic mode", () => {
  test("refuses no and wrong credentials and accepts the right ones on /v2/", async () => {
    const registry = registries.basic;
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Basic realm="skiff-test"');
    const wrong = { headers: { authorization: basic(registry.username!, `${registry.password}x`) } };
    expect(await status(`${registry.url}/v2/`, wrong)).toBe(401);
    const right = { headers: { authorization: basic(registry.username!, registry.password!) } };
    expect(await status(`${registry.url}/v2/`, right)).toBe(200);
  });

  test("a repository endpoint needs the right credentials to push and to pull", async () => {
    const registry = registries.basic;
    const bytes = new TextEncoder().encode("basic blob");
    const wrong = { headers: { authorization: basic("intruder", registry.password!) } };
    expect((await pushBlob(registry, "harness/basic", bytes, wrong)).start).toBe(401);
    const right = { headers: { authorization: basic(registry.username!, registry.password!) } };
    const pushed = await pushBlob(registry, "harness/basic", bytes, right);
    expect(pushed).toMatchObject({ start: 202, finish: 201 });
    const blobUrl = `${registry.url}/v2/harness/basic/blobs/${pushed.digest}`;
    expect(await status(blobUrl, wrong)).toBe(401);
    expect(await (await fetch(blobUrl, right)).text()).toBe("basic blob");
    expect(await status(`${registry.url}/v2/harness/basic/blobs/${pushed.digest}`, { method: "HEAD" })).toBe(
      401,
    );
    expect((await registry.fetch(`/v2/harness/basic/blobs/${pushed.digest}`)).status).toBe(200);
  });
});

describe("tls mode", () => {
  test("a client without the CA fails verification; with the CA it gets through", async () => {
    const registry = registries.tls;
    expect(registry.url).toBe(`https://${registry.host}`);
    expect(readFileSync(registry.caFile!, "utf8")).toBe(registry.caPem!);
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow(/certificate|verify|self[- ]signed|issuer/i);
    const otherCa = makeTlsFiles(join(tmpDir(), "other-ca")).caPem;
    await expect(fetch(`${registry.url}/v2/`, { tls: { ca: otherCa } } as Init)).rejects.toThrow();
    const trusted = { tls: { ca: registry.caPem! } } as Init;
    expect(await status(`${registry.url}/v2/`, trusted)).toBe(200);
    // The certificate names localhost too.
    expect(await status(`https://${registry.localhost}/v2/`, trusted)).toBe(200);
    await expect(fetch(`http://${registry.host}/v2/`).then((response) => response.status)).resolves.toBe(400);
  });

  test("repository endpoints work over verified TLS", async () => {
    const registry = registries.tls;
    const trusted = { tls: { ca: registry.caPem! } } as Init;
    const pushed = await pushBlob(registry, "harness/tls", new TextEncoder().encode("tls blob"), trusted);
    expect(pushed).toMatchObject({ start: 202, finish: 201 });
    expect(await (await registry.fetch(`/v2/harness/tls/blobs/${pushed.digest}`)).text()).toBe("tls blob");
  });
});

describe("token mode", () => {
  const scopeUrl = (registry: RegistryHandle, scope: string): string =>
    `${registry.token!.realm}?service=${registry.token!.service}&scope=${encodeURIComponent(scope)}`;
  const bearer = (token: string): Init => ({ headers: { authorization: `Bearer ${token}` } });

  test("the registry challenges with the harness's realm and service", async () => {
    const registry = registries.token;
    const response = await fetch(`${registry.url}/v2/harness/token/tags/list`);
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain(`Bearer realm="${registry.token!.realm}"`);
    expect(challenge).toContain(`service="${registry.token!.service}"`);
    expect(challenge).toContain('scope="repository:harness/token:pull"');
  });

  test("seed() copies a layout in with skopeo, which gets its token from the in-process endpoint", async () => {
    const layout = new LayoutBuilder();
    const manifest = layout.manifest({ layers: [layout.blob("seeded", MT.layer)] });
    layout.writeIndex([{ ...manifest, tag: "v1" }]);
    await registries.token.seed(`oci:${layout.dir}:v1`, "harness/seeded:v1");
    const response = await registries.token.fetch("/v2/harness/seeded/manifests/v1", {
      method: "HEAD",
      headers: { accept: MT.manifest },
    });
    expect(response.headers.get("docker-content-digest")).toBe(manifest.digest);
  });

  test("the token endpoint refuses wrong credentials, grants the right ones, gives anonymous pull only", async () => {
    const registry = registries.token;
    const authority = registry.token!;
    const before = authority.issued.length;
    const wrong = await fetch(scopeUrl(registry, "repository:harness/token:pull,push"), {
      headers: { authorization: basic(registry.username!, "not-the-password") },
    });
    expect(wrong.status).toBe(401);
    expect(authority.issued.length).toBe(before);

    const right = await fetch(scopeUrl(registry, "repository:harness/token:pull,push"), {
      headers: { authorization: basic(registry.username!, registry.password!) },
    });
    expect(right.status).toBe(200);
    const body = (await right.json()) as { token: string; access_token: string; expires_in: number };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(decodeJwtClaims(body.token).access).toEqual([
      { type: "repository", name: "harness/token", actions: ["pull", "push"] },
    ]);

    const anonymous = await fetch(scopeUrl(registry, "repository:harness/token:pull,push"));
    const anonymousToken = ((await anonymous.json()) as { token: string }).token;
    expect(decodeJwtClaims(anonymousToken).access).toEqual([
      { type: "repository", name: "harness/token", actions: ["pull"] },
    ]);

    const recorded = authority.requests.slice(-3);
    expect(recorded.map((request) => [request.status, request.user, request.hadCredentials])).toEqual([
      [401, null, true],
      [200, registry.username!, true],
      [200, null, false],
    ]);
    expect(recorded[1]!.scopes).toEqual(["repository:harness/token:pull,push"]);
  });

  test("the registry verifies tokens: scope, signature, key id and expiry", async () => {
    const registry = registries.token;
    const authority = registry.token!;
    const bytes = new TextEncoder().encode("token blob");
    const pushToken = (
      (await (
        await fetch(scopeUrl(registry, "repository:harness/token:pull,push"), {
          headers: { authorization: basic(registry.username!, registry.password!) },
        })
      ).json()) as { token: string }
    ).token;
    const pushed = await pushBlob(registry, "harness/token", bytes, bearer(pushToken));
    expect(pushed).toMatchObject({ start: 202, finish: 201 });

    // Pull-only (anonymous) token: may read, may not push.
    const pullToken = (
      (await (await fetch(scopeUrl(registry, "repository:harness/token:pull,push"))).json()) as {
        token: string;
      }
    ).token;
    const blobUrl = `${registry.url}/v2/harness/token/blobs/${pushed.digest}`;
    expect(await (await fetch(blobUrl, bearer(pullToken))).text()).toBe("token blob");
    const refused = await fetch(`${registry.url}/v2/harness/token/blobs/uploads/`, {
      ...bearer(pullToken),
      method: "POST",
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="insufficient_scope"');

    // A token for another repository does not open this one.
    const elsewhere = authority.issue([{ type: "repository", name: "harness/other", actions: ["pull"] }]);
    expect(await status(blobUrl, bearer(elsewhere))).toBe(401);

    const access = [{ type: "repository", name: "harness/token", actions: ["pull", "push"] }];
    // Signed by a key the registry does not trust, once claiming the trusted key id, once its own.
    expect(await status(blobUrl, bearer(authority.issue(access, { untrustedKey: true })))).toBe(401);
    const foreignKid = "ABCD:EFGH:IJKL:MNOP:QRST:UVWX:YZ23:4567:ABCD:EFGH:IJKL:MNOP";
    expect(
      await status(blobUrl, bearer(authority.issue(access, { untrustedKey: true, kid: foreignKid }))),
    ).toBe(401);
    // Expired beyond the registry's 60 s of tolerated skew; wrong audience; wrong issuer.
    expect(await status(blobUrl, bearer(authority.issue(access, { ttlSeconds: -120 })))).toBe(401);
    expect(await status(blobUrl, bearer(authority.issue(access, { audience: "another-service" })))).toBe(401);
    expect(await status(blobUrl, bearer(authority.issue(access, { issuer: "another-issuer" })))).toBe(401);
    // And the same claims signed by the trusted key pass: the refusals above are about the token.
    expect(await status(blobUrl, bearer(authority.issue(access)))).toBe(200);
  });

  test("the OAuth2 POST flow accepts the password and the refresh token and refuses others", async () => {
    const registry = registries.token;
    const authority = registry.token!;
    const post = (form: Record<string, string>): Promise<Response> =>
      fetch(authority.realm, {
        method: "POST",
        body: new URLSearchParams({
          service: authority.service,
          scope: "repository:harness/token:pull",
          ...form,
        }),
      });
    const password = await post({
      grant_type: "password",
      username: registry.username!,
      password: registry.password!,
      access_type: "offline",
    });
    expect(password.status).toBe(200);
    expect(((await password.json()) as { refresh_token: string }).refresh_token).toBe(authority.refreshToken);
    expect((await post({ grant_type: "refresh_token", refresh_token: authority.refreshToken })).status).toBe(
      200,
    );
    expect((await post({ grant_type: "refresh_token", refresh_token: "stolen" })).status).toBe(401);
    expect(
      (await post({ grant_type: "password", username: registry.username!, password: "wrong" })).status,
    ).toBe(401);
  });
});

describe("lifecycle", () => {
  test("stop() ends the registry process and removes its directory", async () => {
    const registry = await startRegistry("plain");
    expect(pidAlive(registry.pid)).toBe(true);
    expect(existsSync(registry.storage)).toBe(true);
    await registry.stop();
    expect(pidAlive(registry.pid)).toBe(false);
    expect(existsSync(registry.dir)).toBe(false);
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });

  test("a bun test run removes the temporary directories its files made (bunfig.toml preloads the clean-up)", () => {
    const dir = tmpDir();
    const file = join(dir, "leaves-a-dir.test.ts");
    writeFileSync(
      file,
      [
        `import { expect, test } from "bun:test";`,
        `import { tmpDir } from ${JSON.stringify(join(ROOT, "tests/harness/cleanup.ts"))};`,
        `test("makes a temporary directory", () => {`,
        `  const made = tmpDir("skiff-left-behind-");`,
        `  console.log("MADE " + made);`,
        `  expect(made).toContain("skiff-left-behind-");`,
        "});",
      ].join("\n"),
    );
    const result = spawnSync(process.execPath, ["test", file], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    const made = /^MADE (.+)$/m.exec(output)?.[1];
    expect(made, output).toBeDefined();
    expect(existsSync(made!)).toBe(false);
  }, 30_000);

  test("a test that runs no assertion fails (bunfig.toml preloads expect.hasAssertions)", () => {
    const file = join(tmpDir(), "asserts-nothing.test.ts");
    writeFileSync(
      file,
      [
        `import { expect, test } from "bun:test";`,
        `test("asserts something", () => expect(1).toBe(1));`,
        `test("asserts nothing", () => {});`,
      ].join("\n"),
    );
    const result = spawnSync(process.execPath, ["test", file], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(1);
    expect(output).toMatch(/\(pass\) asserts something/);
    expect(output).toMatch(/\(fail\) asserts nothing/);
    expect(output).toContain("expected at least one assertion");
  }, 30_000);

  test("a test process that dies without stopping its registries takes them with it", async () => {
    const dir = tmpDir();
    const script = join(dir, "crash.ts");
    writeFileSync(
      script,
      [
        `import { startRegistries } from ${JSON.stringify(join(ROOT, "tests/harness/registry.ts"))};`,
        `const started = await startRegistries(["plain", "token"]);`,
        "console.log(JSON.stringify(Object.values(started).map((r) => r.pid)));",
        `throw new Error("the test process fails here");`,
      ].join("\n"),
    );
    const result = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 });
    expect(result.status).not.toBe(0);
    const pids = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as number[];
    expect(pids).toHaveLength(2);
    // The exit hook sends SIGKILL; the kernel finishes the registries off a moment later.
    const deadline = Date.now() + 10_000;
    while (pids.some(pidAlive) && Date.now() < deadline) await Bun.sleep(20);
    expect(pids.filter(pidAlive)).toEqual([]);
  }, 30_000);
});

describe.skipIf(UNDER_DENO)("the compiled binary", () => {
  test("skiff version prints version, git commit, runtime and os/arch", async () => {
    const result = await runSkiff(["version"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      version: string;
      devDependencies: Record<string, string>;
    };
    const lines = Object.fromEntries(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(/:\s+/, 2) as [string, string]),
    );
    expect(lines.Version).toBe(pkg.version);
    const commit = lines["Git commit"] ?? "";
    expect(commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);
    const known = spawnSync("git", ["cat-file", "-e", `${commit.replace("-dirty", "")}^{commit}`], {
      cwd: ROOT,
    });
    expect(known.status).toBe(0);
    expect(lines.Runtime).toBe(`bun ${pkg.devDependencies.bun}`);
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
    expect(lines["OS/Arch"]).toBe(`linux/${arch}`);
  });
});
