/**
 * Layouts written by other tools are read correctly: `skopeo copy ... oci:DIR` and
 * `oci-archive:FILE` (from layouts crafted here and from the shipped example), and `umoci`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { cleanup, LayoutBuilder, MT, makeTar, sha256, TITLE, tempDir } from "../fixtures/layout-builder.ts";
import { type RunOptions, runSkiff, skiffOk } from "../harness/skiff.ts";

/** The stdout of a skiff run that must succeed. */
const ok = async (args: string[], options: RunOptions = {}) => (await skiffOk(args, options)).stdout;

const EXAMPLE = resolve(import.meta.dir, "..", "..", "examples", "repo-layout");

function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** Whether `cmd` runs; a missing tool skips its tests, and says so. */
function have(cmd: string): boolean {
  const found = spawnSync(cmd, ["--version"]).status === 0;
  if (!found) console.warn(`layout-interop: ${cmd} is not installed; its tests are skipped`);
  return found;
}

let work: string;
/** A two-platform image index (el8 amd64 / arm64), each image with one titled gzip tar layer. */
let crafted: { dir: string; files: Record<string, string> };

beforeAll(() => {
  work = tempDir("skiff-interop-");
  const b = new LayoutBuilder(join(work, "crafted"));
  const files: Record<string, string> = {};
  const image = (platform: Record<string, string>, text: string) => {
    const gz = gzipSync(makeTar([{ name: "hello.txt", content: text }]));
    const layer = b.blob(gz, MT.layerGzip, { annotations: { [TITLE]: "hello.tar.gz" } });
    files[`${platform.architecture}`] = layer.digest;
    return {
      ...b.manifest({ config: b.imageConfig(platform as never), layers: [layer] }),
      platform: platform as never,
    };
  };
  const index = b.index([
    image({ os: "linux", architecture: "amd64", "os.version": "el8" }, "amd64 el8\n"),
    image({ os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" }, "arm64 el8\n"),
  ]);
  b.writeIndex([{ ...index, tag: "v1" }]);
  crafted = { dir: b.dir, files };
});
afterAll(cleanup);

describe.skipIf(!have("skopeo"))("layouts written by skopeo", () => {
  test("oci:DIR and oci-archive:FILE copies of a crafted index: resolve, --platform pull, manifest fetch", async () => {
    const dir = join(work, "skopeo-dir");
    const archive = join(work, "skopeo.tar");
    tool("skopeo", ["copy", "--all", "--preserve-digests", `oci:${crafted.dir}:v1`, `oci:${dir}:copied`]);
    tool("skopeo", [
      "copy",
      "--all",
      "--preserve-digests",
      `oci:${crafted.dir}:v1`,
      `oci-archive:${archive}:archived`,
    ]);
    const raw = tool("skopeo", ["inspect", "--raw", `oci:${dir}:copied`]);
    const rootDigest = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    for (const ref of [
      `oci-layout://${dir}:copied`,
      `oci-layout://${dir}`,
      `oci-layout://${archive}:archived`,
      `oci-layout://${archive}`,
    ]) {
      expect(await ok(["resolve", ref])).toBe(`${rootDigest}\n`);
      const out = join(tempDir(), "out");
      await ok(["pull", "--platform", "linux/arm64/v8:el8", ref, "-o", out]);
      expect(readdirSync(out)).toEqual(["hello.tar.gz"]);
      expect(sha256(readFileSync(join(out, "hello.tar.gz")))).toBe(crafted.files.arm64!);
    }
    expect(await ok(["manifest", "fetch", `oci-layout://${archive}:archived`])).toBe(raw);
  });

  test("the example converted by skopeo (layers recompressed, titles dropped): --platform still resolves by os.version", async () => {
    const dir = join(work, "skopeo-example");
    tool("skopeo", ["copy", "--all", `oci:${EXAMPLE}`, `oci:${dir}:converted`]);
    const index = JSON.parse(tool("skopeo", ["inspect", "--raw", `oci:${dir}:converted`]));
    const el9 = index.manifests.find(
      (m: { platform: Record<string, string> }) =>
        m.platform["os.version"] === "el9" && m.platform.architecture === "amd64",
    );
    expect(await ok(["resolve", "--platform", "linux/amd64:el9", `oci-layout://${dir}`])).toBe(
      `${el9.digest}\n`,
    );
    const config = JSON.parse(
      await ok([
        "manifest",
        "fetch-config",
        "--platform",
        "linux/amd64:el9",
        `oci-layout://${dir}:converted`,
      ]),
    );
    expect(config["os.version"]).toBe("el9");
    // skopeo dropped the titles: pull writes nothing and says why.
    const out = join(tempDir(), "out");
    const run = await runSkiff(["pull", "--platform", "linux/amd64:el9", `oci-layout://${dir}`, "-o", out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Skipped pulling layers without file name in "org.opencontainers.image.title"',
    );
  });

  test("skopeo reads the layouts skiff is given (sanity for the crafted fixture)", () => {
    expect(() => tool("skopeo", ["inspect", "--raw", `oci:${crafted.dir}:v1`])).not.toThrow();
  });
});

describe.skipIf(!have("umoci"))("layouts written by umoci", () => {
  test("umoci init + new + insert: resolve by tag and tagless, --platform via the image config, blob fetch", async () => {
    const dir = join(work, "umoci");
    tool("umoci", ["init", "--layout", dir]);
    tool("umoci", ["new", "--image", `${dir}:latest`]);
    const payload = join(tempDir(), "payload");
    tool("sh", ["-c", `mkdir -p ${payload} && echo umoci > ${payload}/file.txt`]);
    tool("umoci", ["insert", "--image", `${dir}:latest`, payload, "/opt/payload"]);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    const digest = index.manifests[0].digest;
    expect(await ok(["resolve", "--oci-layout", `${dir}:latest`])).toBe(`${digest}\n`);
    expect(await ok(["resolve", `oci-layout://${dir}`])).toBe(`${digest}\n`);
    // umoci's entry has no platform: --platform is matched through the image config.
    const arch = JSON.parse(await ok(["manifest", "fetch-config", `oci-layout://${dir}`])).architecture;
    expect(await ok(["resolve", "--platform", `linux/${arch}`, `oci-layout://${dir}`])).toBe(`${digest}\n`);
    const other = arch === "amd64" ? "arm64" : "amd64";
    const miss = await runSkiff(["resolve", "--platform", `linux/${other}`, `oci-layout://${dir}`]);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toContain(`linux/${arch}`);
    const manifest = JSON.parse(await ok(["manifest", "fetch", `oci-layout://${dir}:latest`]));
    const layer = manifest.layers[0];
    const blob = await runSkiff([
      "blob",
      "fetch",
      "-o",
      join(tempDir(), "layer.tgz"),
      `oci-layout://${dir}@${layer.digest}`,
    ]);
    expect(blob.code).toBe(0);
    expect(await ok(["repo", "tags", `oci-layout://${dir}`])).toBe("latest\n");
  });
});
