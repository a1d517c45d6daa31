/**
 * Hostile content in OCI layouts: crafted titles, tar members, bombs, lying descriptors, loops and
 * deep nesting, oversized and non-UTF-8 manifests. Each pull must fail with a clear error, exit
 * non-zero, and write nothing outside its output folder (nor a final file for the hostile layer).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escapedPaths, listTree } from "../fixtures/hostile/checks.ts";
import {
  CONTENT_DIGEST,
  CraftedLayout,
  type Desc,
  gzipBomb,
  hugeManifest,
  indexLoop,
  latin1Manifest,
  MT,
  nestedIndexes,
  TITLE,
  UNPACK,
  utf8,
} from "../fixtures/hostile/index.ts";
import { runSkiff } from "../harness/skiff.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-hostile-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  sandbox: string;
  layout: CraftedLayout;
  out: string;
}

let counter = 0;
function newCase(): Case {
  const sandbox = join(root, `case-${++counter}`);
  const layout = new CraftedLayout(join(sandbox, "layout"));
  return { sandbox, layout, out: join(sandbox, "out") };
}

/**
 * Pulls `layout:hostile` into `out` and checks the three promises: non-zero exit, a clear
 * `Error:` line matching `why`, and nothing outside `out` (the layout folder aside).
 */
async function expectRefused(c: Case, why: RegExp, extraArgs: string[] = []): Promise<string> {
  // What the test itself put next to the output folder (victims, secrets) is not an escape.
  const before = new Set(escapedPaths(c.sandbox, c.out));
  const snapshot: [string, string][] = listTree(c.sandbox)
    .filter(
      (p) =>
        !p.endsWith("/") && !p.endsWith("(symlink)") && !p.startsWith("layout/") && !p.startsWith("out/"),
    )
    .map((p) => [p, readFileSync(join(c.sandbox, p)).toString("base64")]);
  const result = await runSkiff([
    "pull",
    "--oci-layout",
    `${c.layout.dir}:hostile`,
    "-o",
    c.out,
    ...extraArgs,
  ]);
  const outside = escapedPaths(c.sandbox, c.out).filter((p) => !p.startsWith("layout/") && !before.has(p));
  // Files the test planted next to the output folder are untouched.
  for (const [file, content] of snapshot) {
    expect({ file, content: readFileSync(join(c.sandbox, file)).toString("base64") }).toEqual({
      file,
      content,
    });
  }
  expect({ outside, exit: result.code === 0 ? "zero" : "non-zero" }).toEqual({
    outside: [],
    exit: "non-zero",
  });
  expect(result.stderr).toMatch(/^Error: /m);
  expect(result.stderr).toMatch(why);
  // No raw stack traces or runtime error names for people to decode.
  expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)|TypeError|RangeError|ReferenceError/);
  return result.stderr;
}

function tagged(c: Case, layers: Desc[]): void {
  c.layout.tag(c.layout.manifest(layers), "hostile");
}

describe("hostile titles", () => {
  test("title with ../ is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.fileLayer("../escape.txt")]);
    await expectRefused(c, /leaves the output directory|\.\./);
    expect(existsSync(join(c.sandbox, "escape.txt"))).toBe(false);
  });

  test("title nested ../ (a/../../x) is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.fileLayer("a/../../escape.txt")]);
    await expectRefused(c, /leaves the output directory|\.\./);
  });

  test("absolute title is refused", async () => {
    const c = newCase();
    const target = join(c.sandbox, "absolute.txt");
    tagged(c, [c.layout.fileLayer(target)]);
    await expectRefused(c, /absolute/);
    expect(existsSync(target)).toBe(false);
  });

  test("drive-letter titles (C:\\x, C:x, c:/x) are refused", async () => {
    for (const title of ["C:\\evil.txt", "C:evil.txt", "c:/evil.txt"]) {
      const c = newCase();
      tagged(c, [c.layout.fileLayer(title)]);
      await expectRefused(c, /drive letter|backslash/);
      expect(listTree(c.out).filter((p) => p.includes("evil"))).toEqual([]);
    }
  });

  test("backslash traversal title is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.fileLayer("..\\..\\evil.txt")]);
    await expectRefused(c, /backslash/);
  });

  test("title with NUL is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.fileLayer("ok.txt\u0000../../evil")]);
    await expectRefused(c, /NUL/);
  });

  test("a symlink already in the output folder does not carry a title outside", async () => {
    const c = newCase();
    const elsewhere = join(c.sandbox, "elsewhere");
    rmSync(elsewhere, { recursive: true, force: true });
    const { mkdirSync, symlinkSync } = await import("node:fs");
    mkdirSync(elsewhere, { recursive: true });
    mkdirSync(c.out, { recursive: true });
    symlinkSync(elsewhere, join(c.out, "link"));
    tagged(c, [c.layout.fileLayer("link/planted.txt")]);
    const result = await runSkiff(["pull", "--oci-layout", `${c.layout.dir}:hostile`, "-o", c.out]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^Error: .*(outside|symlink)/m);
    expect(existsSync(join(elsewhere, "planted.txt"))).toBe(false);
  });
});

describe("hostile tar members in directory layers", () => {
  const file = (name: string, text = "x") => ({ name, data: utf8(text) });

  test("member with .. is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.directoryLayer("d", [{ name: "d/", type: "5" }, file("d/../../escape.txt")])]);
    await expectRefused(c, /\.\.|not under/);
    expect(existsSync(join(c.sandbox, "escape.txt"))).toBe(false);
  });

  test("member with an absolute name is refused", async () => {
    const c = newCase();
    const target = join(c.sandbox, "abs-member.txt");
    tagged(c, [c.layout.directoryLayer("d", [{ name: "d/", type: "5" }, file(target)])]);
    await expectRefused(c, /absolute/);
    expect(existsSync(target)).toBe(false);
  });

  test("member outside the title folder is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.directoryLayer("d", [{ name: "d/", type: "5" }, file("other/x.txt")])]);
    await expectRefused(c, /not under/);
  });

  test("symlink out, then a file through it, is refused", async () => {
    const c = newCase();
    const victim = join(c.sandbox, "victim");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(victim, { recursive: true });
    tagged(c, [
      c.layout.directoryLayer("d", [
        { name: "d/", type: "5" },
        { name: "d/link", type: "2", linkname: victim },
        file("d/link/pwned.txt"),
      ]),
    ]);
    await expectRefused(c, /symlink|outside/);
    expect(existsSync(join(victim, "pwned.txt"))).toBe(false);
  });

  test("relative symlink out (../../..), then a file through it, is refused", async () => {
    const c = newCase();
    tagged(c, [
      c.layout.directoryLayer("d", [
        { name: "d/", type: "5" },
        { name: "d/up", type: "2", linkname: "../../.." },
        file("d/up/pwned-rel.txt"),
      ]),
    ]);
    await expectRefused(c, /symlink|outside/);
    expect(existsSync(join(c.sandbox, "pwned-rel.txt"))).toBe(false);
  });

  test("symlink inside, re-pointed out by a later member, is refused", async () => {
    const c = newCase();
    tagged(c, [
      c.layout.directoryLayer("d", [
        { name: "d/", type: "5" },
        { name: "d/sub/", type: "5" },
        { name: "d/l", type: "2", linkname: "sub" },
        { name: "d/l", type: "2", linkname: "/" },
      ]),
    ]);
    await expectRefused(c, /symlink|outside/);
  });

  test("hardlink to a file outside is refused", async () => {
    const c = newCase();
    const secret = join(c.sandbox, "secret.txt");
    writeFileSync(secret, "secret");
    tagged(c, [
      c.layout.directoryLayer("d", [
        { name: "d/", type: "5" },
        { name: "d/h", type: "1", linkname: secret },
        { name: "d/h2", type: "1", linkname: "d/../../secret.txt" },
      ]),
    ]);
    await expectRefused(c, /hardlink|absolute|\.\./);
  });

  test("character and block devices and fifos are refused", async () => {
    for (const type of ["3", "4", "6"]) {
      const c = newCase();
      tagged(c, [
        c.layout.directoryLayer("d", [
          { name: "d/", type: "5" },
          { name: "d/dev", type },
        ]),
      ]);
      await expectRefused(c, /device|fifo/);
      expect(existsSync(join(c.out, "d"))).toBe(false);
    }
  });

  test("a tar whose header size lies (more than the data) is refused", async () => {
    const c = newCase();
    tagged(c, [
      c.layout.directoryLayer("d", [
        { name: "d/", type: "5" },
        { name: "d/f", data: utf8("abc"), headerSize: 100_000 },
      ]),
    ]);
    await expectRefused(c, /truncated|tar|digest/i);
    expect(existsSync(join(c.out, "d"))).toBe(false);
  });

  test("gzip bomb: a small layer that inflates to 1 GiB is refused", async () => {
    const c = newCase();
    const { gz, tarDigest } = gzipBomb("bomb", 1024 * 1024 * 1024);
    const blob = c.layout.blob(gz, MT.tarGzip);
    tagged(c, [{ ...blob, annotations: { [TITLE]: "bomb", [CONTENT_DIGEST]: tarDigest, [UNPACK]: "true" } }]);
    const started = Date.now();
    await expectRefused(c, /inflat|expand|ratio|too large|limit/i);
    expect(existsSync(join(c.out, "bomb"))).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});

describe("hostile descriptors", () => {
  test("a layer larger than its descriptor says is refused", async () => {
    const c = newCase();
    const layer = c.layout.fileLayer("lies.txt", utf8("twelve bytes"));
    tagged(c, [{ ...layer, size: 5 }]);
    await expectRefused(c, /size|bytes|digest/i);
    expect(existsSync(join(c.out, "lies.txt"))).toBe(false);
  });

  test("a layer smaller than its descriptor says is refused", async () => {
    const c = newCase();
    const layer = c.layout.fileLayer("lies.txt", utf8("twelve bytes"));
    tagged(c, [{ ...layer, size: 4096 }]);
    await expectRefused(c, /size|bytes|missing|not found/i);
    expect(existsSync(join(c.out, "lies.txt"))).toBe(false);
  });

  test("a blob whose bytes do not match its digest is refused", async () => {
    const c = newCase();
    const layer = c.layout.fileLayer("flipped.txt", utf8("original"));
    const [, hex] = layer.digest.split(":");
    writeFileSync(join(c.layout.dir, "blobs", "sha256", hex!), "ORIGINAL");
    tagged(c, [layer]);
    await expectRefused(c, /digest|hashes/i);
    expect(existsSync(join(c.out, "flipped.txt"))).toBe(false);
  });

  test("negative sizes are refused", async () => {
    const c = newCase();
    const layer = c.layout.fileLayer("neg.txt");
    tagged(c, [{ ...layer, size: -1 }]);
    await expectRefused(c, /size/);
  });

  test("a negative size on the index.json entry is refused", async () => {
    const c = newCase();
    const manifest = c.layout.manifest([c.layout.fileLayer("a.txt")]);
    c.layout.tag({ ...manifest, size: -5 }, "hostile");
    await expectRefused(c, /size/);
  });

  test("invalid digests are refused", async () => {
    for (const digest of [
      "sha256:xyz",
      "sha256:../../../../etc/passwd",
      `sha256:${"A".repeat(64)}`,
      "nodigest",
    ]) {
      const c = newCase();
      const layer = c.layout.fileLayer("bad-digest.txt");
      tagged(c, [{ ...layer, digest }]);
      await expectRefused(c, /digest/i);
    }
  });

  test("unknown digest algorithms are refused", async () => {
    for (const digest of [
      `blake3:${"a".repeat(64)}`,
      `md5:${"a".repeat(32)}`,
      `constructor:${"a".repeat(64)}`,
    ]) {
      const c = newCase();
      const layer = c.layout.fileLayer("alg.txt");
      tagged(c, [{ ...layer, digest }]);
      await expectRefused(c, /algorithm/);
    }
  });
});

describe("hostile manifests and indexes", () => {
  test("a manifest over 4 MiB is refused", async () => {
    const c = newCase();
    const bytes = hugeManifest(c.layout.emptyConfig());
    c.layout.tag(c.layout.blob(bytes, MT.manifest), "hostile");
    await expectRefused(c, /4194304|4 MiB|limit|too large/i);
  });

  test("indexes that point at each other are refused (no hang)", async () => {
    const c = newCase();
    c.layout.tag(indexLoop(c.layout), "hostile");
    const started = Date.now();
    await expectRefused(c, /digest|hashes to|loop|cycle|deeper/i);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test("indexes nested 1,000 deep are refused", async () => {
    const c = newCase();
    const leaf = c.layout.manifest([c.layout.fileLayer("deep.txt")]);
    c.layout.tag(nestedIndexes(c.layout, leaf, 1000), "hostile");
    await expectRefused(c, /nest|deep/i);
    expect(existsSync(join(c.out, "deep.txt"))).toBe(false);
  });

  test("a manifest that is not UTF-8 is refused", async () => {
    const c = newCase();
    c.layout.tag(c.layout.blob(latin1Manifest(c.layout.emptyConfig()), MT.manifest), "hostile");
    await expectRefused(c, /UTF-8/);
  });

  test("an index.json that is not UTF-8 is refused", async () => {
    const c = newCase();
    tagged(c, [c.layout.fileLayer("a.txt")]);
    const bytes = utf8(
      JSON.stringify({ schemaVersion: 2, manifests: c.layout.entries, annotations: { x: "caf@" } }),
    );
    bytes[bytes.indexOf(0x40)] = 0xe9;
    writeFileSync(join(c.layout.dir, "index.json"), bytes);
    await expectRefused(c, /UTF-8/);
  });

  test("a manifest whose mediaType contradicts its descriptor is refused", async () => {
    const c = newCase();
    const index = c.layout.index([]);
    c.layout.tag({ ...index, mediaType: MT.manifest }, "hostile");
    await expectRefused(c, /contradicts|mediaType|media type/);
  });
});
