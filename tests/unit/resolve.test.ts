import { afterAll, describe, expect, test } from "bun:test";
import { openLayout } from "../../src/content/layout/index.ts";
import type { Target } from "../../src/content/target.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parsePlatform } from "../../src/oci/platform.ts";
import { parseReference, type Reference } from "../../src/oci/reference.ts";
import { resolveReference, selectPlatform } from "../../src/ops/resolve.ts";
import { cleanup, LayoutBuilder, MT, sha256 } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

const layoutRef = (path: string, suffix = ""): Reference => parseReference(`oci-layout://${path}${suffix}`);

async function resolveIn(b: LayoutBuilder, suffix = "", platform?: string) {
  const target = await openLayout(b.dir);
  return resolveReference(
    target,
    layoutRef(b.dir, suffix),
    platform ? { platform: parsePlatform(platform) } : {},
  );
}

async function failure(promise: Promise<unknown>): Promise<SkiffError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof SkiffError)) throw error;
    return error;
  }
  throw new Error("expected a SkiffError");
}

const arm8 = { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" };
const arm9 = { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el9" };
const amd8 = { os: "linux", architecture: "amd64", "os.version": "el8" };
const amd9 = { os: "linux", architecture: "amd64", "os.version": "el9" };

/** The user story's shape: index.json -> one untagged index -> four platform manifests. */
function userStoryLayout(): { b: LayoutBuilder; index: Descriptor; m: Record<string, Descriptor> } {
  const b = new LayoutBuilder();
  const m = {
    arm8: b.platformManifest(arm8, { "a.txt": "arm el8" }),
    arm9: b.platformManifest(arm9, { "a.txt": "arm el9" }),
    amd8: b.platformManifest(amd8, { "a.txt": "amd el8" }),
    amd9: b.platformManifest(amd9, { "a.txt": "amd el9" }),
  };
  const index = b.index(Object.values(m), { "org.opencontainers.image.created": "2025-01-01T00:00:00Z" });
  b.writeIndex([index]);
  return { b, index, m };
}

describe("tagless resolve", () => {
  test("one untagged entry is the answer", async () => {
    const { b, index } = userStoryLayout();
    const resolved = await resolveIn(b);
    expect(resolved.desc.digest).toBe(index.digest);
    expect(resolved.how).toBe("tagless");
    expect(resolved.pinned).toMatchObject({ kind: "layout", path: b.dir, digest: index.digest });
  });

  test("--platform with os.version picks exactly that child", async () => {
    const { b, index, m } = userStoryLayout();
    for (const [name, platform] of [
      ["arm8", "linux/arm64/v8:el8"],
      ["arm9", "linux/arm64/v8:el9"],
      ["amd8", "linux/amd64:el8"],
      ["amd9", "linux/amd64:el9"],
      ["arm8", "linux/aarch64:el8"],
      ["arm9", "linux/arm64:el9"],
    ] as const) {
      const resolved = await resolveIn(b, "", platform);
      expect(resolved.desc.digest).toBe(m[name]!.digest);
      expect(resolved.root.digest).toBe(index.digest);
    }
  });

  test("a platform that several children match is ambiguous, listing each with os.version and a selecting reference", async () => {
    const { b, m } = userStoryLayout();
    const error = await failure(resolveIn(b, "", "linux/arm64"));
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.message).toContain("2 manifests");
    expect(error.message).not.toContain("\n");
    for (const d of [m.arm8!, m.arm9!]) {
      expect(error.hint).toContain(d.digest);
      expect(error.hint).toContain(`oci-layout://${b.dir}@${d.digest}`);
    }
    expect(error.hint).toContain("linux/arm64/v8:el8");
    expect(error.hint).toContain("linux/arm64/v8:el9");
    expect(error.hint).not.toContain(m.amd8!.digest);
  });

  test("no match lists what there is", async () => {
    const { b } = userStoryLayout();
    const error = await failure(resolveIn(b, "", "linux/s390x:el8"));
    expect(error.code).toBe("NO_MATCH");
    expect(error.message).toContain("linux/s390x:el8");
    expect(error.hint).toContain("linux/amd64:el9");
  });

  test("os.version is never ignored: el7 matches nothing", async () => {
    const { b } = userStoryLayout();
    expect((await failure(resolveIn(b, "", "linux/amd64:el7"))).code).toBe("NO_MATCH");
  });

  test("several entries without a tag are ambiguous, listing digest, media type, tag and created", async () => {
    const b = new LayoutBuilder();
    const one = b.manifest({
      layers: [b.file("a", "1")],
      annotations: { "org.opencontainers.image.created": "2024-05-06T07:08:09Z" },
    });
    const two = b.manifest({ layers: [b.file("b", "2")] });
    b.writeIndex([one, { ...two, tag: "v2" }]);
    const error = await failure(resolveIn(b));
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.hint).toContain(one.digest);
    expect(error.hint).toContain(two.digest);
    expect(error.hint).toContain(MT.manifest);
    expect(error.hint).toContain("tag: v2");
    expect(error.hint).toContain("2024-05-06T07:08:09Z");
    expect(error.hint).toContain(`oci-layout://${b.dir}@${one.digest}`);
  });

  test("untagged referrers of an entry (as attach adds them) do not make a tagless reference ambiguous", async () => {
    const b = new LayoutBuilder();
    const app = b.manifest({ layers: [b.file("app", "1")] });
    const sbom = b.manifest({ layers: [b.file("sbom.json", "{}")], subject: app });
    const signature = b.manifest({ layers: [b.file("sig", "s")], subject: sbom });
    b.writeIndex([app, sbom, signature]);
    expect((await resolveIn(b)).desc.digest).toBe(app.digest);
  });

  test("a referrer whose subject is not in index.json still counts, and two subjects stay ambiguous", async () => {
    const b = new LayoutBuilder();
    const elsewhere = b.manifest({ layers: [b.file("x", "x")] });
    const one = b.manifest({ layers: [b.file("a", "1")] });
    const orphan = b.manifest({ layers: [b.file("sig", "s")], subject: elsewhere });
    const other = b.manifest({ layers: [b.file("b", "2")] });
    b.writeIndex([one, orphan]);
    expect((await failure(resolveIn(b))).code).toBe("AMBIGUOUS");
    b.writeIndex([one, other, b.manifest({ layers: [b.file("sig", "t")], subject: one })]);
    const error = await failure(resolveIn(b));
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.hint).toContain(other.digest);
  });

  test("the same manifest listed twice (tagged and untagged) is one candidate", async () => {
    const b = new LayoutBuilder();
    const one = b.manifest({});
    b.writeIndex([one, { ...one, tag: "v1" }, { ...one, tag: "latest" }]);
    expect((await resolveIn(b)).desc.digest).toBe(one.digest);
  });

  test("entries of unknown media type are skipped, not errors", async () => {
    const b = new LayoutBuilder();
    const one = b.manifest({});
    const other = b.blob("whatever", "application/vnd.example.unknown+json");
    b.writeIndex([other, one]);
    expect((await resolveIn(b)).desc.digest).toBe(one.digest);
  });

  test("an empty index.json says the layout is empty", async () => {
    const b = new LayoutBuilder();
    const error = await failure(resolveIn(b));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("empty");
  });

  test("entries without a platform in the descriptor are matched through their image config", async () => {
    const b = new LayoutBuilder();
    const arm = b.platformManifest(arm8, { x: "1" }, false);
    const amd = b.platformManifest(amd8, { x: "2" }, false);
    b.writeIndex([arm, amd]);
    expect((await resolveIn(b, "", "linux/amd64:el8")).desc.digest).toBe(amd.digest);
    expect((await resolveIn(b, "", "linux/arm64/v8")).desc.digest).toBe(arm.digest);
  });

  test("artifacts with an empty config have no platform: --platform finds nothing, with a listing", async () => {
    const b = new LayoutBuilder();
    const art = b.manifest({ layers: [b.file("a", "1")] });
    b.writeIndex([art]);
    const error = await failure(resolveIn(b, "", "linux/amd64"));
    expect(error.code).toBe("NO_MATCH");
    expect(error.hint).toContain(art.digest);
    expect(error.hint).toContain("no platform");
  });

  test("nested indexes are followed", async () => {
    const b = new LayoutBuilder();
    const arm = b.platformManifest(arm8, { x: "1" });
    const amd = b.platformManifest(amd9, { x: "2" });
    const inner = b.index([arm, amd]);
    const outer = b.index([inner]);
    b.writeIndex([outer]);
    expect((await resolveIn(b, "", "linux/amd64:el9")).desc.digest).toBe(amd.digest);
  });

  test("two index entries that both have a match are ambiguous", async () => {
    const b = new LayoutBuilder();
    const a = b.index([b.platformManifest(amd8, { x: "1" })]);
    const c = b.index([b.platformManifest(amd8, { x: "2" })]);
    b.writeIndex([a, c]);
    const error = await failure(resolveIn(b, "", "linux/amd64:el8"));
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.hint).toContain(`in index ${a.digest}`);
  });

  test("indexes nested deeper than 32 levels are refused", async () => {
    const b = new LayoutBuilder();
    let desc = b.platformManifest(amd8, { x: "1" });
    for (let i = 0; i < 40; i++) desc = b.index([desc]);
    b.writeIndex([desc]);
    const error = await failure(resolveIn(b, "", "linux/amd64"));
    expect(error.code).toBe("INVALID_MANIFEST");
    expect(error.message).toContain("32");
  });

  test("an index that claims to contain itself fails verification, naming the digest", async () => {
    const b = new LayoutBuilder();
    const fake = sha256("the index that contains itself");
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [{ mediaType: MT.index, digest: fake, size: 0 }],
    });
    const selfRef = body.replace('"size":0', `"size":${body.length}`);
    const desc = b.blob(selfRef, MT.index, {}, fake);
    b.writeIndex([desc]);
    const error = await failure(resolveIn(b, "", "linux/amd64"));
    expect(["DIGEST_MISMATCH", "INVALID_MANIFEST"]).toContain(error.code);
    expect(error.message).toContain(fake);
  });
});

describe("tag and digest with --platform", () => {
  test("a tag naming an index narrows to the platform's child", async () => {
    const { b, index, m } = userStoryLayout();
    b.writeIndex([{ ...index, tag: "1.2" }]);
    const resolved = await resolveIn(b, ":1.2", "linux/arm64/v8:el9");
    expect(resolved.desc.digest).toBe(m.arm9!.digest);
    expect(resolved.how).toBe("tag");
    expect(resolved.root.digest).toBe(index.digest);
  });

  test("a digest only present in blobs/ resolves, and --platform checks a manifest's own platform", async () => {
    const { b, m } = userStoryLayout();
    const resolved = await resolveIn(b, `@${m.amd8!.digest}`, "linux/amd64:el8");
    expect(resolved.desc.digest).toBe(m.amd8!.digest);
    const error = await failure(resolveIn(b, `@${m.amd8!.digest}`, "linux/amd64:el9"));
    expect(error.code).toBe("NO_MATCH");
    expect(error.message).toContain("linux/amd64:el8");
  });

  test("--platform on a manifest without any platform says so clearly", async () => {
    const b = new LayoutBuilder();
    const art = b.manifest({ layers: [b.file("a", "1")] });
    b.writeIndex([{ ...art, tag: "v1" }]);
    const error = await failure(resolveIn(b, ":v1", "linux/amd64"));
    expect(error.code).toBe("NO_MATCH");
    expect(error.message).toContain("has no platform");
  });

  test("selectPlatform on an index with no match lists the platforms there are", async () => {
    const { b, index } = userStoryLayout();
    const target = await openLayout(b.dir);
    const error = await failure(selectPlatform(target, index, parsePlatform("windows/amd64"), "here"));
    expect(error.code).toBe("NO_MATCH");
    expect(error.hint).toContain("linux/arm64/v8:el8");
    expect(error.hint).toContain("linux/amd64:el9");
  });
});

describe("references that cannot be resolved", () => {
  test("a registry reference without tag or digest asks for one (a usage error, as in ORAS)", async () => {
    const fake = { kind: "registry", name: "localhost:5000/repo" } as unknown as Target;
    const error = await failure(resolveReference(fake, parseReference("localhost:5000/repo")));
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain("localhost:5000/repo");
    expect(error.hint).toContain(":TAG or @DIGEST");
  });

  test("a missing tag is NOT_FOUND naming the tag", async () => {
    const { b } = userStoryLayout();
    const error = await failure(resolveIn(b, ":nope"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain('"nope"');
  });
});
