import { describe, expect, test } from "bun:test";
import { SkiffError } from "../../src/errors.ts";
import { parseDescriptor } from "../../src/oci/descriptor.ts";
import {
  detectManifestMediaType,
  encodeManifest,
  isIndex,
  MAX_MANIFEST_BYTES,
  parseManifest,
  platformFromConfig,
  successors,
} from "../../src/oci/manifest.ts";
import { emptyJson, MediaType } from "../../src/oci/media-types.ts";

const enc = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const D = (c: string) => `sha256:${c.repeat(64)}`;
const layer = {
  mediaType: MediaType.ociLayerTar,
  digest: D("a"),
  size: 3,
  annotations: { "org.opencontainers.image.title": "a.txt" },
};
const config = { mediaType: MediaType.ociConfig, digest: D("b"), size: 10 };

function error(fn: () => unknown): SkiffError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    return e as SkiffError;
  }
  throw new Error("expected an error");
}

describe("image manifests", () => {
  test("a valid OCI manifest parses, with successors config, layers, subject", () => {
    const subject = { mediaType: MediaType.ociManifest, digest: D("c"), size: 100 };
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: "application/vnd.x",
        config,
        layers: [layer],
        subject,
        annotations: { k: "v" },
      }),
      MediaType.ociManifest,
      "m",
    );
    expect(isIndex(m)).toBe(false);
    expect(successors(m).map((d) => d.digest)).toEqual([D("b"), D("a"), D("c")]);
    expect(m.annotations).toEqual({ k: "v" });
  });

  test("a Docker v2 manifest parses", () => {
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { ...config, mediaType: MediaType.dockerConfig },
        layers: [],
      }),
      MediaType.dockerManifest,
      "m",
    );
    expect(isIndex(m)).toBe(false);
  });

  const bad: [string, unknown, string][] = [
    ["schemaVersion 1", { schemaVersion: 1, config, layers: [] }, "schemaVersion must be 2"],
    [
      "no config",
      { schemaVersion: 2, mediaType: MediaType.ociManifest, layers: [] },
      "config: must be an object",
    ],
    [
      "a bad layer digest",
      { schemaVersion: 2, config, layers: [layer, { ...layer, digest: "sha256:xyz" }] },
      "layers[1].digest",
    ],
    ["a negative size", { schemaVersion: 2, config: { ...config, size: -1 }, layers: [] }, "config.size"],
    ["a fractional size", { schemaVersion: 2, config, layers: [{ ...layer, size: 1.5 }] }, "layers[0].size"],
    [
      "a bad media type",
      { schemaVersion: 2, config: { ...config, mediaType: "not a type" }, layers: [] },
      "config.mediaType",
    ],
    [
      "non-string annotations",
      { schemaVersion: 2, config, layers: [{ ...layer, annotations: { a: 1 } }] },
      "layers[0].annotations.a",
    ],
    ["layers not an array", { schemaVersion: 2, config, layers: {} }, "layers must be an array"],
    ["a bad artifactType", { schemaVersion: 2, artifactType: "x y", config, layers: [] }, "artifactType"],
    [
      "a contradicting mediaType",
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] },
      "contradicts",
    ],
    ["an array", [], "must be a JSON object"],
  ];
  for (const [name, value, field] of bad) {
    test(`${name} is refused naming ${field}`, () => {
      const e = error(() => parseManifest(enc(value), MediaType.ociManifest, "sha256:source"));
      expect(e.code).toBe("INVALID_MANIFEST");
      expect(e.message).toContain(field);
      expect(e.message).toContain("sha256:source");
    });
  }

  test("descriptor media types are read as leniently as ORAS writes them (`layer.type`)", () => {
    const manifest = parseManifest(
      enc({ schemaVersion: 2, config, layers: [{ ...layer, mediaType: "layer.type" }] }),
      MediaType.ociManifest,
      "m",
    );
    expect("layers" in manifest && manifest.layers[0]?.mediaType).toBe("layer.type");
  });

  test("bytes that are not UTF-8 or not JSON are refused", () => {
    expect(
      error(() => parseManifest(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), MediaType.ociManifest, "m"))
        .message,
    ).toContain("UTF-8");
    expect(error(() => parseManifest(enc("{"), MediaType.ociManifest, "m")).message).toContain(
      "not valid JSON",
    );
  });

  test("manifests over 4 MiB are TOO_LARGE", () => {
    const e = error(() =>
      parseManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1), MediaType.ociManifest, "sha256:big"),
    );
    expect(e.code).toBe("TOO_LARGE");
    expect(e.message).toContain("sha256:big");
  });
});

describe("image indexes", () => {
  test("OCI index and Docker manifest list parse, platforms validated", () => {
    const entry = {
      mediaType: MediaType.ociManifest,
      digest: D("d"),
      size: 5,
      platform: { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
    };
    const oci = parseManifest(
      enc({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [entry] }),
      MediaType.ociIndex,
      "i",
    );
    expect(isIndex(oci) && oci.manifests[0]!.platform?.["os.version"]).toBe("el8");
    const docker = parseManifest(
      enc({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] }),
      MediaType.dockerManifestList,
      "i",
    );
    expect(isIndex(docker)).toBe(true);
    const e = error(() =>
      parseManifest(
        enc({ schemaVersion: 2, manifests: [{ ...entry, platform: { os: "linux" } }] }),
        MediaType.ociIndex,
        "i",
      ),
    );
    expect(e.message).toContain("manifests[0].platform");
  });

  test("an unknown media type is inferred from the shape, or refused", () => {
    expect(detectManifestMediaType(enc({ schemaVersion: 2, manifests: [] }), "x")).toBe(MediaType.ociIndex);
    expect(detectManifestMediaType(enc({ schemaVersion: 2, config, layers: [] }), "x")).toBe(
      MediaType.ociManifest,
    );
    expect(detectManifestMediaType(enc({ mediaType: "application/vnd.other" }), "x")).toBe(
      "application/vnd.other",
    );
    expect(() => detectManifestMediaType(enc({ hello: 1 }), "x")).toThrow("neither");
  });
});

describe("configs and descriptors", () => {
  test("platformFromConfig reads an image config, undefined for an empty one", () => {
    expect(
      platformFromConfig(
        enc({ os: "linux", architecture: "arm64", variant: "v8", "os.version": "el9" }),
        "c",
      ),
    ).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
      "os.version": "el9",
    });
    expect(platformFromConfig(enc({}), "c")).toBeUndefined();
  });

  test("parseDescriptor keeps known fields only and names the place", () => {
    const d = parseDescriptor({ ...emptyJson, extra: 1 }, "x");
    expect(d).toEqual({ mediaType: emptyJson.mediaType, digest: emptyJson.digest, size: 2, data: "e30=" });
    expect(() => parseDescriptor({ ...emptyJson, urls: [1] }, "subject")).toThrow("subject.urls");
    expect(() => parseDescriptor(null, "subject")).toThrow("subject: must be an object");
  });

  test("encodeManifest round-trips", () => {
    const m = parseManifest(
      enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }),
      MediaType.ociManifest,
      "m",
    );
    expect(parseManifest(encodeManifest(m), MediaType.ociManifest, "m")).toEqual(m);
  });
});
