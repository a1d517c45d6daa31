import { describe, expect, test } from "bun:test";
import type { Console } from "../../src/cli/io.ts";
import {
  descriptorJson,
  isStructured,
  type OutputFormat,
  parseFormat,
  renderJson,
  renderResult,
  writeResult,
} from "../../src/cli/output/format.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";

const digest = `sha256:${"ab".repeat(32)}`;

function usage(action: () => unknown): SkiffError {
  try {
    action();
  } catch (error) {
    if (error instanceof SkiffError && error.code === "USAGE") return error;
    throw error;
  }
  throw new Error("expected a usage error");
}

function captureConsole(): Console & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    outBytes: () => {},
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
  };
}

describe("parseFormat", () => {
  test("text is the default", () => {
    expect(parseFormat({})).toEqual({ kind: "text" });
    expect(parseFormat({ format: "text" })).toEqual({ kind: "text" });
  });

  test("a command whose default is tree", () => {
    expect(parseFormat({}, ["tree", "json", "go-template"])).toEqual({ kind: "tree" });
    expect(parseFormat({ format: "tree" }, ["tree", "json"])).toEqual({ kind: "tree" });
  });

  test("json", () => {
    const format = parseFormat({ format: "json" });
    expect(format).toEqual({ kind: "json" });
    expect(isStructured(format)).toBe(true);
    expect(isStructured({ kind: "text" })).toBe(false);
  });

  test("go-template=TEMPLATE keeps everything after the first =", () => {
    const format = parseFormat({ format: "go-template={{.a}}={{.b}}" });
    expect(format.kind).toBe("go-template");
    expect(renderResult(format, { a: 1, b: 2 })).toBe("1=2");
    expect(isStructured(format)).toBe(true);
  });

  test("go-template with --template", () => {
    const format = parseFormat({ format: "go-template", template: "{{.digest}}" });
    expect(renderResult(format, { digest })).toBe(digest);
  });

  test("the template is checked when the flag is parsed", () => {
    const error = usage(() => parseFormat({ format: "go-template={{.a" }));
    expect(error.message).toContain("invalid template: 1:1: unclosed action");
  });

  test("usage errors name the problem and list the choices", () => {
    const unknown = usage(() => parseFormat({ format: "yaml" }));
    expect(unknown.message).toBe('invalid format type: "yaml"');
    expect(unknown.hint).toBe("use --format text, json, go-template=TEMPLATE");

    const notHere = usage(() => parseFormat({ format: "tree" }));
    expect(notHere.message).toContain("does not support --format tree");

    expect(usage(() => parseFormat({ format: "go-template" })).message).toContain("needs a template");
    expect(usage(() => parseFormat({ format: "go-template=" })).message).toContain("needs a template");
    expect(usage(() => parseFormat({ format: "go-template={{.a}}", template: "{{.b}}" })).message).toContain(
      "given twice",
    );
    expect(usage(() => parseFormat({ template: "{{.a}}" })).message).toBe(
      "--template must be used with --format go-template",
    );
    expect(usage(() => parseFormat({ format: "json", template: "{{.a}}" })).message).toContain(
      "--template must be used with --format go-template",
    );
    expect(usage(() => parseFormat({ format: "" })).message).toBe('invalid format type: ""');
    expect(usage(() => parseFormat({ format: "json=x" })).message).toContain("takes no value");
    expect(usage(() => parseFormat({ format: "JSON" })).message).toContain("invalid format type");
  });

  test("the choices listed follow what the command allows", () => {
    const error = usage(() => parseFormat({ format: "text" }, ["json"]));
    expect(error.hint).toBe("use --format json");
  });
});

describe("rendering", () => {
  test("JSON is 2-space indented with a final newline", () => {
    expect(renderJson({ a: [1], b: "x" })).toBe('{\n  "a": [\n    1\n  ],\n  "b": "x"\n}\n');
  });

  test("templates add no newline of their own", () => {
    const format = parseFormat({ format: "go-template={{.a}}" });
    expect(renderResult(format, { a: "x" })).toBe("x");
  });

  test("text and tree are left to the command", () => {
    expect(renderResult({ kind: "text" }, { a: 1 })).toBeUndefined();
    expect(renderResult({ kind: "tree" }, { a: 1 })).toBeUndefined();
  });

  test("writeResult writes only structured output, to stdout", () => {
    const formats: [OutputFormat, string[]][] = [
      [{ kind: "json" }, ['{\n  "a": 1\n}\n']],
      [parseFormat({ format: "go-template={{.a}}" }), ["1"]],
      [{ kind: "text" }, []],
    ];
    for (const [format, expected] of formats) {
      const console = captureConsole();
      expect(writeResult(console, format, { a: 1 })).toBe(expected.length > 0);
      expect(console.stdout).toEqual(expected);
      expect(console.stderr).toEqual([]);
    }
  });
});

describe("descriptorJson", () => {
  const desc: Descriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest,
    size: 123,
    annotations: { b: "2", a: "1" },
    artifactType: "application/vnd.example",
    platform: { os: "linux", architecture: "amd64" },
  };

  test("ORAS key order, extras last, in their order", () => {
    const json = descriptorJson(`localhost:5000/repo@${digest}`, desc, { referenceAsTags: ["r:v1"], z: 1 });
    expect(Object.keys(json)).toEqual([
      "reference",
      "mediaType",
      "digest",
      "size",
      "annotations",
      "artifactType",
      "referenceAsTags",
      "z",
    ]);
    expect(json.reference).toBe(`localhost:5000/repo@${digest}`);
    expect(json.annotations).toEqual({ b: "2", a: "1" });
    // Platform is not part of ORAS's descriptor output; callers add it through extra when they want it.
    expect("platform" in json).toBe(false);
  });

  test("annotations and artifactType only when present", () => {
    const bare = descriptorJson("layout@x", { mediaType: "a/b", digest, size: 2 });
    expect(Object.keys(bare)).toEqual(["reference", "mediaType", "digest", "size"]);
    const empty = descriptorJson("layout@x", { mediaType: "a/b", digest, size: 2, annotations: {} });
    expect("annotations" in empty).toBe(false);
    expect(renderJson(bare)).toBe(
      `{\n  "reference": "layout@x",\n  "mediaType": "a/b",\n  "digest": "${digest}",\n  "size": 2\n}\n`,
    );
  });

  test("extras cannot replace descriptor fields; undefined extras are dropped", () => {
    const json = descriptorJson("r", desc, { digest: "sha256:other", size: 1, gone: undefined });
    expect(json.digest).toBe(digest);
    expect(json.size).toBe(123);
    expect("gone" in json).toBe(false);
  });

  test("a copy: changing the result does not touch the descriptor", () => {
    const json = descriptorJson("r", desc);
    json.annotations!.c = "3";
    expect(desc.annotations).toEqual({ b: "2", a: "1" });
  });
});
