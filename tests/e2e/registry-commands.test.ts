/**
 * Every registry command against the real distribution registry in plain, basic-auth, TLS and
 * token modes: content seeded by skopeo is resolved, fetched and pulled by skiff; what skiff writes
 * (tags, manifests, blobs, deletes) is checked through the registry API and skopeo.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LayoutBuilder, MT } from "../fixtures/layout-builder.ts";
import { type RegistryHandle, type RegistryMode, useRegistries } from "../harness/registry.ts";
import { type RunOptions, removeTmpDir, runSkiff, skiffOk, tmpDir } from "../harness/skiff.ts";

const MODES: RegistryMode[] = ["plain", "basic", "tls", "token"];
const registries = useRegistries(MODES);
const work = tmpDir("skiff-e2e-registry-");
afterAll(() => removeTmpDir(work));

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The flags that reach each registry: transport and credentials. */
function flags(r: RegistryHandle): string[] {
  const out = r.tls ? ["--ca-file", r.caFile!] : ["--plain-http"];
  if (r.username) out.push("-u", r.username, "-p", r.password!);
  return out;
}

/** A layout with a two-platform index (tag `multi`) and a titled-file artifact (tag `single`). */
function seedLayout() {
  const layout = new LayoutBuilder(join(work, `layout-${Math.random().toString(36).slice(2)}`));
  // Plain image manifests (skopeo 1.9 refuses indexes whose entries carry image-spec 1.1 fields).
  const image = (os: string, architecture: string, title: string, text: string) => {
    const platform = { os, architecture };
    const desc = layout.manifest({
      config: layout.imageConfig(platform),
      layers: [layout.file(title, text)],
    });
    return { ...desc, platform };
  };
  const amd = image("linux", "amd64", "app-amd64.txt", "amd64 build\n");
  const arm = image("linux", "arm64", "app-arm64.txt", "arm64 build\n");
  const multi = layout.index([amd, arm]);
  const file = layout.file("notes.txt", "some notes\n");
  const single = layout.manifest({ layers: [file], artifactType: "application/vnd.example.notes" });
  layout.writeIndex([
    { ...multi, tag: "multi" },
    { ...single, tag: "single" },
  ]);
  return { dir: layout.dir, amd, arm, multi, single, file };
}

/** skiff runs in the work folder. */
const skiff = (args: string[], options: RunOptions = {}) => runSkiff(args, { cwd: work, ...options });
const ok = (args: string[], options: RunOptions = {}) => skiffOk(args, { cwd: work, ...options });

/**
 * Runs skopeo without blocking this process: in token mode the token endpoint lives in the test
 * process, so a synchronous spawn would deadlock.
 */
function skopeo(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("skopeo", ["--insecure-policy", ...args], { env: { ...process.env, HOME: work } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`skopeo ${args.join(" ")} failed: ${stderr}`)),
    );
  });
}

/** Copies an OCI layout tag into the registry with skopeo, digests preserved. */
function seed(r: RegistryHandle, source: string, reference: string): Promise<string> {
  return skopeo([
    "copy",
    "--all",
    "--preserve-digests",
    "--quiet",
    ...r.skopeoFlags("dest"),
    source,
    `docker://${r.host}/${reference}`,
  ]);
}

for (const mode of MODES) {
  describe(`${mode} registry`, () => {
    const r = () => registries[mode];
    let seeded: ReturnType<typeof seedLayout>;
    const repo = `e2e/${mode}-app`;

    test("content seeded by skopeo resolves, by tag, digest and platform", async () => {
      seeded = seedLayout();
      await seed(r(), `oci:${seeded.dir}:multi`, `${repo}:multi`);
      await seed(r(), `oci:${seeded.dir}:single`, `${repo}:single`);
      const f = flags(r());
      expect((await ok(["resolve", ...f, r().ref(repo, "multi")])).stdout).toBe(`${seeded.multi.digest}\n`);
      expect((await ok(["resolve", ...f, "--platform", "linux/arm64", r().ref(repo, "multi")])).stdout).toBe(
        `${seeded.arm.digest}\n`,
      );
      expect((await ok(["resolve", ...f, "-l", r().ref(repo, seeded.single.digest)])).stdout).toBe(
        `${r().host}/${repo}@${seeded.single.digest}\n`,
      );
      const missing = await skiff(["resolve", ...f, r().ref(repo, "nope")]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`${r().host}/${repo}:nope: not found`);
    });

    test("manifest fetch, fetch-config and blob fetch return the exact bytes", async () => {
      const f = flags(r());
      const manifest = await ok(["manifest", "fetch", ...f, r().ref(repo, "multi")]);
      expect(sha256(manifest.stdoutBytes)).toBe(seeded.multi.digest);
      const descriptor = await ok(["manifest", "fetch", ...f, "--descriptor", r().ref(repo, "multi")]);
      expect(JSON.parse(descriptor.stdout)).toMatchObject({
        mediaType: MT.index,
        digest: seeded.multi.digest,
        size: seeded.multi.size,
      });
      const config = await ok([
        "manifest",
        "fetch-config",
        ...f,
        "--platform",
        "linux/amd64",
        r().ref(repo, "multi"),
      ]);
      expect(JSON.parse(config.stdout)).toMatchObject({ os: "linux", architecture: "amd64" });
      const out = join(work, `${mode}-notes.txt`);
      await ok(["blob", "fetch", ...f, "-o", out, r().ref(repo, seeded.file.digest)]);
      expect(readFileSync(out, "utf8")).toBe("some notes\n");
      const stdout = await ok(["blob", "fetch", ...f, "-o", "-", r().ref(repo, seeded.file.digest)]);
      expect(stdout.stdout).toBe("some notes\n");
    });

    test("pull writes the titled files of a manifest and of one platform", async () => {
      const f = flags(r());
      const out = join(work, `${mode}-pull`);
      const pulled = await ok(["pull", ...f, "-o", out, r().ref(repo, "single")]);
      expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("some notes\n");
      expect(pulled.stdout).toContain(`Digest: ${seeded.single.digest}`);
      const arm = join(work, `${mode}-pull-arm`);
      await ok(["pull", ...f, "--platform", "linux/arm64", "-o", arm, r().ref(repo, "multi")]);
      expect(readFileSync(join(arm, "app-arm64.txt"), "utf8")).toBe("arm64 build\n");
    });

    test("tag adds tags the registry lists; repo tags pages with --last", async () => {
      const f = flags(r());
      const tagged = await ok(["tag", ...f, r().ref(repo, "single"), "v1", "v2", "latest"]);
      expect(tagged.stdout).toStartWith(`Tagging [registry] ${r().host}/${repo}@${seeded.single.digest}\n`);
      expect(
        tagged.stdout
          .split("\n")
          .filter((l) => l.startsWith("Tagged "))
          .sort(),
      ).toEqual(["Tagged latest", "Tagged v1", "Tagged v2"]);
      const list = (await (await r().fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
      expect(list.tags.sort()).toEqual(["latest", "multi", "single", "v1", "v2"]);
      for (const tag of ["v1", "v2", "latest"]) {
        const head = await r().fetch(`/v2/${repo}/manifests/${tag}`, {
          method: "HEAD",
          headers: { Accept: MT.manifest },
        });
        expect(head.headers.get("docker-content-digest")).toBe(seeded.single.digest);
      }
      expect((await ok(["repo", "tags", ...f, r().ref(repo)])).stdout).toBe(
        "latest\nmulti\nsingle\nv1\nv2\n",
      );
      expect((await ok(["repo", "tags", ...f, "--last", "single", r().ref(repo)])).stdout).toBe("v1\nv2\n");
      const json = await ok(["repo", "tags", ...f, "--format", "json", r().ref(repo)]);
      expect(JSON.parse(json.stdout)).toEqual({ tags: ["latest", "multi", "single", "v1", "v2"] });
    });

    test("blob push from a file and from stdin; the registry has the bytes", async () => {
      const f = flags(r());
      const file = join(work, `${mode}-blob.bin`);
      const content = `blob for ${mode} ${"x".repeat(5000)}`;
      writeFileSync(file, content);
      const digest = sha256(content);
      const pushed = await ok(["blob", "push", ...f, r().ref(`${repo}-blobs`), file]);
      // ORAS's wording for blob push: "Pushed:".
      expect(pushed.stdout).toContain(`Pushed: [registry] ${r().host}/${repo}-blobs\nDigest: ${digest}\n`);
      expect(await (await r().fetch(`/v2/${repo}-blobs/blobs/${digest}`)).text()).toBe(content);
      const again = await ok(["blob", "push", ...f, "--descriptor", r().ref(`${repo}-blobs`), file]);
      expect(JSON.parse(again.stdout)).toEqual({ mediaType: MT.layer, digest, size: content.length });
      const stdinContent = `from stdin ${mode}\n`;
      const stdinDigest = sha256(stdinContent);
      const fromStdin = await ok(
        [
          "blob",
          "push",
          ...f,
          "--size",
          String(stdinContent.length),
          "--format",
          "json",
          r().ref(`${repo}-blobs`, stdinDigest),
          "-",
        ],
        { stdin: stdinContent },
      );
      expect(JSON.parse(fromStdin.stdout)).toMatchObject({ digest: stdinDigest, size: stdinContent.length });
      expect(await (await r().fetch(`/v2/${repo}-blobs/blobs/${stdinDigest}`)).text()).toBe(stdinContent);
      const noSize = await skiff(["blob", "push", ...f, r().ref(`${repo}-blobs`, stdinDigest), "-"], {
        stdin: "x",
      });
      expect(noSize.code).not.toBe(0);
      expect(noSize.stderr).toContain("--size");
      const wrong = await skiff(["blob", "push", ...f, r().ref(`${repo}-blobs`, sha256("other")), file]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`hashes to ${digest}`);
    });

    test("manifest push from a file and stdin, with tags; skopeo reads it back", async () => {
      const f = flags(r());
      const bytes = readFileSync(join(seeded.dir, "blobs", "sha256", seeded.single.digest.slice(7)));
      const file = join(work, `${mode}-manifest.json`);
      writeFileSync(file, bytes);
      const pushed = await ok(["manifest", "push", ...f, r().ref(repo, "copy1,copy2"), file]);
      // ORAS's lines: the upload, "Pushed:" with the first tag, one "Tagged" line per further tag.
      // (The seeded repository may have the manifest already: then it Exists.)
      const short = seeded.single.digest.slice(7, 19);
      expect(pushed.stdout).toMatch(
        new RegExp(`^(Uploading ${short} \\S+\\nUploaded  ${short} \\S+|Exists    ${short} \\S+)\\n`),
      );
      expect(pushed.stdout).toEndWith(
        `Pushed: [registry] ${r().host}/${repo}:copy1\nTagged copy2\nDigest: ${seeded.single.digest}\n`,
      );
      const served = await r().fetch(`/v2/${repo}/manifests/copy2`, { headers: { Accept: MT.manifest } });
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
      // A new manifest (different annotations) from stdin, JSON output.
      const changed = JSON.parse(bytes.toString());
      changed.annotations = { "org.example.mode": mode };
      const text = JSON.stringify(changed);
      const json = await ok(["manifest", "push", ...f, "--format", "json", r().ref(repo, "stdin"), "-"], {
        stdin: text,
      });
      expect(JSON.parse(json.stdout)).toMatchObject({
        reference: `${r().host}/${repo}@${sha256(text)}`,
        mediaType: MT.manifest,
        digest: sha256(text),
        size: text.length,
      });
      const raw = await skopeo([
        "inspect",
        "--raw",
        ...r()
          .skopeoFlags("src")
          .map((x) => x.replace("--src-", "--")),
        `docker://${r().host}/${repo}:stdin`,
      ]);
      expect(raw).toBe(text);
      // A manifest naming blobs the repository lacks is refused with a hint.
      const elsewhere = await skiff(["manifest", "push", ...f, r().ref(`${repo}-empty`, "x"), file]);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toContain("refers to content the repository does not have");
      // Bytes that do not match the digest in the reference are refused before anything is sent.
      const mismatch = await skiff(["manifest", "push", ...f, r().ref(repo, sha256("x")), file]);
      expect(mismatch.code).toBe(1);
      expect(mismatch.stderr).toContain("hashes to");
    });

    test("manifest delete: confirmation, --force, --descriptor, missing", async () => {
      const f = flags(r());
      const bytes = JSON.parse(
        readFileSync(join(seeded.dir, "blobs", "sha256", seeded.single.digest.slice(7)), "utf8"),
      );
      bytes.annotations = { purpose: "delete-me" };
      const text = JSON.stringify(bytes);
      const digest = sha256(text);
      await ok(["manifest", "push", ...f, r().ref(repo, "doomed"), "-"], { stdin: text });
      const declined = await ok(["manifest", "delete", ...f, r().ref(repo, "doomed")], { stdin: "n\n" });
      // The question and the cancellation are on stdout, as with ORAS.
      expect(declined.stdout).toBe(
        `Are you sure you want to delete the manifest "${digest}" and all tags associated with it? [y/N] Operation cancelled.\n`,
      );
      expect(
        (
          await r().fetch(`/v2/${repo}/manifests/${digest}`, {
            method: "HEAD",
            headers: { Accept: MT.manifest },
          })
        ).status,
      ).toBe(200);
      const confirmed = await ok(["manifest", "delete", ...f, r().ref(repo, "doomed")], { stdin: "y\n" });
      expect(confirmed.stdout).toEndWith(`[y/N] Deleted [registry] ${r().ref(repo, "doomed")}\n`);
      expect(
        (
          await r().fetch(`/v2/${repo}/manifests/${digest}`, {
            method: "HEAD",
            headers: { Accept: MT.manifest },
          })
        ).status,
      ).toBe(404);
      await ok(["manifest", "push", ...f, r().ref(repo, "doomed2"), "-"], { stdin: text });
      const described = await ok([
        "manifest",
        "delete",
        ...f,
        "--force",
        "--descriptor",
        r().ref(repo, digest),
      ]);
      expect(JSON.parse(described.stdout)).toEqual({ mediaType: MT.manifest, digest, size: text.length });
      expect((await ok(["manifest", "delete", ...f, "-f", r().ref(repo, digest)])).stdout).toBe(
        `Missing ${r().ref(repo, digest)}\n`,
      );
      const missing = await skiff(["manifest", "delete", ...f, r().ref(repo, digest)]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("the specified manifest does not exist");
    });

    test("blob delete: --force and a missing blob", async () => {
      const f = flags(r());
      const content = `delete me ${mode}`;
      const file = join(work, `${mode}-doomed.bin`);
      writeFileSync(file, content);
      await ok(["blob", "push", ...f, r().ref(`${repo}-blobs`), file]);
      const ref = r().ref(`${repo}-blobs`, sha256(content));
      expect((await ok(["blob", "delete", ...f, "-f", ref])).stdout).toBe(`Deleted [registry] ${ref}\n`);
      expect((await r().fetch(`/v2/${repo}-blobs/blobs/${sha256(content)}`, { method: "HEAD" })).status).toBe(
        404,
      );
      expect((await ok(["blob", "delete", ...f, "-f", ref])).stdout).toBe(`Missing ${ref}\n`);
      const needsDigest = await skiff(["blob", "delete", ...f, "-f", r().ref(`${repo}-blobs`, "v1")]);
      expect(needsDigest.code).not.toBe(0);
    });

    test("repo ls lists the catalog, under a namespace and after --last", async () => {
      const f = flags(r());
      const all = (await ok(["repo", "ls", ...f, r().host])).stdout.split("\n").filter(Boolean);
      expect(all).toContain(repo);
      expect(all).toContain(`${repo}-blobs`);
      const under = (await ok(["repo", "ls", ...f, `${r().host}/e2e`])).stdout.split("\n").filter(Boolean);
      expect(under).toContain(`${mode}-app`);
      expect(under.every((name) => !name.startsWith("e2e/"))).toBe(true);
      // Pages of one repository: the Link header is followed to the end (distribution 2.8 pages
      // the catalog; its tag lists come whole).
      const paged = await ok(["repo", "ls", "-d", ...f, r().host], { env: { SKIFF_PAGE_SIZE: "1" } });
      expect(paged.stdout.split("\n").filter(Boolean)).toEqual(all);
      expect(paged.stderr.match(/> Request #\d+: GET \S+\/v2\/_catalog/g)?.length).toBeGreaterThanOrEqual(
        all.length,
      );
      expect(paged.stderr).toContain('"link": "</v2/_catalog?');
      const after = (await ok(["repo", "ls", ...f, "--last", repo, r().host])).stdout
        .split("\n")
        .filter(Boolean);
      expect(after).not.toContain(repo);
      expect(after).toContain(`${repo}-blobs`);
    });

    test("skopeo copies out what skiff pushed, byte for byte", async () => {
      const f = flags(r());
      const dir = join(work, `${mode}-files`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "hello.txt"), `hello ${mode}\n`);
      const pushed = await ok(
        ["push", ...f, "--format", "json", r().ref(`${repo}-pushed`, "v1"), "hello.txt"],
        { cwd: dir },
      );
      const digest = JSON.parse(pushed.stdout).digest as string;
      const out = join(work, `${mode}-skopeo-out`);
      await skopeo([
        "copy",
        "--preserve-digests",
        ...r().skopeoFlags("src"),
        `docker://${r().host}/${repo}-pushed:v1`,
        `oci:${out}:v1`,
      ]);
      const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
      expect(index.manifests[0].digest).toBe(digest);
    });
  });
}
