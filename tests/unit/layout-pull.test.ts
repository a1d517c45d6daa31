import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { TransferEvent } from "../../src/content/events.ts";
import { openLayout } from "../../src/content/layout/index.ts";
import { readAll } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parsePlatform } from "../../src/oci/platform.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { type PullOptions, pull, pullToStream } from "../../src/ops/pull.ts";
import {
  cleanup,
  directoryLayer,
  LayoutBuilder,
  MT,
  sha256,
  type TarMember,
  TITLE,
  tempDir,
} from "../fixtures/layout-builder.ts";

afterAll(cleanup);

async function pullFrom(b: LayoutBuilder, options: Partial<PullOptions> = {}, suffix = "") {
  const events: TransferEvent[] = [];
  const output = options.output ?? join(tempDir("skiff-out-"), "out");
  const result = await pull(await openLayout(b.dir), parseReference(`oci-layout://${b.dir}${suffix}`), {
    output,
    listener: (e) => events.push(e),
    ...options,
  });
  return { result, events, output };
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

/** Every path under `dir` (relative), to prove nothing else was written. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      out.push(rel);
      const info = lstatSync(join(dir, rel));
      if (info.isDirectory()) walk(rel);
    }
  };
  walk("");
  return out.sort();
}

describe("pulling files", () => {
  test("titled layers become files (also in subdirectories); untitled layers are skipped; the empty config is dropped", async () => {
    const b = new LayoutBuilder();
    const untitled = b.blob("no title here");
    const m = b.manifest({
      layers: [b.file("hello.txt", "hello\n"), b.file("sub/dir/deep.txt", "deep\n"), untitled],
    });
    b.writeIndex([m]);
    const { result, events, output } = await pullFrom(b);
    expect(result.resolved.desc.digest).toBe(m.digest);
    expect(readFileSync(join(output, "hello.txt"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(output, "sub/dir/deep.txt"), "utf8")).toBe("deep\n");
    expect(tree(output)).toEqual(["hello.txt", "sub", "sub/dir", "sub/dir/deep.txt"]);
    expect(result.skipped.map((d) => d.digest)).toEqual([untitled.digest]);
    expect(events.filter((e) => e.type === "skip").map((e) => e.desc.digest)).toEqual([untitled.digest]);
    // Status events are about files and, as in ORAS, the manifest (Downloading, Processing,
    // Downloaded); the empty config is left out silently.
    expect(events.every((e) => e.desc.mediaType === MT.layer || e.desc.digest === m.digest)).toBe(true);
    expect(events.filter((e) => e.desc.digest === m.digest).map((e) => e.type)).toEqual([
      "start",
      "status",
      "done",
    ]);
    expect(result.files.map((f) => f.title).sort()).toEqual(["hello.txt", "sub/dir/deep.txt"]);
  });

  test("--platform pulls exactly one platform's files", async () => {
    const b = new LayoutBuilder();
    const el8 = b.platformManifest(
      { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8" },
      { "repo.txt": "el8" },
    );
    const el9 = b.platformManifest(
      { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el9" },
      { "repo.txt": "el9" },
    );
    b.writeIndex([b.index([el8, el9])]);
    const { output, result } = await pullFrom(b, { platform: parsePlatform("linux/arm64/v8:el9") });
    expect(readFileSync(join(output, "repo.txt"), "utf8")).toBe("el9");
    expect(result.resolved.desc.digest).toBe(el9.digest);
  });

  test("an index without --platform pulls every platform's files", async () => {
    const b = new LayoutBuilder();
    const a = b.platformManifest({ os: "linux", architecture: "amd64" }, { "amd64.txt": "x" });
    const c = b.platformManifest(
      { os: "linux", architecture: "arm64" },
      { "arm64.txt": "y", "shared.txt": "same" },
    );
    const d = b.platformManifest({ os: "linux", architecture: "s390x" }, { "shared.txt": "same" });
    b.writeIndex([b.index([a, c, d])]);
    const { output } = await pullFrom(b);
    expect(tree(output)).toEqual(["amd64.txt", "arm64.txt", "shared.txt"]);
  });

  test("the same title for different content across platforms fails before anything is written", async () => {
    const b = new LayoutBuilder();
    const a = b.platformManifest({ os: "linux", architecture: "amd64" }, { "repo.txt": "amd" });
    const c = b.platformManifest({ os: "linux", architecture: "arm64" }, { "repo.txt": "arm" });
    b.writeIndex([b.index([a, c])]);
    const output = join(tempDir(), "out");
    const error = await failure(pullFrom(b, { output }));
    expect(error.code).toBe("FILE_EXISTS");
    expect(error.message).toContain('"repo.txt"');
    expect(tree(output)).toEqual([]);
  });

  test("one blob under two titles is written to both (the second is restored, not downloaded)", async () => {
    const b = new LayoutBuilder();
    const one = b.file("one.txt", "same bytes");
    const two = { ...one, annotations: { [TITLE]: "two.txt" } };
    b.writeIndex([b.manifest({ layers: [one, two] })]);
    const { output, events } = await pullFrom(b);
    expect(readFileSync(join(output, "one.txt"), "utf8")).toBe("same bytes");
    expect(readFileSync(join(output, "two.txt"), "utf8")).toBe("same bytes");
    expect(events.filter((e) => e.type === "start" && e.desc.digest === one.digest).length).toBe(1);
    expect(events.some((e) => e.type === "restored")).toBe(true);
  });

  test("-k refuses to replace an existing file, naming it; without -k it is replaced", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("a.txt", "new")] })]);
    const output = tempDir();
    writeFileSync(join(output, "a.txt"), "old");
    const error = await failure(pullFrom(b, { output, keepOldFiles: true }));
    expect(error.code).toBe("FILE_EXISTS");
    expect(error.message).toContain(join(output, "a.txt"));
    expect(error.hint).toContain("-k");
    expect(readFileSync(join(output, "a.txt"), "utf8")).toBe("old");
    await pullFrom(b, { output });
    expect(readFileSync(join(output, "a.txt"), "utf8")).toBe("new");
  });

  test("a blob that does not match its digest leaves no file and no temporary file", async () => {
    const b = new LayoutBuilder();
    const bad = b.blob("evil", MT.layer, { annotations: { [TITLE]: "a.txt" } }, sha256("good"));
    b.writeIndex([b.manifest({ layers: [bad] })]);
    const output = join(tempDir(), "out");
    const error = await failure(pullFrom(b, { output }));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain(sha256("good"));
    expect(tree(output)).toEqual([]);
  });

  test("a missing blob names its digest", async () => {
    const b = new LayoutBuilder();
    const ghost: Descriptor = {
      mediaType: MT.layer,
      digest: sha256("ghost"),
      size: 5,
      annotations: { [TITLE]: "g" },
    };
    b.writeIndex([b.manifest({ layers: [ghost] })]);
    const error = await failure(pullFrom(b));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(ghost.digest);
  });

  test("a manifest over 4 MiB is refused", async () => {
    const b = new LayoutBuilder();
    const huge = b.json(
      {
        schemaVersion: 2,
        mediaType: MT.manifest,
        config: b.emptyConfig(),
        layers: [],
        annotations: { pad: "x".repeat(4 * 1024 * 1024) },
      },
      MT.manifest,
    );
    b.writeIndex([huge]);
    const error = await failure(pullFrom(b));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain(huge.digest);
  });

  test("a graph nested deeper than 32 levels is refused", async () => {
    const b = new LayoutBuilder();
    let desc = b.manifest({ layers: [b.file("a", "1")] });
    for (let i = 0; i < 40; i++) desc = b.index([desc]);
    b.writeIndex([desc]);
    const error = await failure(pullFrom(b));
    expect(error.code).toBe("INVALID_MANIFEST");
  });

  test("--include-subject pulls the subject's files too", async () => {
    const b = new LayoutBuilder();
    const subject = b.manifest({ layers: [b.file("app.bin", "app")] });
    const sig = b.manifest({
      artifactType: "application/vnd.example.sig",
      subject,
      layers: [b.file("app.sig", "sig")],
    });
    b.writeIndex([sig]);
    expect(tree((await pullFrom(b)).output)).toEqual(["app.sig"]);
    expect(tree((await pullFrom(b, { includeSubject: true })).output)).toEqual(["app.bin", "app.sig"]);
  });

  test("-o - streams the only file; several files are listed in the error", async () => {
    const b = new LayoutBuilder();
    const single = b.manifest({ layers: [b.file("only.txt", "only")] });
    const double = b.manifest({ layers: [b.file("a", "1"), b.file("b", "2")] });
    b.writeIndex([
      { ...single, tag: "one" },
      { ...double, tag: "two" },
    ]);
    const layout = await openLayout(b.dir);
    const one = await pullToStream(layout, parseReference(`oci-layout://${b.dir}:one`));
    expect(new TextDecoder().decode(await readAll(one.content))).toBe("only");
    const error = await failure(pullToStream(layout, parseReference(`oci-layout://${b.dir}:two`)));
    expect(error.hint).toContain("a, b");
  });
});

describe("hostile titles", () => {
  const hostile: [string, string][] = [
    ["../escape.txt", "leaves the output directory"],
    ["a/../../escape.txt", "leaves the output directory"],
    ["/tmp/absolute.txt", "absolute path"],
    ["C:\\Windows\\evil.txt", "drive letter"],
    ["C:evil.txt", "drive letter"],
    ["dir\\evil.txt", "backslash"],
    ["nul\0byte", "NUL"],
    ["", "empty title"],
  ];
  for (const [title, why] of hostile) {
    test(`title ${JSON.stringify(title)} is refused (${why}) and nothing is written`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([
        b.manifest({ layers: [b.blob("payload", MT.layer, { annotations: { [TITLE]: title } })] }),
      ]);
      const parent = tempDir();
      const output = join(parent, "out");
      const error = await failure(pullFrom(b, { output }));
      expect(error.code).toBe("UNSAFE_PATH");
      expect(error.message).toContain(why);
      expect(tree(parent)).toEqual(["out"]);
    });
  }

  test("-T lets a title leave the output directory", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("../beside.txt", "ok")] })]);
    const parent = tempDir();
    await pullFrom(b, { output: join(parent, "out"), allowPathTraversal: true });
    expect(readFileSync(join(parent, "beside.txt"), "utf8")).toBe("ok");
  });

  test("a symlinked directory in the output that leads outside is not followed", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("link/file.txt", "x")] })]);
    const outside = tempDir();
    const output = tempDir();
    symlinkSync(outside, join(output, "link"));
    const error = await failure(pullFrom(b, { output }));
    expect(error.code).toBe("UNSAFE_PATH");
    expect(tree(outside)).toEqual([]);
  });

  test("an existing symlink at a file's name is replaced, its target untouched", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [b.file("f.txt", "new")] })]);
    const outside = tempDir();
    writeFileSync(join(outside, "target"), "precious");
    const output = tempDir();
    symlinkSync(join(outside, "target"), join(output, "f.txt"));
    await pullFrom(b, { output });
    expect(readFileSync(join(outside, "target"), "utf8")).toBe("precious");
    expect(lstatSync(join(output, "f.txt")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(output, "f.txt"), "utf8")).toBe("new");
  });
});

describe("directory layers", () => {
  const good: TarMember[] = [
    { name: "site/", type: "dir" },
    { name: "site/index.html", content: "<h1>hi</h1>" },
    { name: "site/assets/", type: "dir" },
    { name: "site/assets/app.js", content: "run()", mode: 0o755 },
    { name: "site/current", type: "symlink", linkname: "assets/app.js" },
    { name: "site/copy.html", type: "hardlink", linkname: "site/index.html" },
  ];

  test("are unpacked under their title after both digests are verified", async () => {
    const b = new LayoutBuilder();
    const layer = directoryLayer(b, "site", good);
    b.writeIndex([b.manifest({ layers: [layer] })]);
    const { output, result } = await pullFrom(b);
    expect(tree(output)).toEqual([
      "site",
      "site/assets",
      "site/assets/app.js",
      "site/copy.html",
      "site/current",
      "site/index.html",
    ]);
    expect(readFileSync(join(output, "site/copy.html"), "utf8")).toBe("<h1>hi</h1>");
    expect(readlinkSync(join(output, "site/current"))).toBe("assets/app.js");
    expect(lstatSync(join(output, "site/assets/app.js")).mode & 0o777).toBe(0o755);
    expect(result.files.map((f) => f.title)).toEqual(["site"]);
  });

  test("a tar digest that does not match io.deis.oras.content.digest leaves nothing", async () => {
    const b = new LayoutBuilder();
    const layer = directoryLayer(b, "site", good, { tarDigest: sha256("another tar") });
    b.writeIndex([b.manifest({ layers: [layer] })]);
    const output = join(tempDir(), "out");
    const error = await failure(pullFrom(b, { output }));
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.message).toContain("io.deis.oras.content.digest");
    expect(tree(output)).toEqual([]);
  });

  test("unpacking over an existing directory replaces its files and keeps the others", async () => {
    const b = new LayoutBuilder();
    b.writeIndex([b.manifest({ layers: [directoryLayer(b, "site", good)] })]);
    const output = tempDir();
    mkdirSync(join(output, "site"));
    writeFileSync(join(output, "site", "index.html"), "old");
    writeFileSync(join(output, "site", "mine.txt"), "keep");
    await pullFrom(b, { output });
    expect(readFileSync(join(output, "site/index.html"), "utf8")).toBe("<h1>hi</h1>");
    expect(readFileSync(join(output, "site/mine.txt"), "utf8")).toBe("keep");
  });

  test("a layer that inflates far beyond its compressed size is refused, unless the limit is lifted", async () => {
    const b = new LayoutBuilder();
    const zeros = new Uint8Array(80 * 1024 * 1024);
    b.writeIndex([
      b.manifest({ layers: [directoryLayer(b, "bomb", [{ name: "bomb/zeros", content: zeros }])] }),
    ]);
    const output = join(tempDir(), "out");
    const error = await failure(pullFrom(b, { output }));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("inflates");
    expect(tree(output)).toEqual([]);
    const { output: lifted } = await pullFrom(b, { maxUnpackRatio: 0 });
    expect(lstatSync(join(lifted, "bomb", "zeros")).size).toBe(zeros.byteLength);
  });

  const escapes: [string, TarMember[]][] = [
    ["a member with ..", [{ name: "site/../../escape.txt", content: "x" }]],
    ["an absolute member", [{ name: "/tmp/skiff-abs-escape.txt", content: "x" }]],
    ["a member outside the title", [{ name: "other/file.txt", content: "x" }]],
    ["a symlink out with ..", [{ name: "site/l", type: "symlink", linkname: "../../outside" }]],
    ["an absolute symlink", [{ name: "site/l", type: "symlink", linkname: "/etc/passwd" }]],
    [
      "a symlink then a file through it",
      [
        { name: "site/l", type: "symlink", linkname: "/tmp" },
        { name: "site/l/skiff-through-link.txt", content: "x" },
      ],
    ],
    [
      "a symlink chain that climbs out",
      [
        { name: "site/s/", type: "dir" },
        { name: "site/s/u", type: "symlink", linkname: ".." },
        { name: "site/s/u/v", type: "symlink", linkname: "../x" },
      ],
    ],
    [
      "a link made to escape by a later member",
      [
        { name: "site/s/", type: "dir" },
        { name: "site/s/v", type: "symlink", linkname: "u/../../x" },
        { name: "site/s/u", type: "symlink", linkname: ".." },
      ],
    ],
    ["a hardlink out", [{ name: "site/h", type: "hardlink", linkname: "../../../etc/passwd" }]],
    ["a hardlink outside the title", [{ name: "site/h", type: "hardlink", linkname: "etc/passwd" }]],
    ["a device node", [{ name: "site/dev", type: "char" }]],
    ["a fifo", [{ name: "site/fifo", type: "fifo" }]],
  ];
  for (const [name, members] of escapes) {
    test(`${name} is refused and nothing is written`, async () => {
      const b = new LayoutBuilder();
      b.writeIndex([
        b.manifest({ layers: [directoryLayer(b, "site", [{ name: "site/", type: "dir" }, ...members])] }),
      ]);
      const parent = tempDir();
      const output = join(parent, "out");
      const error = await failure(pullFrom(b, { output }));
      expect(error.code).toBe("UNSAFE_PATH");
      expect(tree(parent)).toEqual(["out"]);
      expect(existsSync("/tmp/skiff-abs-escape.txt")).toBe(false);
      expect(existsSync("/tmp/skiff-through-link.txt")).toBe(false);
    });
  }
});
