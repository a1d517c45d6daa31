/**
 * discover's renderings as ORAS 1.3 draws them: annotations in the tree as YAML (values quoted
 * exactly where ORAS quotes them, checked against its output), and the deprecated table.
 */
import { describe, expect, test } from "bun:test";
import { renderTable, renderTree, TABLE_DEPRECATION } from "../../src/cli/output/discover.ts";
import { yamlScalar } from "../../src/cli/output/yaml-scalar.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";

const hex = (c: string): string => `sha256:${c.repeat(64)}`;
const referrer = (c: string, artifactType?: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: hex(c),
  size: 660,
  ...(annotations ? { annotations } : {}),
  ...(artifactType ? { artifactType } : {}),
});

describe("annotation values as YAML", () => {
  test("quoted as ORAS quotes them", () => {
    const cases: [string, string][] = [
      ["plain text here", "plain text here"],
      ["index", "index"],
      ["2023-01-18T08:37:42Z", '"2023-01-18T08:37:42Z"'],
      ["2023-01-01", '"2023-01-01"'],
      ["yes", '"yes"'],
      ["on", '"on"'],
      ["true", '"true"'],
      ["null", '"null"'],
      ["~", '"~"'],
      ["123", '"123"'],
      ["1.5", '"1.5"'],
      ["1_000", '"1_000"'],
      ["0x1F", '"0x1F"'],
      ["", '""'],
      ["tab\tx", '"tab\\tx"'],
      ["-dash", "-dash"],
      [":x", ":x"],
      ["x:", "'x:'"],
      ["has: colon", "'has: colon'"],
      ["#hash", "'#hash'"],
      ["x #y", "'x #y'"],
      ["@at", "'@at'"],
      ["[a]", "'[a]'"],
      [" lead", "' lead'"],
      ["it's", "it's"],
      ['a"b', 'a"b'],
      ["a\\b", "a\\b"],
      ["ü", "ü"],
    ];
    for (const [value, shown] of cases) expect(yamlScalar(value)).toBe(shown);
  });
});

describe("tree", () => {
  const nodes = [
    {
      desc: referrer("1", "test/sbom.file", { "org.opencontainers.image.created": "2023-01-18T08:37:42Z" }),
      referrers: [{ desc: referrer("2", "test/signature.file", { subject: "index" }), referrers: [] }],
    },
  ];

  test("annotations are shown unless asked not to, before the referrers of that referrer", () => {
    expect(renderTree("root", nodes)).toBe(
      [
        "root",
        "└── test/sbom.file",
        `    └── ${hex("1")}`,
        "        ├── [annotations]",
        '        │   └── org.opencontainers.image.created: "2023-01-18T08:37:42Z"',
        "        └── test/signature.file",
        `            └── ${hex("2")}`,
        "                └── [annotations]",
        "                    └── subject: index",
        "",
      ].join("\n"),
    );
    expect(renderTree("root", nodes, false)).not.toContain("[annotations]");
  });

  test("a referrer without an artifact type is grouped under <unknown>", () => {
    expect(renderTree("root", [{ desc: referrer("3"), referrers: [] }], false)).toBe(
      `root\n└── <unknown>\n    └── ${hex("3")}\n`,
    );
  });
});

describe("table (deprecated)", () => {
  test("direct referrers with their descriptors; the columns padded as ORAS pads them", () => {
    const nodes = [
      {
        desc: referrer("1", "test/sbom.file", { b: "2", a: "<1>" }),
        referrers: [{ desc: referrer("2"), referrers: [] }],
      },
    ];
    expect(renderTable("localhost:5000/app:v1", hex("0"), nodes)).toBe(
      [
        "Discovered 1 artifact referencing localhost:5000/app:v1",
        `Digest: ${hex("0")}`,
        "",
        "Artifact Type    Digest",
        `test/sbom.file   ${hex("1")}`,
        "{",
        '  "mediaType": "application/vnd.oci.image.manifest.v1+json",',
        `  "digest": "${hex("1")}",`,
        '  "size": 660,',
        '  "annotations": {',
        '    "a": "\\u003c1\\u003e",',
        '    "b": "2"',
        "  },",
        '  "artifactType": "test/sbom.file"',
        "}",
        "",
      ].join("\n"),
    );
    expect(renderTable("r", hex("0"), nodes, false)).toEndWith(`test/sbom.file   ${hex("1")}\n`);
  });

  test("no referrers: the count and digest only; the deprecation warning is ORAS's", () => {
    expect(renderTable("r:v1", hex("0"), [])).toBe(
      `Discovered 0 artifacts referencing r:v1\nDigest: ${hex("0")}\n`,
    );
    expect(TABLE_DEPRECATION).toBe('Format "table" is deprecated and will be removed in a future release.');
  });
});
