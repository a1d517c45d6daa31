/**
 * Resume across runs in a layout directory: `pushFrom` keeps an interrupted blob under
 * `blobs/sha256/.<hex>.partial`, hashes it again on the next push and asks only for the rest.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import process from "node:process";
import { LayoutDirectory, partialPath } from "../../src/content/layout/directory.ts";
import { tryLock } from "../../src/content/layout/lock.ts";
import type { Opened } from "../../src/content/target.ts";
import { bytesStream } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, sha256, tempDir } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

const BLOB = new Uint8Array(300_000).map((_, i) => (i * 31 + (i >> 8)) % 251);
const DESC: Descriptor = { mediaType: "application/octet-stream", digest: sha256(BLOB), size: BLOB.length };

/** A source that serves BLOB from any offset (or only whole, with `whole`) and records what was asked. */
function source(options: { whole?: boolean; breakAt?: number; bytes?: Uint8Array } = {}) {
  const asked: number[] = [];
  const bytes = options.bytes ?? BLOB;
  const open = async (offset: number): Promise<Opened> => {
    asked.push(offset);
    const from = options.whole ? 0 : offset;
    if (options.breakAt === undefined) return { stream: bytesStream(bytes.subarray(from)), offset: from };
    const breakAt = options.breakAt;
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) throw new SkiffError("NETWORK", "connection reset");
        controller.enqueue(bytes.subarray(from, breakAt));
        sent = true;
      },
    });
    return { stream, offset: from };
  };
  return { asked, open };
}

async function layoutWithPartial(partial?: Uint8Array): Promise<LayoutDirectory> {
  const layout = await LayoutDirectory.open(tempDir(), { create: true });
  if (partial) writeFileSync(partialPath(layout.blobPath(DESC.digest)), partial);
  return layout;
}

/** The blob is stored whole, and no partial or lock is left. */
function expectStored(layout: LayoutDirectory): void {
  const final = layout.blobPath(DESC.digest);
  expect(sha256(readFileSync(final))).toBe(DESC.digest);
  expect(readdirSync(dirname(final))).toEqual([DESC.digest.slice(7)]);
}

describe("resuming a blob from a partial file in a layout directory", () => {
  test("a partial's bytes are kept: only the rest is asked for", async () => {
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([100_000]);
    expectStored(layout);
  });

  test("a layout directory as the source serves the rest from a file offset", async () => {
    const from = await layoutWithPartial();
    await from.push(DESC, bytesStream(BLOB));
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const offsets: number[] = [];
    await layout.pushFrom(DESC, async (offset) => {
      const opened = await from.fetchFrom(DESC, offset);
      offsets.push(opened.offset);
      return opened;
    });
    expect(offsets).toEqual([100_000]);
    expectStored(layout);
  });

  test("no partial: the whole blob is asked for", async () => {
    const layout = await layoutWithPartial();
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([0]);
    expectStored(layout);
  });

  test("a source that cannot skip sends everything: the partial is replaced", async () => {
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const src = source({ whole: true });
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([100_000]);
    expectStored(layout);
  });

  test("a partial whose bytes changed is caught by the digest and the blob is fetched again from 0", async () => {
    const corrupt = BLOB.slice(0, 100_000);
    corrupt[500] = (corrupt[500] ?? 0) ^ 0xff;
    const layout = await layoutWithPartial(corrupt);
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([100_000, 0]);
    expectStored(layout);
  });

  test("a partial as long as the blob is not trusted: the whole blob is asked for", async () => {
    const layout = await layoutWithPartial(BLOB);
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([0]);
    expectStored(layout);
  });

  test("a broken transfer keeps its bytes; the next push resumes after them", async () => {
    const layout = await layoutWithPartial();
    const partial = partialPath(layout.blobPath(DESC.digest));
    const broken = source({ breakAt: 120_000 });
    const error = await layout.pushFrom(DESC, broken.open).catch((e: unknown) => e);
    expect((error as SkiffError).code).toBe("NETWORK");
    expect(readFileSync(partial)).toEqual(Buffer.from(BLOB.subarray(0, 120_000)));
    expect(existsSync(`${partial}.lock`)).toBe(false);
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([120_000]);
    expectStored(layout);
  });

  test("content that does not match the digest fails and leaves no partial", async () => {
    const layout = await layoutWithPartial();
    const wrong = BLOB.slice();
    wrong[7] = (wrong[7] ?? 0) ^ 1;
    const error = await layout.pushFrom(DESC, source({ bytes: wrong }).open).catch((e: unknown) => e);
    expect((error as SkiffError).code).toBe("DIGEST_MISMATCH");
    expect(readdirSync(dirname(layout.blobPath(DESC.digest)))).toEqual([]);
  });

  test("a source that refuses the rest (not a network failure) fails and drops the partial", async () => {
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const refuse = async (): Promise<Opened> => {
      throw new SkiffError("REGISTRY", "416 Range Not Satisfiable");
    };
    const error = await layout.pushFrom(DESC, refuse).catch((e: unknown) => e);
    expect((error as SkiffError).code).toBe("REGISTRY");
    expect(readdirSync(dirname(layout.blobPath(DESC.digest)))).toEqual([]);
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([0]);
    expectStored(layout);
  });

  test("a partial claimed by a live process is left alone: a private temporary file is used", async () => {
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const partial = partialPath(layout.blobPath(DESC.digest));
    const release = await tryLock(`${partial}.lock`);
    expect(release).toBeDefined();
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([0]);
    expect(sha256(readFileSync(layout.blobPath(DESC.digest)))).toBe(DESC.digest);
    expect(readFileSync(partial).length).toBe(100_000);
    await release?.();
  });

  test("the claim of a process that is gone is broken and its partial resumed", async () => {
    const layout = await layoutWithPartial(BLOB.subarray(0, 100_000));
    const partial = partialPath(layout.blobPath(DESC.digest));
    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid;
    writeFileSync(`${partial}.lock`, JSON.stringify({ pid: gone, host: hostname(), token: "x" }));
    const src = source();
    await layout.pushFrom(DESC, src.open);
    expect(src.asked).toEqual([100_000]);
    expectStored(layout);
  });
});
