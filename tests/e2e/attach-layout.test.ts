/**
 * attach and discover on OCI layouts with the compiled binary: tagless subjects, --platform on an
 * index, referrers of referrers, filters, depth and the JSON/tree output.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSkiff, skiffOk } from "../harness/skiff.ts";

// The compiled binary and the registry are real processes: give each test room on a busy machine.
setDefaultTimeout(60_000);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-attach-layout-"));
  writeFileSync(join(root, "app-amd64.bin"), "amd64 build\n");
  writeFileSync(join(root, "app-arm64.bin"), "arm64 build\n");
  writeFileSync(join(root, "sbom.json"), '{"packages":[]}\n');
  writeFileSync(join(root, "sig.txt"), "signature\n");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A discover tree without its `[annotations]` nodes (ORAS 1.3 shows them by default; times vary). */
const withoutAnnotations = (tree: string): string =>
  tree
    .split("\n")
    .filter((line) => !line.includes("[annotations]") && !/── \S+: /.test(line))
    .join("\n");

/** The stdout of a skiff run in the root folder that must succeed. */
const ok = async (args: string[]) => (await skiffOk(args, { cwd: root })).stdout;

const json = async (args: string[]): Promise<Record<string, unknown> & { digest: string }> =>
  JSON.parse(await ok([...args, "--format", "json"]));

interface Node {
  reference: string;
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  referrers: Node[];
}

describe("attach and discover on a layout", () => {
  test("a tagless layout: attach needs no tag; the referrer is found by discover", async () => {
    const layout = join(root, "tagless");
    const app = await json(["push", "--oci-layout", layout, "app-amd64.bin"]);
    const attached = await json([
      "attach",
      "--oci-layout",
      layout,
      "--artifact-type",
      "application/vnd.example.sbom.v1",
      "sbom.json",
    ]);
    expect(attached.reference).toBe(`${layout}@${attached.digest}`);
    expect(attached.artifactType).toBe("application/vnd.example.sbom.v1");
    const manifest = JSON.parse(
      readFileSync(join(layout, "blobs", "sha256", attached.digest.slice(7)), "utf8"),
    );
    expect(manifest.subject.digest).toBe(app.digest);

    const tree = await ok(["discover", `oci-layout://${layout}@${app.digest}`]);
    expect(tree).toContain("[annotations]");
    expect(withoutAnnotations(tree)).toBe(
      `${layout}@${app.digest}\n└── application/vnd.example.sbom.v1\n    └── ${attached.digest}\n`,
    );
    // The referrer is listed in index.json (untagged), as ORAS does.
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(
      [app.digest, attached.digest].sort(),
    );
  });

  test("--platform attaches to one platform of an index; referrers of referrers; --depth; --artifact-type", async () => {
    const layout = join(root, "multi");
    const amd = await json([
      "push",
      "--oci-layout",
      `${layout}:amd`,
      "app-amd64.bin",
      "--artifact-platform",
      "linux/amd64",
    ]);
    const arm = await json([
      "push",
      "--oci-layout",
      `${layout}:arm`,
      "app-arm64.bin",
      "--artifact-platform",
      "linux/arm64/v8:el8",
    ]);
    await ok([
      "index",
      "create",
      `oci-layout://${layout}:multi`,
      `oci-layout://${layout}:amd`,
      `oci-layout://${layout}:arm`,
    ]);

    const sbom = await json([
      "attach",
      `oci-layout://${layout}:multi`,
      "--platform",
      "linux/arm64:el8",
      "--artifact-type",
      "application/vnd.example.sbom.v1",
      "sbom.json",
    ]);
    const sbomManifest = JSON.parse(
      readFileSync(join(layout, "blobs", "sha256", sbom.digest.slice(7)), "utf8"),
    );
    expect(sbomManifest.subject.digest).toBe(arm.digest);
    expect(sbomManifest.subject.digest).not.toBe(amd.digest);

    const sig = await json([
      "attach",
      `oci-layout://${layout}@${sbom.digest}`,
      "--artifact-type",
      "application/vnd.example.sig.v1",
      "sig.txt",
    ]);
    const note = await json([
      "attach",
      `oci-layout://${layout}:arm`,
      "--artifact-type",
      "application/vnd.example.note.v1",
      "-a",
      "reviewed=yes",
    ]);

    const all = (await json([
      "discover",
      `oci-layout://${layout}:multi`,
      "--platform",
      "linux/arm64/v8:el8",
    ])) as unknown as Node;
    expect(all.digest).toBe(arm.digest);
    expect(all.referrers.map((r) => r.digest).sort()).toEqual([note.digest, sbom.digest].sort());
    const sbomNode = all.referrers.find((r) => r.digest === sbom.digest)!;
    expect(sbomNode.reference).toBe(`${layout}@${sbom.digest}`);
    expect(sbomNode.referrers.map((r) => r.digest)).toEqual([sig.digest]);
    expect(all.referrers.find((r) => r.digest === note.digest)?.annotations?.reviewed).toBe("yes");

    const direct = (await json([
      "discover",
      `oci-layout://${layout}:arm`,
      "--depth",
      "1",
    ])) as unknown as Node;
    expect(direct.referrers.every((r) => r.referrers.length === 0)).toBe(true);
    expect(direct.referrers).toHaveLength(2);

    const onlySboms = (await json([
      "discover",
      `oci-layout://${layout}:arm`,
      "--artifact-type",
      "application/vnd.example.sbom.v1",
    ])) as unknown as Node;
    expect(onlySboms.referrers.map((r) => r.digest)).toEqual([sbom.digest]);

    const tree = await ok(["discover", `oci-layout://${layout}:arm`]);
    expect(tree).toContain("[annotations]");
    // A layout lists referrers by digest (ORAS's order there is random); types in the order met.
    const noteBranch = ["application/vnd.example.note.v1", `└── ${note.digest}`];
    const sbomBranch = [
      "application/vnd.example.sbom.v1",
      `└── ${sbom.digest}`,
      "    └── application/vnd.example.sig.v1",
      `        └── ${sig.digest}`,
    ];
    const [first, second] = note.digest < sbom.digest ? [noteBranch, sbomBranch] : [sbomBranch, noteBranch];
    expect(withoutAnnotations(tree)).toBe(
      [
        `${layout}@${arm.digest}`,
        ...first.map((line, i) => `${i === 0 ? "├── " : "│   "}${line}`),
        ...second.map((line, i) => `${i === 0 ? "└── " : "    "}${line}`),
        "",
      ].join("\n"),
    );

    const template = await ok([
      "discover",
      `oci-layout://${layout}:arm`,
      "--format",
      "go-template={{range .referrers}}{{.artifactType}} {{end}}",
    ]);
    expect(template.trim().split(" ").sort()).toEqual([
      "application/vnd.example.note.v1",
      "application/vnd.example.sbom.v1",
    ]);
    // The amd64 manifest has no referrers.
    expect(await ok(["discover", `oci-layout://${layout}:amd`])).toBe(`${layout}@${amd.digest}\n`);
  });

  test("skopeo still reads a layout with referrers in it", async () => {
    const layout = join(root, "multi");
    const inspect = spawnSync("skopeo", ["inspect", "--raw", `oci:${layout}:arm`], { encoding: "utf8" });
    expect(inspect.status).toBe(0);
  });

  test("bad input: a missing subject, no artifact type, nothing to attach, a layout tar", async () => {
    const layout = join(root, "bad");
    await ok(["push", "--oci-layout", `${layout}:v1`, "app-amd64.bin"]);
    const before = readFileSync(join(layout, "index.json"), "utf8");

    const missing = await runSkiff(
      ["attach", "--oci-layout", `${layout}:nope`, "--artifact-type", "application/x.a", "sig.txt"],
      { cwd: root },
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.split("\n")[0]).toContain("nope");

    const noType = await runSkiff(["attach", "--oci-layout", `${layout}:v1`, "sig.txt"], { cwd: root });
    expect(noType.code).not.toBe(0);
    expect(noType.stderr).toContain("--artifact-type");

    const nothing = await runSkiff(
      ["attach", "--oci-layout", `${layout}:v1`, "--artifact-type", "application/x.a"],
      {
        cwd: root,
      },
    );
    expect(nothing.code).not.toBe(0);
    expect(nothing.stderr).toContain("nothing to attach");

    const badType = await runSkiff(
      ["attach", "--oci-layout", `${layout}:v1`, "--artifact-type", "nonsense", "sig.txt"],
      {
        cwd: root,
      },
    );
    expect(badType.code).not.toBe(0);
    expect(badType.stderr).toContain('invalid artifact type "nonsense"');

    const missingFile = await runSkiff(
      ["attach", "--oci-layout", `${layout}:v1`, "--artifact-type", "application/x.a", "gone.txt"],
      { cwd: root },
    );
    expect(missingFile.code).not.toBe(0);
    expect(missingFile.stderr).toContain('cannot read file "gone.txt"');

    expect(readFileSync(join(layout, "index.json"), "utf8")).toBe(before);

    const tarPath = join(root, "layout.tar");
    spawnSync("tar", ["-cf", tarPath, "-C", layout, "."]);
    const tar = await runSkiff(
      ["attach", "--oci-layout", `${tarPath}:v1`, "--artifact-type", "application/x.a", "sig.txt"],
      {
        cwd: root,
      },
    );
    expect(tar.code).not.toBe(0);
    expect(tar.stderr).toContain("read-only");

    const nowhere = await runSkiff(
      [
        "attach",
        "--oci-layout",
        join(root, "no-such-layout"),
        "--artifact-type",
        "application/x.a",
        "sig.txt",
      ],
      { cwd: root },
    );
    expect(nowhere.code).not.toBe(0);
    expect(existsSync(join(root, "no-such-layout"))).toBe(false);
  });
});
