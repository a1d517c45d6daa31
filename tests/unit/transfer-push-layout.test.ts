/**
 * A pushed file copied into a layout on a transfer worker: hashed once (when it was added) when it
 * has not changed since, hashed again after the copy when it has, and never named wrong.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileSource } from "../../src/content/files/source.ts";
import { LayoutDirectory } from "../../src/content/layout/directory.ts";
import { offloadTransfer } from "../../src/content/transfer/offload.ts";

const root = mkdtempSync(join(tmpdir(), "skiff-push-layout-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const watch = { progress() {}, stopped: () => false, stopError: () => new Error("stopped") };
const content = (seed: number) =>
  Buffer.from(Array.from({ length: 2 * MiB }, (_, i) => (i * seed + 7) % 256));
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function setUp(name: string, bytes: Buffer, settle: boolean) {
  const dir = join(root, name);
  const path = join(dir, "file.bin");
  const layoutDir = join(dir, "layout");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, bytes);
  // Older than the clock slack: the file counts as unchanged since it was hashed.
  if (settle) await Bun.sleep(2200);
  const files = await FileSource.create();
  const desc = await files.add(path, { title: "file.bin" });
  const layout = await LayoutDirectory.open(layoutDir, { create: true });
  return { files, desc, layout, path, layoutDir };
}

describe("push into a layout through a transfer worker", () => {
  test("a file unchanged since it was hashed is copied and named right", async () => {
    const bytes = content(3);
    const { files, desc, layout, layoutDir } = await setUp("unchanged", bytes, true);
    expect(await offloadTransfer(files, layout, desc, watch)).toBe(true);
    expect(sha256(readFileSync(join(layoutDir, "blobs", "sha256", desc.digest.slice(7))))).toBe(
      sha256(bytes),
    );
    await files.close();
  }, 30_000);

  test("a file changed after it was hashed: the copy is hashed, refused, and nothing gets the digest name", async () => {
    const { files, desc, layout, path, layoutDir } = await setUp("changed", content(5), true);
    writeFileSync(path, content(11)); // same size, other bytes
    const error = await offloadTransfer(files, layout, desc, watch).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error?.code).toBe("DIGEST_MISMATCH");
    expect(error?.message).toStartWith(`${desc.digest} from the pushed files: content hashes to sha256:`);
    const blobs = join(layoutDir, "blobs", "sha256");
    expect(existsSync(join(blobs, desc.digest.slice(7)))).toBe(false);
    expect(readdirSync(blobs).filter((name) => !name.endsWith(".lock"))).toEqual([]);
    await files.close();
  }, 30_000);

  test("a file written just before the push (inside the clock slack) is hashed again after the copy", async () => {
    const bytes = content(7);
    const { files, desc, layout, layoutDir } = await setUp("fresh", bytes, false);
    expect(await offloadTransfer(files, layout, desc, watch)).toBe(true);
    expect(sha256(readFileSync(join(layoutDir, "blobs", "sha256", desc.digest.slice(7))))).toBe(
      sha256(bytes),
    );
    await files.close();
  }, 30_000);
});
