import { describe, expect, test } from "bun:test";
import { parseReference } from "../../src/oci/reference.ts";
import { tagName } from "../../src/ops/tag.ts";

describe("tag arguments, as ORAS reads them", () => {
  const registry = parseReference("localhost:5000/app:v1");
  const layout = parseReference("./out:v1", { layout: true });

  test("a tag is itself", () => {
    expect(tagName(registry, "v2")).toBe("v2");
    expect(tagName(layout, "v2")).toBe("v2");
  });

  test("a full reference to the source's repository writes its tag; in a layout it is the ref name", () => {
    expect(tagName(registry, "localhost:5000/app:v2")).toBe("v2");
    expect(tagName(layout, "example.registry.com/foo:latest")).toBe("example.registry.com/foo:latest");
  });

  test("another repository, a digest reference or an invalid tag is refused", () => {
    expect(() => tagName(registry, "localhost:5000/other:v2")).toThrow("mismatch");
    expect(() => tagName(registry, "localhost:6000/app:v2")).toThrow("mismatch");
    expect(() => tagName(layout, `example.registry.com/foo@sha256:${"a".repeat(64)}`)).toThrow("tag");
    expect(() => tagName(registry, "bad tag!")).toThrow("tag");
    expect(() => tagName(layout, "-x")).toThrow("tag");
  });
});
