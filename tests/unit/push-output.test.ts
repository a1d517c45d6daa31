import { describe, expect, test } from "bun:test";
import { discoverJson } from "../../src/cli/commands/discover.ts";
import { parseConcurrency, reproducibility } from "../../src/cli/flags.ts";
import { pushResultJson } from "../../src/cli/output/descriptors.ts";
import { renderTree } from "../../src/cli/output/discover.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { Annotation, MediaType } from "../../src/oci/media-types.ts";
import { parseReference } from "../../src/oci/reference.ts";
import type { ReferrerNode } from "../../src/ops/discover.ts";

const hex = (c: string): string => `sha256:${c.repeat(64)}`;
const manifest = (c: string, artifactType?: string): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: hex(c),
  size: 100,
  ...(artifactType ? { artifactType } : {}),
});

describe("push JSON", () => {
  test("keys in ORAS order; layouts are PATH@digest; referenceAsTags lists every tag", () => {
    const desc: Descriptor = {
      ...manifest("a", MediaType.unknownArtifact),
      annotations: { [Annotation.created]: "2024-01-01T00:00:00Z" },
    };
    const ref = parseReference("out/layout:v1,v2", { layout: true, tagList: true });
    const json = pushResultJson(ref, desc, ref.tags);
    expect(Object.keys(json)).toEqual([
      "reference",
      "mediaType",
      "digest",
      "size",
      "annotations",
      "artifactType",
      "referenceAsTags",
    ]);
    expect(json.reference).toBe(`out/layout@${hex("a")}`);
    expect(json.referenceAsTags).toEqual(["out/layout:v1", "out/layout:v2"]);
    // The reference works as an oci-layout:// reference for other commands.
    const back = parseReference(`oci-layout://${json.reference}`);
    expect(back).toMatchObject({ kind: "layout", path: "out/layout", digest: hex("a") });
    const registry = parseReference("localhost:5000/team/app:1.2", { tagList: true });
    expect(pushResultJson(registry, desc, registry.tags)).toMatchObject({
      reference: `localhost:5000/team/app@${hex("a")}`,
      referenceAsTags: ["localhost:5000/team/app:1.2"],
    });
    expect(pushResultJson(parseReference("lay", { layout: true }), desc, []).referenceAsTags).toEqual([]);
  });

  test("created and mtime come from SOURCE_DATE_EPOCH; --no-created omits created", async () => {
    expect(await reproducibility({}, { SOURCE_DATE_EPOCH: "1700000000" })).toEqual({
      created: "2023-11-14T22:13:20Z",
      mtime: 1_700_000_000,
    });
    expect(await reproducibility({ created: false }, { SOURCE_DATE_EPOCH: "1700000000" })).toEqual({
      created: null,
      mtime: 1_700_000_000,
    });
    expect(await reproducibility({}, {})).toEqual({ created: undefined, mtime: undefined });
  });

  test("--concurrency must be a whole number; 0 or less is the default (as in ORAS)", () => {
    expect(parseConcurrency(undefined, 5)).toBe(5);
    expect(parseConcurrency("8", 5)).toBe(8);
    expect(parseConcurrency("0", 5)).toBe(5);
    expect(parseConcurrency("-1", 3)).toBe(3);
    for (const bad of ["two", "1.5", "", "0x3"])
      expect(() => parseConcurrency(bad, 5)).toThrow(/--concurrency/);
  });
});

describe("discover output", () => {
  const tree: ReferrerNode[] = [
    {
      desc: manifest("1", "application/vnd.sbom"),
      referrers: [{ desc: manifest("3", "application/vnd.sig"), referrers: [] }],
    },
    { desc: { ...manifest("2", "application/vnd.sbom"), annotations: { k: "v" } }, referrers: [] },
    { desc: manifest("4"), referrers: [] },
  ];

  test("the tree groups referrers by artifact type (in the order first met), as ORAS draws it", () => {
    expect(renderTree(`lay@${hex("0")}`, tree, false)).toBe(
      [
        `lay@${hex("0")}`,
        "├── application/vnd.sbom",
        `│   ├── ${hex("1")}`,
        "│   │   └── application/vnd.sig",
        `│   │       └── ${hex("3")}`,
        `│   └── ${hex("2")}`,
        "└── <unknown>",
        `    └── ${hex("4")}`,
        "",
      ].join("\n"),
    );
    // Annotations as ORAS prints them: YAML, quoted only when needed.
    expect(renderTree("root", [tree[1]!], true)).toContain("[annotations]\n            └── k: v");
    expect(renderTree("root", [])).toBe("root\n");
  });

  test("JSON nests referrers under each node", () => {
    const ref = parseReference("localhost:5000/app:v1");
    const json = discoverJson(ref, manifest("0"), tree) as {
      referrers: { reference: string; referrers: unknown[] }[];
    };
    expect(json.referrers).toHaveLength(3);
    expect(json.referrers[0]!.reference).toBe(`localhost:5000/app@${hex("1")}`);
    expect(json.referrers[0]!.referrers).toHaveLength(1);
    expect(Object.keys(json)).toEqual(["reference", "mediaType", "digest", "size", "referrers"]);
  });
});
