/**
 * Differences from ORAS 1.3.2 found by running both side by side with OCI layouts as source and
 * destination, templates over each command's JSON, and the less common push, pull and attach
 * options. The compiled binary against real registries and layouts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistries } from "../harness/registry.ts";
import { removeTmpDir, runSkiff, skiffOk, tmpDir } from "../harness/skiff.ts";

setDefaultTimeout(60_000);

const registries = useRegistries(["plain"]);
const work = tmpDir("skiff-e2e-oras-diff-layouts-");
afterAll(() => removeTmpDir(work));

async function skiff(args: string[]) {
  return runSkiff(args, { cwd: work });
}

/** Runs skiff in the work folder, asserting exit 0; returns stdout. */
async function ok(args: string[]): Promise<string> {
  return (await skiffOk(args, { cwd: work })).stdout;
}

const CREATED = "org.opencontainers.image.created=2025-01-01T00:00:00Z";

beforeAll(() => {
  writeFileSync(join(work, "a.txt"), "hello\n");
  writeFileSync(join(work, "config.json"), '{"k":1}\n');
});

describe("pull --config FILE:TYPE", () => {
  test("a config of another media type is a skipped blob, as ORAS reports it", async () => {
    const ref = `${registries.plain.localhost}/diff/config:v1`;
    await ok([
      "push",
      ref,
      "a.txt",
      "--config",
      "config.json:application/vnd.c",
      "--artifact-type",
      "application/vnd.x",
      "-a",
      CREATED,
    ]);
    const text = await ok([
      "pull",
      ref,
      "-o",
      join(work, "other-config"),
      "--config",
      "cfg.json:application/vnd.other",
    ]);
    const lines = text.split("\n");
    expect(lines).toContain("Skipped     6a021504b02d application/vnd.c");
    expect(lines).toContain('Skipped pulling layers without file name in "org.opencontainers.image.title"');
    // The config of the media type asked for is written, and no Skipped line names it.
    const wanted = await ok([
      "pull",
      ref,
      "-o",
      join(work, "wanted-config"),
      "--config",
      "cfg.json:application/vnd.c",
    ]);
    expect(wanted).toContain("Downloaded  6a021504b02d cfg.json");
    expect(wanted).not.toContain("Skipped");
  });
});

describe("push --artifact-platform with --config", () => {
  test("refused with ORAS's phrase, writing nothing", async () => {
    const layout = join(work, "platform-and-config");
    const result = await skiff([
      "push",
      "--oci-layout",
      `${layout}:v1`,
      "a.txt",
      "--artifact-platform",
      "linux/amd64",
      "--config",
      "config.json",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe(
      "Error: --config, --artifact-platform cannot be used at the same time",
    );
    expect(existsSync(layout)).toBe(false);
  });
});

describe("--oci-layout-path DIR ARG: closing lines name ARG alone, as ORAS does", () => {
  test("push, pull, blob push, manifest push, index create and cp", async () => {
    const layout = join(work, "by-path");
    const copy = join(work, "by-path-copy");
    const pushed = await ok(["push", "--oci-layout-path", layout, "v1,v2", "a.txt", "-a", CREATED]);
    expect(pushed).toContain("Pushed [oci-layout] v1\nTagged v2\n");
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(pushed)![1]!;

    const pulled = await ok(["pull", "--oci-layout-path", layout, digest, "-o", join(work, "by-path-out")]);
    expect(pulled).toContain(`Pulled [oci-layout] ${digest}\n`);
    const blob = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    expect(await ok(["blob", "push", "--oci-layout-path", layout, blob, "a.txt"])).toContain(
      `Pushed: [oci-layout] ${blob}\n`,
    );
    writeFileSync(
      join(work, "manifest.json"),
      await ok(["manifest", "fetch", "--oci-layout-path", layout, "v1"]),
    );
    expect(await ok(["manifest", "push", "--oci-layout-path", layout, "m1", "manifest.json"])).toContain(
      "Pushed: [oci-layout] m1\n",
    );
    expect(await ok(["manifest", "index", "create", "--oci-layout-path", layout, "ix", "v1"])).toContain(
      "Pushed    [oci-layout] ix\n",
    );
    expect(
      await ok(["cp", "--from-oci-layout-path", layout, "v1", "--to-oci-layout-path", copy, "x,y"]),
    ).toContain("Copied [oci-layout] v1 => [oci-layout] x\nTagged y\n");

    // --oci-layout PATH:TAG names the path, as before.
    expect(await ok(["pull", "--oci-layout", `${layout}:v1`, "-o", join(work, "by-path-out2")])).toContain(
      `Pulled [oci-layout] ${layout}:v1\n`,
    );
  });
});

describe("pull --format json lists a file once for each manifest that lists it", () => {
  test("--include-subject: a file of both the artifact and its subject is listed twice, as ORAS lists it", async () => {
    writeFileSync(join(work, "b.txt"), "world\n");
    const subject = `${registries.plain.localhost}/diff/subject:v1`;
    await ok(["push", subject, "a.txt", "b.txt", "-a", CREATED]);
    const attached = JSON.parse(
      await ok(["attach", subject, "--artifact-type", "application/vnd.sig", "a.txt", "--format", "json"]),
    );
    const out = join(work, "with-subject");
    const pulled = JSON.parse(
      await ok(["pull", attached.reference, "--include-subject", "-o", out, "--format", "json"]),
    );
    const paths = pulled.files.map((file: { path: string }) => file.path);
    expect(paths.sort()).toEqual([join(out, "a.txt"), join(out, "a.txt"), join(out, "b.txt")]);
  });
});

describe("discover --depth below 1", () => {
  test("a negative depth says ORAS's 'depth value should be at least 1', as 0 does", async () => {
    for (const depth of ["0", "-1"]) {
      const result = await skiff([
        "discover",
        "--depth",
        depth,
        `${registries.plain.localhost}/diff/none:v1`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr.split("\n")[0]).toContain("depth value should be at least 1");
    }
  });
});

describe("templates: printf with %s on an object", () => {
  test("the verb applies to each key and value, as Go's fmt does (map[k:v ...])", async () => {
    const layout = join(work, "printf-map");
    await ok(["push", "--oci-layout", `${layout}:v1`, "a.txt", "-a", CREATED]);
    const text = await ok([
      "manifest",
      "fetch",
      "--oci-layout",
      `${layout}:v1`,
      "--format",
      'go-template={{printf "%s" .annotations}}',
    ]);
    expect(text).toBe(
      "map[org.opencontainers.image.created:2025-01-01T00:00:00Z org.opencontainers.image.ref.name:v1]",
    );
  });
});

describe("cp from a layout into a layout", () => {
  test("the source entry's annotations (created) come along into index.json, as ORAS copies them", async () => {
    const from = join(work, "cp-from");
    const to = join(work, "cp-to");
    await ok(["push", "--oci-layout", `${from}:v1`, "a.txt", "-a", CREATED]);
    await ok(["cp", "--from-oci-layout", `${from}:v1`, "--to-oci-layout", `${to}:copy`]);
    const entry = JSON.parse(await ok(["manifest", "fetch", "--oci-layout", `${to}:copy`, "--descriptor"]));
    expect(entry.annotations).toEqual({
      "org.opencontainers.image.created": "2025-01-01T00:00:00Z",
      "org.opencontainers.image.ref.name": "copy",
    });
    // From a registry the resolved descriptor has no annotations: the entry has only its tag.
    const ref = `${registries.plain.localhost}/diff/cp-source:v1`;
    await ok(["push", ref, "a.txt", "-a", CREATED]);
    await ok(["cp", ref, "--to-oci-layout", `${to}:remote`]);
    const remote = JSON.parse(
      await ok(["manifest", "fetch", "--oci-layout", `${to}:remote`, "--descriptor"]),
    );
    expect(remote.annotations).toEqual({ "org.opencontainers.image.ref.name": "remote" });
  });
});
