/**
 * The status lines of transfers, with the compiled binary against the real registry, checked the
 * way ORAS's own e2e suite checks them: every node (12-hex digest + title or media type) walks one
 * path of its command's prompts (`Copying` then `Copied`, or one `Exists`, `Skipped`, `Mounted`)
 * and ends exactly once. The artifact has ORAS's awkward cases: two layers with the same bytes
 * (foo1, foo2), a config whose bytes `{}` are also a referrer's empty config under another media
 * type, and a referrer whose subject comes along when it is copied alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, tempDir } from "../fixtures/layout-builder.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runSkiff } from "../harness/skiff.ts";

/** The prompts each command moves a node through, as ORAS's status matcher has them. */
const PATHS: Record<string, string[][]> = {
  push: [["Uploading", "Uploaded"], ["Exists"], ["Skipped"]],
  cp: [["Copying", "Copied"], ["Skipped"], ["Exists"], ["Mounted"]],
  backup: [["Pulling", "Pulled"], ["Skipped"], ["Exists"]],
  restore: [["Pushing", "Pushed"], ["Skipped"], ["Exists"]],
  pull: [
    ["Downloading", "Downloaded"],
    ["Downloading", "Processing", "Downloaded"],
    ["Skipped"],
    ["Restored"],
  ],
};

/**
 * Walks every `Prompt digest name` line of `stdout` through `PATHS[command]`; throws on a prompt
 * that does not follow (a node reported twice, or out of order). Returns the nodes that ended.
 */
function endedNodes(stdout: string, command: string): string[] {
  const paths = PATHS[command]!;
  const progress = new Map<string, string[]>();
  const ended: string[] = [];
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3 || !/^[0-9a-f]{12}$/.test(fields[1]!)) continue;
    const [prompt, digest, name] = fields as [string, string, string];
    const key = `${digest} ${name}`;
    if (ended.includes(key)) throw new Error(`${key}: "${prompt}" after it ended\n${stdout}`);
    const sofar = [...(progress.get(key) ?? []), prompt];
    const path = paths.find((p) => sofar.every((word, i) => p[i] === word));
    if (!path) throw new Error(`${key}: ${sofar.join(" -> ")} is no path of ${command}\n${stdout}`);
    if (path.length === sofar.length) ended.push(key);
    else progress.set(key, sofar);
  }
  return ended.sort();
}

let registry: RunningRegistry;
let host: string;
let work: string;
let manifest: string;
let referrer: string;
const short = (digest: string): string => digest.slice(7, 19);
/** Digests of the bytes the artifact is made of. */
const FOO = "2c26b46b68ff";
const BAR = "fcde2b2edba5";
const EMPTY = "44136fa355b3";
const SIG = "a543997d84f1";

async function ok(args: string[]): Promise<string> {
  const result = await runSkiff(args, { cwd: work, timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new Error(`skiff ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** The nodes of `src:v1` and its signature, as ORAS names them. */
function artifactNodes(manifest: string): string[] {
  return [
    `${EMPTY} application/vnd.unknown.config.v1+json`,
    `${FOO} foo1`,
    `${FOO} foo2`,
    `${BAR} bar`,
    `${short(manifest)} application/vnd.oci.image.manifest.v1+json`,
  ].sort();
}

beforeAll(async () => {
  registry = await startRegistry("plain");
  host = registry.localhost;
  work = tempDir("skiff-status-lines-");
  writeFileSync(join(work, "foo1"), "foo");
  writeFileSync(join(work, "foo2"), "foo");
  writeFileSync(join(work, "bar"), "bar");
  writeFileSync(join(work, "config.json"), "{}");
  writeFileSync(join(work, "sig.txt"), "sig");
  const pushed = await ok([
    "push",
    "--format",
    "json",
    `${host}/src:v1`,
    "--config",
    "config.json:application/vnd.unknown.config.v1+json",
    "foo1",
    "foo2",
    "bar",
  ]);
  manifest = JSON.parse(pushed).digest;
  referrer = JSON.parse(
    await ok(["attach", "--format", "json", "--artifact-type", "test/sig", `${host}/src:v1`, "sig.txt"]),
  ).digest;
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("status lines as ORAS's suite counts them", () => {
  test("push: two files with the same bytes are uploaded once, the other reported as there", async () => {
    const stdout = await ok(["push", "--no-tty", `${host}/push:v1`, "foo1", "foo2", "bar"]);
    const ended = endedNodes(stdout, "push");
    expect(ended).toContain(`${FOO} foo1`);
    expect(ended).toContain(`${FOO} foo2`);
    expect(stdout).toMatch(new RegExp(`^Exists {4}${FOO} foo[12]$`, "m"));
    expect(stdout).toMatch(new RegExp(`^Uploaded  ${FOO} foo[12]$`, "m"));
  });

  test("cp -r: every node of the artifact and its referrer ends once; the twin layer is Skipped", async () => {
    const stdout = await ok(["cp", "--no-tty", "-r", `${host}/src:v1`, `${host}/dst:v1`]);
    const ended = endedNodes(stdout, "cp");
    expect(ended).toEqual(
      [
        ...artifactNodes(manifest),
        `${EMPTY} application/vnd.oci.empty.v1+json`,
        `${short(referrer)} application/vnd.oci.image.manifest.v1+json`,
        `${SIG} sig.txt`,
      ].sort(),
    );
    // ORAS's order: the manifest starts, the twin is reported, the manifest is done.
    expect(stdout).toMatch(
      new RegExp(
        `^Copying ${short(manifest)} application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\nSkipped ${FOO} foo[12]\\nCopied  ${short(manifest)} `,
        "m",
      ),
    );
  });

  test("cp of a referrer alone brings its subject along, as ORAS does", async () => {
    const stdout = await ok(["cp", "--no-tty", `${host}/src@${referrer}`, `${host}/alone`]);
    const ended = endedNodes(stdout, "cp");
    for (const node of artifactNodes(manifest)) expect(ended).toContain(node);
    expect(ended).toContain(`${short(referrer)} application/vnd.oci.image.manifest.v1+json`);
    const fetched = await runSkiff(["manifest", "fetch", `${host}/alone@${manifest}`]);
    expect(fetched.code).toBe(0);
  });

  test("cp to DST:a,b,c: the first tag in the Copied line, a Tagged line for each other, then Digest", async () => {
    const toRegistry = await ok(["cp", "--no-tty", `${host}/src:v1`, `${host}/tags:a,b,c`]);
    expect(toRegistry).toEndWith(
      `Copied [registry] ${host}/src:v1 => [registry] ${host}/tags:a\nTagged b\nTagged c\nDigest: ${manifest}\n`,
    );
    const layout = join(work, "tagged-layout");
    const toLayout = await ok(["cp", "--no-tty", `${host}/src:v1`, "--to-oci-layout", `${layout}:x,y`]);
    expect(toLayout).toEndWith(
      `Copied [registry] ${host}/src:v1 => [oci-layout] ${layout}:x\nTagged y\nDigest: ${manifest}\n`,
    );
    const one = await ok(["cp", "--no-tty", `${host}/src:v1`, `${host}/tags:d`]);
    expect(one).toEndWith(`=> [registry] ${host}/tags:d\nDigest: ${manifest}\n`);
  });

  test("pull: manifests are Downloading, Processing, Downloaded; the twin layer Restored; `{}` config unreported", async () => {
    const stdout = await ok(["pull", "--no-tty", "-o", join(work, "pulled"), `${host}/src:v1`]);
    expect(endedNodes(stdout, "pull")).toEqual(
      [
        `${FOO} foo1`,
        `${FOO} foo2`,
        `${BAR} bar`,
        `${short(manifest)} application/vnd.oci.image.manifest.v1+json`,
      ].sort(),
    );
    expect(stdout).toMatch(
      new RegExp(`^Downloading ${short(manifest)} .*\nProcessing  ${short(manifest)} `, "m"),
    );
    expect(stdout).not.toContain("Skipped pulling layers");
  });

  test("pull: an untitled config that is not `{}` is Skipped, and ORAS's hint names skiff copy", async () => {
    writeFileSync(join(work, "image-config.json"), '{"os":"linux","architecture":"amd64"}');
    await ok([
      "push",
      `${host}/configured:v1`,
      "--config",
      "image-config.json:application/vnd.oci.image.config.v1+json",
      "bar",
    ]);
    const stdout = await ok(["pull", "--no-tty", "-o", join(work, "pulled-config"), `${host}/configured:v1`]);
    const ended = endedNodes(stdout, "pull");
    expect(ended.filter((node) => node.endsWith("application/vnd.oci.image.config.v1+json")).length).toBe(1);
    expect(stdout).toMatch(/^Skipped {5}[0-9a-f]{12} application\/vnd\.oci\.image\.config\.v1\+json$/m);
    expect(stdout).toContain(
      `Skipped pulling layers without file name in "org.opencontainers.image.title"\n` +
        `Use 'skiff copy ${host}/configured:v1 --to-oci-layout <layout-dir>' to pull all layers.\n`,
    );
    const json = await ok([
      "pull",
      "--format",
      "json",
      "-o",
      join(work, "pulled-json"),
      `${host}/configured:v1`,
    ]);
    expect(json).not.toContain("Skipped pulling layers");
  });

  test("backup and restore: Pulling/Pulled and Pushing/Pushed, each node once, ORAS's summary lines", async () => {
    const out = join(work, "backup");
    const backedUp = await ok(["backup", "--no-tty", "--output", out, `${host}/src:v1`]);
    expect(endedNodes(backedUp, "backup")).toEqual(
      [
        ...artifactNodes(manifest),
        `${EMPTY} application/vnd.oci.empty.v1+json`,
        `${short(referrer)} application/vnd.oci.image.manifest.v1+json`,
        `${SIG} sig.txt`,
      ].sort(),
    );
    expect(backedUp).toMatch(/^Pulling {3}[0-9a-f]{12} /m);
    expect(backedUp).toContain(`Found 1 tag(s) in ${host}/src: v1\n`);
    expect(backedUp).toContain("Pulled tag v1 with 1 referrer(s)\n");
    expect(backedUp).toMatch(
      new RegExp(`^Successfully backed up 1 tag\\(s\\) from "${host}/src" to "${out}" in \\d+m?s\\.$`, "m"),
    );

    const restored = await ok(["restore", "--no-tty", "--input", out, `${host}/restored`]);
    expect(endedNodes(restored, "restore").length).toBe(8);
    expect(restored).toMatch(/^Pushed {4}[0-9a-f]{12} /m);
    expect(restored).toContain("Found 1 tag(s) in the backup: v1\n");
    expect(restored).toContain("Pushed tag v1 with 1 referrer(s)\n");
    expect(restored).toMatch(
      new RegExp(`^Successfully restored 1 tag\\(s\\) to "${host}/restored" in \\d+m?s$`, "m"),
    );

    const dry = await ok(["restore", "--dry-run", "--input", out, `${host}/dry`]);
    expect(dry).toContain("Dry run: would push tag v1 with 1 referrer(s)\n");
    expect(dry).toContain(`Dry run complete: 1 tag(s) would be restored to "${host}/dry" (no data pushed)\n`);
  });

  test("manifest index create and update: ORAS's Fetching/Fetched/Packed/Added/Removed/Updated lines", async () => {
    const amd = JSON.parse(
      await ok([
        "push",
        "--format",
        "json",
        "--artifact-platform",
        "linux/amd64",
        `${host}/multi:amd64`,
        "bar",
      ]),
    ).digest as string;
    const arm = JSON.parse(
      await ok([
        "push",
        "--format",
        "json",
        "--artifact-platform",
        "linux/arm64",
        `${host}/multi:arm64`,
        "foo1",
      ]),
    ).digest as string;
    const created = (
      await ok(["manifest", "index", "create", "--no-tty", `${host}/multi:v1,v2`, "amd64"])
    ).split("\n");
    expect(created[0]).toBe("Fetching  amd64");
    expect(created[1]).toBe(`Fetched   ${amd} amd64`);
    expect(created[2]).toMatch(/^Packed {4}[0-9a-f]{12} application\/vnd\.oci\.image\.index\.v1\+json$/);
    expect(created[3]).toBe(`Pushed    [registry] ${host}/multi:v1`);
    expect(created[4]).toBe("Tagged v2");
    expect(created[5]).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);

    const updated = await ok([
      "manifest",
      "index",
      "update",
      "--no-tty",
      `${host}/multi:v1`,
      "--add",
      "arm64",
      "--remove",
      amd,
      "--tag",
      "v3",
    ]);
    const lines = updated.split("\n");
    expect(lines[0]).toBe("Fetching  v1");
    expect(lines).toContain(`Removed   ${amd}`);
    expect(lines).toContain(`Fetching  arm64`);
    expect(lines).toContain(`Added     ${arm} arm64`);
    const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(updated)![1]!;
    expect(lines).toContain(`Updated   ${digest}`);
    expect(updated).toEndWith(`Pushed    [registry] ${host}/multi:v1\nTagged v3\nDigest: ${digest}\n`);

    // One Removed line per --remove, in the order given, even for a manifest the index lists twice.
    const descriptorOf = async (digest: string) =>
      JSON.parse(await ok(["manifest", "fetch", "--descriptor", `${host}/multi@${digest}`]));
    const [amdDesc, armDesc] = [await descriptorOf(amd), await descriptorOf(arm)];
    writeFileSync(
      join(work, "twice.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [amdDesc, armDesc, amdDesc],
      }),
    );
    await ok(["manifest", "push", `${host}/multi:twice`, join(work, "twice.json")]);
    const removed = await ok([
      "manifest",
      "index",
      "update",
      "--no-tty",
      `${host}/multi:twice`,
      "--remove",
      arm,
      "--remove",
      amd,
    ]);
    expect(removed.split("\n").filter((line) => line.startsWith("Removed"))).toEqual([
      `Removed   ${arm}`,
      `Removed   ${amd}`,
    ]);
  });
});
