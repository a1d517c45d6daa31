import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTarStream, scanTar, type TarEntry } from "../../src/content/files/tar-reader.ts";
import { openLayout } from "../../src/content/layout/index.ts";
import { readAll } from "../../src/content/verify.ts";
import { cleanup, LayoutBuilder, makeTar, sha256, tempDir } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

function gnuTar(dir: string, format: string, out: string, extra: string[] = []): Uint8Array {
  const r = spawnSync("tar", [`--format=${format}`, "-C", dir, "-cf", out, ...extra, "."], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return readFileSync(out);
}

async function scan(bytes: Uint8Array): Promise<TarEntry[]> {
  return scanTar(async (position, length) => bytes.subarray(position, position + length), "test.tar");
}

async function stream(bytes: Uint8Array): Promise<(TarEntry & { text: string })[]> {
  const out: (TarEntry & { text: string })[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      // Odd chunk sizes, so headers and bodies straddle chunks.
      for (let i = 0; i < bytes.byteLength; i += 333) c.enqueue(bytes.subarray(i, i + 333));
      c.close();
    },
  });
  for await (const entry of readTarStream(source, "test.tar")) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of entry.body()) chunks.push(new Uint8Array(chunk));
    const { body: _b, ...info } = entry;
    out.push({ ...info, text: Buffer.concat(chunks).toString("utf8") });
  }
  return out;
}

describe("tar headers", () => {
  const longName = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(70)}.txt`;
  for (const format of ["gnu", "pax", "ustar", "v7"]) {
    test(`${format} archives: names, sizes, offsets, link names agree between scan and stream`, async () => {
      const dir = tempDir();
      const name =
        format === "v7"
          ? "short.txt"
          : format === "ustar"
            ? `${"p".repeat(90)}/${"n".repeat(60)}.txt`
            : longName;
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), "long named content\n");
      writeFileSync(join(dir, "empty"), "");
      if (format !== "ustar") linkSync(join(dir, name), join(dir, "hard"));
      const bytes = gnuTar(dir, format, join(tempDir(), "x.tar"));
      const scanned = await scan(bytes);
      const streamed = await stream(bytes);
      expect(streamed.map(({ text: _t, ...e }) => e)).toEqual(scanned);
      const file = streamed.find(
        (e) => e.name.replace(/^\.\//, "") === name || e.name.replace(/^\.\//, "") === "hard",
      );
      expect(file).toBeDefined();
      const withData = streamed.filter((e) => e.type === "0");
      expect(withData.map((e) => e.text)).toContain("long named content\n");
      for (const entry of scanned.filter((e) => e.type === "0")) {
        const data = new TextDecoder().decode(bytes.subarray(entry.offset, entry.offset + entry.size));
        expect(["long named content\n", ""]).toContain(data);
      }
      const names = scanned.map((e) => e.name.replace(/^\.\//, ""));
      expect(names).toContain(name);
      const hard = scanned.find((e) => e.type === "1");
      if (hard) expect([name, "hard"]).toContain(hard.linkname.replace(/^\.\//, ""));
    });
  }

  test("a corrupted header checksum is refused", async () => {
    const bytes = makeTar([{ name: "a", content: "x" }]);
    bytes[0] = "b".charCodeAt(0);
    await expect(scan(bytes)).rejects.toThrow("checksum");
    await expect(stream(bytes)).rejects.toThrow("checksum");
  });

  test("a truncated body is refused by the stream reader", async () => {
    const bytes = makeTar([{ name: "a", content: "x".repeat(2000) }]);
    await expect(stream(bytes.subarray(0, 1024))).rejects.toThrow("truncated");
  });
});

describe("layout tar archives as other tools write them", () => {
  test("names without ./, hardlinked blobs, and a big index.json", async () => {
    const b = new LayoutBuilder();
    const file = b.file("a.txt", "hello");
    const entries = Array.from({ length: 2000 }, (_, i) =>
      b.manifest({ layers: [file], annotations: { i: String(i) } }),
    );
    b.writeIndex(entries.map((e, i) => ({ ...e, tag: `t${i}` })));
    // A second name for a blob, stored as a hard link in the tar.
    const copyDir = join(b.dir, "blobs", "sha256");
    linkSync(join(copyDir, file.digest.slice(7)), join(b.dir, "extra-link"));
    const out = join(tempDir(), "plain.tar");
    const r = spawnSync("tar", ["-C", b.dir, "-cf", out, "oci-layout", "index.json", "blobs", "extra-link"]);
    expect(r.status).toBe(0);
    const layout = await openLayout(out);
    expect((await layout.entries()).length).toBe(2000);
    expect((await layout.resolve("t1999")).digest).toBe(entries[1999]!.digest);
    expect(sha256(await readAll(await layout.fetch(file)))).toBe(file.digest);
  });
});
