import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { hashFile, packDirectory, paxRecord, tarDirectory } from "../../src/content/files/pack.ts";
import { FileSource } from "../../src/content/files/source.ts";
import { readTarStream } from "../../src/content/files/tar-reader.ts";
import { LayoutDirectory } from "../../src/content/layout/index.ts";
import { SkiffError } from "../../src/errors.ts";
import { Annotation, MediaType } from "../../src/oci/media-types.ts";

let work: string;

/** True when this process reads a file with mode 000 anyway (root, with CAP_DAC_OVERRIDE). */
const READS_MODE_000 = (() => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-pack-probe-"));
  try {
    const file = join(dir, "probe");
    writeFileSync(file, "x", { mode: 0o000 });
    readFileSync(file);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
if (READS_MODE_000)
  console.log(
    "pack.test.ts: this process reads mode-000 files (root): the unreadable-file test runs in a child",
  );

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "skiff-pack-test-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** A small tree with nested directories, an empty directory, a symlink, a long and a non-ASCII name. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, "sub", "deeper"), { recursive: true });
  await mkdir(join(root, "empty"), { recursive: true });
  await writeFile(join(root, "b.txt"), "bee\n");
  await writeFile(join(root, "a.txt"), "ay\n");
  await writeFile(
    join(root, "sub", "data.bin"),
    new Uint8Array(70_000).map((_, i) => i % 251),
  );
  await writeFile(join(root, "sub", "deeper", "n".repeat(150)), "long name\n");
  await writeFile(join(root, "sub", "ünïcödé.txt"), "accents\n");
  await symlink("../a.txt", join(root, "sub", "link"));
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      // Odd chunk sizes exercise the reader's buffering.
      for (let i = 0; i < bytes.byteLength; i += 777) controller.enqueue(bytes.subarray(i, i + 777));
      controller.close();
    },
  });
}

describe("paxRecord", () => {
  test("the length prefix counts the whole record, including itself", () => {
    for (const value of [
      "x",
      "a".repeat(5),
      "b".repeat(94),
      "c".repeat(95),
      "d".repeat(996),
      "é".repeat(60),
    ]) {
      const record = paxRecord("path", value);
      const length = Number(record.slice(0, record.indexOf(" ")));
      expect(new TextEncoder().encode(record).byteLength).toBe(length);
      expect(record.endsWith(`path=${value}\n`)).toBe(true);
    }
  });
});

describe("tarDirectory", () => {
  test("entries are under the title, sorted, owned by 0:0 without user names, with the given mtime", async () => {
    const dir = join(work, "tree1");
    await makeTree(dir);
    const tar = await collect(tarDirectory(dir, "out/dir", { mtime: 1_700_000_000 }));
    expect(tar.byteLength % 512).toBe(0);
    const entries: { name: string; type: string; mtime: number; linkname: string; data?: string }[] = [];
    for await (const entry of readTarStream(streamOf(tar), "test tar")) {
      const item: (typeof entries)[number] = {
        name: entry.name,
        type: entry.type,
        mtime: entry.mtime,
        linkname: entry.linkname,
      };
      if (entry.type === "0" && entry.size < 100)
        item.data = new TextDecoder().decode(await collect(entry.body()));
      entries.push(item);
    }
    expect(entries.map((e) => e.name)).toEqual([
      "out/dir",
      "out/dir/a.txt",
      "out/dir/b.txt",
      "out/dir/empty",
      "out/dir/sub",
      "out/dir/sub/data.bin",
      "out/dir/sub/deeper",
      `out/dir/sub/deeper/${"n".repeat(150)}`,
      "out/dir/sub/link",
      "out/dir/sub/ünïcödé.txt",
    ]);
    expect(new Set(entries.map((e) => e.mtime))).toEqual(new Set([1_700_000_000]));
    expect(entries.find((e) => e.name.endsWith("/link"))).toMatchObject({ type: "2", linkname: "../a.txt" });
    expect(entries.find((e) => e.name.endsWith("a.txt"))?.data).toBe("ay\n");
    expect(entries.find((e) => e.name.endsWith(".txt") && e.name.includes("ü"))?.data).toBe("accents\n");
    // uid/gid 0 and empty uname/gname in every ustar header.
    for (let offset = 0; offset + 512 <= tar.byteLength; offset += 512) {
      const block = tar.subarray(offset, offset + 512);
      if (new TextDecoder().decode(block.subarray(257, 262)) !== "ustar") continue;
      expect(new TextDecoder().decode(block.subarray(108, 115))).toBe("0000000");
      expect(new TextDecoder().decode(block.subarray(116, 123))).toBe("0000000");
      expect(block.subarray(265, 329).every((b) => b === 0)).toBe(true);
    }
  });

  test("GNU tar lists the same members (an independent reader)", async () => {
    const dir = join(work, "tree-gnu");
    await makeTree(dir);
    const tarFile = join(work, "gnu.tar");
    await writeFile(tarFile, await collect(tarDirectory(dir, "t", { mtime: 1_000_000_000 })));
    const listed = spawnSync("tar", ["-tf", tarFile], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    expect(listed.stdout.trim().split("\n")).toContain(`t/sub/deeper/${"n".repeat(150)}`);
    expect(listed.stdout.trim().split("\n")).toContain("t/sub/ünïcödé.txt");
    const verbose = spawnSync("tar", ["--numeric-owner", "-tvf", tarFile], { encoding: "utf8" });
    for (const line of verbose.stdout.trim().split("\n")) expect(line).toContain(" 0/0 ");
  });

  test("without a fixed mtime, each entry keeps its own", async () => {
    const dir = join(work, "tree-mtime");
    await mkdir(dir);
    await writeFile(join(dir, "f"), "x");
    await utimes(join(dir, "f"), 1_234_567_890, 1_234_567_890);
    const tar = await collect(tarDirectory(dir, "d"));
    const mtimes = new Map<string, number>();
    for await (const entry of readTarStream(streamOf(tar), "t")) {
      mtimes.set(entry.name, entry.mtime);
    }
    expect(mtimes.get("d/f")).toBe(1_234_567_890);
  });

  test("a time between seconds rounds to the nearest, as Go's tar writer (ORAS) rounds it", async () => {
    const dir = join(work, "tree-round");
    await mkdir(dir);
    await writeFile(join(dir, "up"), "x");
    await writeFile(join(dir, "down"), "x");
    await utimes(join(dir, "up"), 1_234_567_890.7, 1_234_567_890.7);
    await utimes(join(dir, "down"), 1_234_567_890.2, 1_234_567_890.2);
    const mtimes = new Map<string, number>();
    for await (const entry of readTarStream(streamOf(await collect(tarDirectory(dir, "d"))), "t")) {
      mtimes.set(entry.name, entry.mtime);
    }
    expect([mtimes.get("d/up"), mtimes.get("d/down")]).toEqual([1_234_567_891, 1_234_567_890]);
  });

  test("a path that is not a directory is refused", async () => {
    const file = join(work, "plain.txt");
    await writeFile(file, "x");
    await expect(collect(tarDirectory(file, "x"))).rejects.toThrow(/is not a directory/);
  });
});

describe("packDirectory", () => {
  test("the same tree gives the same digests, whatever the mtimes, when mtime is fixed", async () => {
    const first = join(work, "repro-a");
    const second = join(work, "repro-b");
    await makeTree(first);
    await makeTree(second);
    await utimes(join(second, "a.txt"), 42, 42);
    await utimes(join(second, "sub"), 4242, 4242);
    const a = await packDirectory(first, "dir", work, { mtime: 1_600_000_000 });
    const b = await packDirectory(second, "dir", work, { mtime: 1_600_000_000 });
    expect(a.digest).toBe(b.digest);
    expect(a.tarDigest).toBe(b.tarDigest);
    expect(a.size).toBe(b.size);
  });

  test("a different mtime, title or content changes the digest", async () => {
    const dir = join(work, "repro-c");
    await makeTree(dir);
    const base = await packDirectory(dir, "dir", work, { mtime: 1_600_000_000 });
    const otherTime = await packDirectory(dir, "dir", work, { mtime: 1_600_000_001 });
    const otherTitle = await packDirectory(dir, "dir2", work, { mtime: 1_600_000_000 });
    await writeFile(join(dir, "a.txt"), "changed\n");
    const otherContent = await packDirectory(dir, "dir", work, { mtime: 1_600_000_000 });
    const digests = new Set([base.digest, otherTime.digest, otherTitle.digest, otherContent.digest]);
    expect(digests.size).toBe(4);
  });

  test("digests match the bytes written; the gzip header has mtime 0, no name and OS 255", async () => {
    const dir = join(work, "repro-d");
    await makeTree(dir);
    const packed = await packDirectory(dir, "dir", work, { mtime: 1 });
    const gz = new Uint8Array(await readFile(packed.path));
    expect(sha256(gz)).toBe(packed.digest);
    expect(gz.byteLength).toBe(packed.size);
    const tar = new Uint8Array(gunzipSync(gz));
    expect(sha256(tar)).toBe(packed.tarDigest);
    expect(tar.byteLength).toBe(packed.tarSize);
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, gz[8]!, 0xff]);
    // The uncompressed tar is exactly what tarDirectory streams.
    expect(sha256(await collect(tarDirectory(dir, "dir", { mtime: 1 })))).toBe(packed.tarDigest);
  });

  test("a socket or device inside the tree is refused with its path", async () => {
    const dir = join(work, "special");
    await mkdir(dir);
    await symlink("/dev/null", join(dir, "null-link"));
    // A symlink to a device is fine (stored as a link); a device node itself is not.
    await expect(packDirectory(dir, "s", work)).resolves.toBeDefined();
    const fifoDir = join(work, "fifo");
    await mkdir(fifoDir);
    const made = spawnSync("mkfifo", [join(fifoDir, "pipe")]);
    if (made.status !== 0) throw new Error("mkfifo is needed for this test");
    const error = await packDirectory(fifoDir, "f", work).catch((e) => e);
    expect(error).toBeInstanceOf(SkiffError);
    expect(error.message).toContain(join(fifoDir, "pipe"));
  });
});

describe("hashFile and FileSource", () => {
  test("hashFile streams the file's digest and size", async () => {
    const file = join(work, "big.bin");
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 256);
    await writeFile(file, bytes);
    expect(await hashFile(file)).toEqual({ digest: sha256(bytes), size: bytes.byteLength });
  });

  test("a file becomes a tar layer titled as given; a directory a tar+gzip layer with ORAS annotations", async () => {
    const dir = join(work, "src-dir");
    await makeTree(dir);
    const file = join(work, "one.txt");
    await writeFile(file, "one\n");
    const source = await FileSource.create({ mtime: 0, tempParent: work });
    try {
      const fileDesc = await source.add(file, { title: "one.txt" });
      expect(fileDesc).toEqual({
        mediaType: MediaType.ociLayerTar,
        digest: sha256(new TextEncoder().encode("one\n")),
        size: 4,
        annotations: { [Annotation.title]: "one.txt" },
      });
      const dirDesc = await source.add(dir, { title: "src-dir", allowDirectory: true });
      expect(dirDesc.mediaType).toBe(MediaType.ociLayerTarGzip);
      expect(dirDesc.annotations?.[Annotation.title]).toBe("src-dir");
      expect(dirDesc.annotations?.[Annotation.unpack]).toBe("true");
      const gz = await collect(await source.fetch(dirDesc));
      expect(sha256(gz)).toBe(dirDesc.digest);
      expect(sha256(new Uint8Array(gunzipSync(gz)))).toBe(
        dirDesc.annotations?.[Annotation.contentDigest] as string,
      );
      await expect(source.add(dir, { title: "x" })).rejects.toThrow(/is a directory/);
    } finally {
      await source.close();
    }
  });

  test("a missing file is a one-line error naming it", async () => {
    const source = await FileSource.create({ tempParent: work });
    try {
      const error = await source.add(join(work, "nope.txt"), { title: "nope.txt" }).catch((e) => e);
      expect(error).toBeInstanceOf(SkiffError);
      expect(error.message).toBe(`cannot read file "${join(work, "nope.txt")}": no such file or directory`);
    } finally {
      await source.close();
    }
  });

  test("a file changed after it was added is refused by the store it is pushed to", async () => {
    const file = join(work, "changing.txt");
    await writeFile(file, "before");
    const source = await FileSource.create({ tempParent: work });
    try {
      const desc = await source.add(file, { title: "changing.txt" });
      await writeFile(file, "after!");
      // Served unmarked (hashed once, by add): the receiving store verifies.
      const layout = await LayoutDirectory.open(join(work, "changed-layout"), { create: true });
      await expect(layout.push(desc, await source.fetch(desc))).rejects.toThrow(/hashes to/);
      expect(await layout.exists(desc)).toBe(false);
    } finally {
      await source.close();
    }
  });

  test.skipIf(READS_MODE_000)("an unreadable file is refused", async () => {
    const file = join(work, "secret.txt");
    await writeFile(file, "x");
    await chmod(file, 0o000);
    const source = await FileSource.create({ tempParent: work });
    try {
      await expect(source.add(file, { title: "secret.txt" })).rejects.toThrow(/permission denied/);
    } finally {
      await source.close();
    }
  });

  // Root reads mode-000 files (CAP_DAC_OVERRIDE): the test above then runs in a child process
  // whose capability bounding set lacks the two capabilities that bypass file permissions.
  test.skipIf(!READS_MODE_000)(
    "an unreadable file is refused, as root too: in a child without CAP_DAC_OVERRIDE",
    () => {
      const child = spawnSync(
        "setpriv",
        [
          "--bounding-set=-dac_override,-dac_read_search",
          process.execPath,
          "test",
          import.meta.path,
          "-t",
          "an unreadable file is refused$",
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      const output = `${child.stdout}${child.stderr}`;
      expect(child.status, output).toBe(0);
      expect(output).toMatch(/\(pass\) .*an unreadable file is refused \[/);
      expect(output).toMatch(/^ 1 pass$/m);
    },
    30_000,
  );
});
