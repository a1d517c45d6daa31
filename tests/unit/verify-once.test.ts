/**
 * Hash each byte once: a stream verified by its Fetcher is not hashed again by the store that
 * receives it, and nothing unverified gets a digest name on the way.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LayoutDirectory } from "../../src/content/layout/index.ts";
import {
  bytesStream,
  digestOf,
  isVerifiedFor,
  readAll,
  tap,
  verifiedOnce,
  verifyingStream,
} from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { cleanup, tempDir } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

const bytes = (text: string) => new TextEncoder().encode(text);
const blob = (text: string): Descriptor => ({
  mediaType: "application/octet-stream",
  digest: digestOf(bytes(text)),
  size: bytes(text).byteLength,
});

async function layout(): Promise<LayoutDirectory> {
  return LayoutDirectory.open(join(tempDir(), "layout"), { create: true });
}

describe("verified streams", () => {
  test("a verifying stream is marked for its descriptor only; plain streams are not", () => {
    const good = blob("hello");
    const verified = verifyingStream(bytesStream(bytes("hello")), good, "test");
    expect(isVerifiedFor(verified, good)).toBe(true);
    expect(isVerifiedFor(verified, blob("other"))).toBe(false);
    expect(isVerifiedFor(verified, { ...good, size: good.size + 1 })).toBe(false);
    expect(isVerifiedFor(bytesStream(bytes("hello")), good)).toBe(false);
  });

  test("a tap keeps the mark and passes the bytes and the verifier's error on", async () => {
    const good = blob("hello");
    const tapped = tap(verifyingStream(bytesStream(bytes("hello")), good, "test"), {});
    expect(isVerifiedFor(tapped, good)).toBe(true);
    expect(new TextDecoder().decode(await readAll(tapped))).toBe("hello");
    const bad = tap(verifyingStream(bytesStream(bytes("hellO")), good, "test"), {});
    await expect(readAll(bad)).rejects.toThrow(/content hashes to/);
  });

  test("verifiedOnce wraps only streams not verified for that descriptor", () => {
    const good = blob("hello");
    const verified = verifyingStream(bytesStream(bytes("hello")), good, "test");
    expect(verifiedOnce(verified, good, "test")).toBe(verified);
    const plain = bytesStream(bytes("hello"));
    const wrapped = verifiedOnce(plain, good, "test");
    expect(wrapped).not.toBe(plain);
    expect(isVerifiedFor(wrapped, good)).toBe(true);
  });
});

describe("a layout push hashes verified content once and never names bad bytes", () => {
  test("wrong bytes behind a verifying stream: the push fails and no blob or temp file is left", async () => {
    const store = await layout();
    const desc = blob("the real content");
    const stream = tap(verifyingStream(bytesStream(bytes("the fake content")), desc, "test"), {});
    const error = await store.push(desc, stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkiffError);
    expect((error as SkiffError).code).toBe("DIGEST_MISMATCH");
    expect(await store.exists(desc)).toBe(false);
    expect(readdirSync(join(store.path, "blobs", "sha256"))).toEqual([]);
  });

  test("a stream verified for another descriptor is verified again against the pushed one", async () => {
    const store = await layout();
    const other = blob("other content");
    const desc = blob("the real content");
    const stream = verifyingStream(bytesStream(bytes("other content")), other, "test");
    const error = await store.push(desc, stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkiffError);
    expect(existsSync(store.blobPath(desc.digest))).toBe(false);
  });

  test("a verified stream of the right bytes is stored", async () => {
    const store = await layout();
    const desc = blob("the real content");
    await store.push(desc, verifyingStream(bytesStream(bytes("the real content")), desc, "test"));
    expect(await store.exists(desc)).toBe(true);
  });
});
