import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LayoutArchive, LayoutDirectory, openLayout } from "../../src/content/layout/index.ts";
import { bytesStream, readAll } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, LayoutBuilder, MT, REF_NAME, sha256, tempDir } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readAll(stream, 1 << 30));
}

async function failure(promise: Promise<unknown>): Promise<SkiffError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SkiffError);
    return error as SkiffError;
  }
  throw new Error("expected a SkiffError, got success");
}

function indexJson(dir: string): { manifests: Record<string, unknown>[]; annotations?: unknown } {
  return JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
}

describe("opening layout directories", () => {
  test("a valid layout opens and lists its entries", async () => {
    const b = new LayoutBuilder();
    const m = b.manifest({ layers: [b.file("a.txt", "hello")] });
    b.writeIndex([{ ...m, tag: "v1" }]);
    const layout = await openLayout(b.dir);
    expect(layout).toBeInstanceOf(LayoutDirectory);
    expect(layout.writable).toBe(true);
    const entries = await layout.entries();
    expect(entries.map((e) => e.digest)).toEqual([m.digest]);
  });

  test("a missing directory is NOT_FOUND; with create it becomes a layout", async () => {
    const dir = join(tempDir(), "new", "layout");
    const error = await failure(openLayout(dir));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(dir);
    const layout = await openLayout(dir, { create: true });
    expect(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(indexJson(dir).manifests).toEqual([]);
    expect(existsSync(join(dir, "blobs", "sha256"))).toBe(true);
    expect(await layout.entries()).toEqual([]);
  });

  test("a directory without oci-layout names the missing file", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    const error = await failure(openLayout(dir));
    expect(error.code).toBe("INVALID_LAYOUT");
    expect(error.message).toContain(join(dir, "oci-layout"));
    expect(error.message).toContain("missing");
  });

  test("a wrong imageLayoutVersion is refused, naming the file and the version", async () => {
    const b = new LayoutBuilder();
    writeFileSync(join(b.dir, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    const error = await failure(openLayout(b.dir));
    expect(error.code).toBe("INVALID_LAYOUT");
    expect(error.message).toContain("oci-layout");
    expect(error.message).toContain('"2.0.0"');
  });

  const badIndexes: [string, string, string][] = [
    ["empty", "", "empty file"],
    ["whitespace only", "  \n", "empty file"],
    ["truncated", '{"schemaVersion":2,"manifests":[{"mediaType":"applic', "not valid JSON"],
    ["malformed", "{schemaVersion: 2}", "not valid JSON"],
    ["not an object", "[]", "must be a JSON object"],
    ["wrong schemaVersion", '{"schemaVersion":1,"manifests":[]}', "schemaVersion must be 2"],
    ["no manifests", '{"schemaVersion":2}', "manifests must be an array"],
    [
      "a bad digest",
      `{"schemaVersion":2,"manifests":[{"mediaType":"${MT.manifest}","digest":"sha256:abc","size":2}]}`,
      "manifests[0].digest",
    ],
    [
      "a negative size",
      `{"schemaVersion":2,"manifests":[{"mediaType":"${MT.manifest}","digest":"${sha256("x")}","size":-1}]}`,
      "manifests[0].size",
    ],
  ];
  for (const [name, content, expected] of badIndexes) {
    test(`index.json ${name} is refused with a message naming the file`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([], content);
      const error = await failure(openLayout(b.dir));
      expect(error.code).toBe("INVALID_LAYOUT");
      expect(error.message).toContain(join(b.dir, "index.json"));
      expect(error.message).toContain(expected);
      expect(error.message).not.toContain("\n");
    });
  }

  test("index.json that is not UTF-8 is refused", async () => {
    const b = new LayoutBuilder();
    writeFileSync(join(b.dir, "index.json"), new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    const error = await failure(openLayout(b.dir));
    expect(error.message).toContain("not UTF-8");
  });

  test("entries of unknown media type and unknown digest algorithms are not errors", async () => {
    const b = new LayoutBuilder();
    const m = b.manifest({});
    const raw = JSON.stringify({
      schemaVersion: 2,
      manifests: [
        m,
        { mediaType: "application/vnd.example.thing", digest: sha256("thing"), size: 5 },
        { mediaType: MT.manifest, digest: `blake3:${"a".repeat(64)}`, size: 5 },
      ],
    });
    b.writeIndex([], raw);
    const layout = await openLayout(b.dir);
    expect((await layout.entries()).map((e) => e.mediaType)).toEqual([
      MT.manifest,
      "application/vnd.example.thing",
    ]);
  });

  test("a file that is not a tar archive is refused as a layout", async () => {
    const file = join(tempDir(), "notes.txt");
    writeFileSync(file, "just some text, clearly not a tar archive".repeat(20));
    const error = await failure(openLayout(file));
    expect(error.code).toBe("INVALID_LAYOUT");
    expect(error.message).toContain(file);
  });
});

describe("reading blobs", () => {
  test("fetch streams verified content", async () => {
    const b = new LayoutBuilder();
    const file = b.file("a.txt", "hello world");
    const layout = await openLayout(b.dir);
    expect(await text(await layout.fetch(file))).toBe("hello world");
    expect(await layout.exists(file)).toBe(true);
    expect(await layout.exists({ ...file, size: 3 })).toBe(false);
  });

  test("a blob whose content does not match its digest fails the stream, naming the digest", async () => {
    const b = new LayoutBuilder();
    const good = sha256("expected content");
    const desc = b.blob("tampered content", MT.layer, {}, good);
    const layout = await openLayout(b.dir);
    desc.size = "tampered content".length;
    const error = await failure(text(await layout.fetch(desc)));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain(good);
  });

  test("a missing blob is NOT_FOUND with the digest and expected path", async () => {
    const b = new LayoutBuilder();
    const layout = await openLayout(b.dir);
    const digest = sha256("nowhere");
    const error = await failure(layout.fetch({ mediaType: MT.layer, digest, size: 7 }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(digest);
    expect(error.message).toContain(`blobs/sha256/${digest.slice(7)}`);
  });

  test("a blob of the wrong size is refused before streaming", async () => {
    const b = new LayoutBuilder();
    const desc = b.file("a", "12345");
    const layout = await openLayout(b.dir);
    const error = await failure(layout.fetch({ ...desc, size: 4 }));
    expect(error.code).toBe("SIZE_MISMATCH");
  });
});

describe("resolving tags and digests", () => {
  test("a tag resolves to its entry, without the ref name annotation", async () => {
    const b = new LayoutBuilder();
    const m1 = b.manifest({ layers: [b.file("a", "1")] });
    const m2 = b.manifest({ layers: [b.file("b", "2")] });
    b.writeIndex([
      { ...m1, tag: "v1" },
      { ...m2, tag: "v2" },
    ]);
    const layout = await openLayout(b.dir);
    const desc = await layout.resolve("v2");
    expect(desc.digest).toBe(m2.digest);
    expect(desc.annotations?.[REF_NAME]).toBeUndefined();
  });

  test("a stored full name matches by its :tag suffix; an exact tag wins", async () => {
    const b = new LayoutBuilder();
    const m1 = b.manifest({ layers: [b.file("a", "1")] });
    const m2 = b.manifest({ layers: [b.file("b", "2")] });
    b.writeIndex([{ ...m1, tag: "registry.example:5000/team/repo:1.0" }]);
    expect((await (await openLayout(b.dir)).resolve("1.0")).digest).toBe(m1.digest);
    b.writeIndex([
      { ...m1, tag: "registry.example:5000/team/repo:1.0" },
      { ...m2, tag: "1.0" },
    ]);
    expect((await (await openLayout(b.dir)).resolve("1.0")).digest).toBe(m2.digest);
    const error = await failure((await openLayout(b.dir)).resolve("0"));
    expect(error.code).toBe("NOT_FOUND");
  });

  test("one tag on two different manifests is ambiguous", async () => {
    const b = new LayoutBuilder();
    const m1 = b.manifest({ layers: [b.file("a", "1")] });
    const m2 = b.manifest({ layers: [b.file("b", "2")] });
    b.writeIndex([
      { ...m1, tag: "x.example/a:1.0" },
      { ...m2, tag: "y.example/b:1.0" },
    ]);
    const error = await failure((await openLayout(b.dir)).resolve("1.0"));
    expect(error.code).toBe("AMBIGUOUS");
    expect(error.hint).toContain(m1.digest);
    expect(error.hint).toContain(m2.digest);
  });

  test("a missing tag lists the tags there are", async () => {
    const b = new LayoutBuilder();
    const m = b.manifest({});
    b.writeIndex([{ ...m, tag: "v1" }]);
    const error = await failure((await openLayout(b.dir)).resolve("v9"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain('"v9"');
    expect(error.hint).toContain("v1");
  });

  test("a digest resolves from index.json, and from blobs/ alone (media type read from the blob)", async () => {
    const b = new LayoutBuilder();
    const index = b.index([]);
    const inner = b.manifest({ artifactType: "application/vnd.example" });
    b.writeIndex([{ ...index, tag: "t" }]);
    const layout = await openLayout(b.dir);
    expect((await layout.resolve(index.digest)).mediaType).toBe(MT.index);
    const found = await layout.resolve(inner.digest);
    expect(found).toEqual({
      mediaType: MT.manifest,
      digest: inner.digest,
      size: inner.size,
      artifactType: "application/vnd.example",
    });
    const error = await failure(layout.resolve(sha256("absent")));
    expect(error.code).toBe("NOT_FOUND");
  });

  test("a blob over 4 MiB is not taken for a manifest", async () => {
    const b = new LayoutBuilder();
    const big = b.blob(new Uint8Array(4 * 1024 * 1024 + 1));
    const error = await failure((await openLayout(b.dir)).resolve(big.digest));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain(big.digest);
  });

  test("an invalid digest says why", async () => {
    const b = new LayoutBuilder();
    const error = await failure((await openLayout(b.dir)).resolve("sha256:1234"));
    expect(error.code).toBe("INVALID_DIGEST");
  });

  test("tags() lists ref names sorted, after `last`", async () => {
    const b = new LayoutBuilder();
    const m = b.manifest({});
    const n = b.manifest({ annotations: { a: "b" } });
    b.writeIndex([{ ...m, tag: "b" }, { ...n, tag: "a" }, { ...m, tag: "c" }, n]);
    const layout = await openLayout(b.dir);
    const all: string[] = [];
    for await (const t of layout.tags()) all.push(t);
    expect(all).toEqual(["a", "b", "c"]);
    const after: string[] = [];
    for await (const t of layout.tags("a")) after.push(t);
    expect(after).toEqual(["b", "c"]);
  });

  test("referrers are found among index.json roots and their children", async () => {
    const b = new LayoutBuilder();
    const subject = b.manifest({ layers: [b.file("a", "1")] });
    const sig = b.manifest({ artifactType: "application/vnd.example.sig", subject, annotations: { k: "v" } });
    const sbom = b.manifest({ artifactType: "application/vnd.example.sbom", subject });
    const wrapped = b.index([sbom]);
    b.writeIndex([{ ...subject, tag: "v1" }, sig, wrapped]);
    const layout = await openLayout(b.dir);
    const all = await layout.referrers(subject);
    expect(all.map((d) => d.digest).sort()).toEqual([sig.digest, sbom.digest].sort());
    expect(all.find((d) => d.digest === sig.digest)?.annotations).toEqual({ k: "v" });
    const sigs = await layout.referrers(subject, "application/vnd.example.sig");
    expect(sigs.map((d) => d.digest)).toEqual([sig.digest]);
  });
});

describe("writing layout directories", () => {
  test("push verifies, stores under blobs/<alg>/<hex>, and leaves no temporary file", async () => {
    const dir = join(tempDir(), "out");
    const layout = (await openLayout(dir, { create: true })) as LayoutDirectory;
    const bytes = new TextEncoder().encode("payload");
    const desc: Descriptor = { mediaType: MT.layer, digest: sha256(bytes), size: bytes.byteLength };
    await layout.push(desc, bytesStream(bytes));
    expect(readFileSync(join(dir, "blobs", "sha256", desc.digest.slice(7)), "utf8")).toBe("payload");
    expect(readdirSync(join(dir, "blobs", "sha256"))).toEqual([desc.digest.slice(7)]);
    expect(await layout.entries()).toEqual([]); // blobs and manifests get no entry by themselves
  });

  test("push of content that does not match is refused and leaves nothing behind", async () => {
    const dir = join(tempDir(), "out");
    const layout = await openLayout(dir, { create: true });
    const desc: Descriptor = { mediaType: MT.layer, digest: sha256("right"), size: 5 };
    const error = await failure(layout.push(desc, bytesStream(new TextEncoder().encode("wrong"))));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(readdirSync(join(dir, "blobs", "sha256"))).toEqual([]);
    const long = await failure(layout.push(desc, bytesStream(new TextEncoder().encode("right!"))));
    expect(long.code).toBe("SIZE_MISMATCH");
    expect(readdirSync(join(dir, "blobs", "sha256"))).toEqual([]);
  });

  test("tag, addEntry, untag and delete keep index.json sorted and its other fields", async () => {
    const b = new LayoutBuilder();
    const m1 = b.manifest({ layers: [b.file("a", "1")] });
    const m2 = b.manifest({ layers: [b.file("b", "2")] });
    writeFileSync(
      join(b.dir, "index.json"),
      JSON.stringify({ schemaVersion: 2, manifests: [], annotations: { keep: "me" } }),
    );
    const layout = (await openLayout(b.dir)) as LayoutDirectory;
    await layout.publish(m2, { tags: [] });
    await layout.publish(m2, { tags: [] }); // no duplicate
    await layout.tag(m1, "zeta");
    await layout.tag(m1, "alpha");
    await layout.tag(m2, "alpha"); // the tag moves
    let index = indexJson(b.dir);
    expect(index.annotations).toEqual({ keep: "me" });
    const shape = index.manifests.map((e) => [
      (e.annotations as Record<string, string> | undefined)?.[REF_NAME] ?? "",
      e.digest,
    ]);
    // the untagged m2 entry became the tagged "alpha" entry; sorted by ref name
    expect(shape).toEqual([
      ["alpha", m2.digest],
      ["zeta", m1.digest],
    ]);
    expect(await layout.untag("zeta")).toBe(true);
    expect(await layout.untag("zeta")).toBe(false);
    await layout.delete(m2);
    index = indexJson(b.dir);
    expect(index.manifests).toEqual([]);
    expect(existsSync(join(b.dir, "blobs", "sha256", m2.digest.slice(7)))).toBe(false);
    expect(readdirSync(b.dir).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock"))).toEqual([]);
  });

  test("tagging a manifest the layout does not hold is refused", async () => {
    const b = new LayoutBuilder();
    const layout = await openLayout(b.dir);
    const error = await failure(layout.tag({ mediaType: MT.manifest, digest: sha256("x"), size: 1 }, "v1"));
    expect(error.code).toBe("NOT_FOUND");
  });

  test("many concurrent addEntry calls in one process lose nothing", async () => {
    const b = new LayoutBuilder();
    const descs = Array.from({ length: 40 }, (_, i) => b.manifest({ annotations: { i: String(i) } }));
    const layout = (await openLayout(b.dir)) as LayoutDirectory;
    await Promise.all(
      descs.map((d, i) => (i % 2 ? layout.publish(d, { tags: [] }) : layout.tag(d, `t${i}`))),
    );
    expect(indexJson(b.dir).manifests.length).toBe(40);
  });

  test("parallel processes writing one layout lose no entry", async () => {
    const b = new LayoutBuilder();
    const writers = 6;
    const perWriter = 15;
    const descs = Array.from({ length: writers * perWriter }, (_, i) =>
      b.manifest({ annotations: { i: String(i) } }),
    );
    const script = join(tempDir(), "writer.ts");
    const module = join(import.meta.dir, "../../src/content/layout/index.ts");
    writeFileSync(
      script,
      `import { openLayout } from ${JSON.stringify(module)};
const [dir, json] = process.argv.slice(2);
const layout = await openLayout(dir);
for (const [i, d] of JSON.parse(json).entries()) {
  if (i % 3 === 0) await layout.tag(d, "t-" + d.digest.slice(7, 19)); else await layout.publish(d, { tags: [] });
}`,
    );
    await Promise.all(
      Array.from({ length: writers }, (_, w) => {
        const mine = descs.slice(w * perWriter, (w + 1) * perWriter);
        return new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [script, b.dir, JSON.stringify(mine)], { stdio: "inherit" });
          child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
        });
      }),
    );
    const entries = indexJson(b.dir).manifests;
    expect(new Set(entries.map((e) => e.digest)).size).toBe(writers * perWriter);
    expect(existsSync(join(b.dir, "index.json.lock"))).toBe(false);
  });

  test("a stale lock left by a dead process is broken", async () => {
    const b = new LayoutBuilder();
    const m = b.manifest({});
    const { hostname } = await import("node:os");
    writeFileSync(
      join(b.dir, "index.json.lock"),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), token: "x" }),
    );
    const layout = await openLayout(b.dir);
    await layout.tag(m, "v1");
    expect(indexJson(b.dir).manifests.length).toBe(1);
  });
});

test("a lock held by a killed but unreaped process (a zombie) is broken at once", async () => {
  // sh forks `sleep 0`, then becomes `sleep 5`, which never reaps it: the child stays a zombie.
  const { spawn } = await import("node:child_process");
  const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 5"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    const pid = Number(
      (await new Promise<Buffer>((resolve) => parent.stdout!.once("data", resolve))).toString(),
    );
    for (let i = 0; i < 50 && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const b = new LayoutBuilder();
    const m = b.manifest({});
    const { hostname } = await import("node:os");
    writeFileSync(join(b.dir, "index.json.lock"), JSON.stringify({ pid, host: hostname(), token: "x" }));
    const layout = await openLayout(b.dir);
    await layout.tag(m, "v1");
    expect(indexJson(b.dir).manifests.length).toBe(1);
  } finally {
    parent.kill();
  }
});

describe("layout tar archives", () => {
  function sample(): { b: LayoutBuilder; index: Descriptor; m: Descriptor; file: Descriptor } {
    const b = new LayoutBuilder();
    const file = b.file(
      "big.bin",
      new Uint8Array(300 * 1024).map((_, i) => i % 251),
    );
    const m = b.manifest({ layers: [file] });
    const index = b.index([m]);
    b.writeIndex([{ ...index, tag: "v1" }]);
    return { b, index, m, file };
  }

  for (const gzip of [false, true]) {
    test(`${gzip ? "gzip" : "plain"} tar: entries, resolve, fetch of small and large blobs`, async () => {
      const { b, index, m, file } = sample();
      const tar = b.tar(gzip);
      const layout = await openLayout(tar);
      expect(layout).toBeInstanceOf(LayoutArchive);
      expect(layout.writable).toBe(false);
      expect((await layout.resolve("v1")).digest).toBe(index.digest);
      expect((await layout.resolve(m.digest)).mediaType).toBe(MT.manifest);
      const bytes = await readAll(await layout.fetch(file), 1 << 30);
      expect(sha256(bytes)).toBe(file.digest);
      expect(await layout.exists(file)).toBe(true);
      const error = await failure(layout.push(file, bytesStream(bytes)));
      expect(error.code).toBe("UNSUPPORTED");
      expect(error.message).toContain("read-only");
    });
  }

  test("a tampered blob inside a tar fails with a digest mismatch", async () => {
    const b = new LayoutBuilder();
    const desc = b.blob("bad bytes", MT.layer, {}, sha256("good bytes"));
    const m = b.manifest({ layers: [{ ...desc, size: 9 }] });
    b.writeIndex([m]);
    const layout = await openLayout(b.tar());
    const error = await failure(readAll(await layout.fetch({ ...desc, size: 9 }), 1 << 20));
    expect(error.code).toBe("DIGEST_MISMATCH");
  });

  test("a tar without oci-layout or with a broken index.json is refused", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([], "{broken");
    const broken = await failure(openLayout(b.tar()));
    expect(broken.code).toBe("INVALID_LAYOUT");
    expect(broken.message).toContain("index.json");
    const dir = tempDir();
    mkdirSync(join(dir, "stuff"));
    writeFileSync(join(dir, "stuff", "x"), "x");
    const { spawnSync } = await import("node:child_process");
    const tar = join(tempDir(), "x.tar");
    spawnSync("tar", ["-C", dir, "-cf", tar, "."]);
    const missing = await failure(openLayout(tar));
    expect(missing.code).toBe("INVALID_LAYOUT");
    expect(missing.message).toContain("oci-layout");
  });

  test("a truncated tar is refused", async () => {
    const { b } = sample();
    const tar = b.tar();
    const bytes = readFileSync(tar);
    writeFileSync(tar, bytes.subarray(0, 1024 + 100));
    const error = await failure(openLayout(tar));
    expect(error.code).toBe("INVALID_LAYOUT");
  });
});
