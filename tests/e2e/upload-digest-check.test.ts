/**
 * A streamed upload hashes nothing on the client (the file source of push hashed the file when it
 * was added): the registry's check of `?digest=` is what keeps changed bytes from getting the
 * digest's name. This proves that against the real registry, with bytes of the right size but
 * the wrong content, as a file changed between `push` hashing it and uploading it would send.
 */
import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { RegistryClient } from "../../src/content/registry/client.ts";
import { SMALL_BLOB_BYTES, uploadBlob } from "../../src/content/registry/upload.ts";
import { bytesStream } from "../../src/content/verify.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { useRegistries } from "../harness/registry.ts";

const registries = useRegistries(["plain"]);

function blobOf(bytes: Uint8Array): Descriptor {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  return { mediaType: "application/octet-stream", digest, size: bytes.byteLength };
}

describe("streamed uploads rely on the registry's digest check", () => {
  test("bytes that do not hash to ?digest= are refused and the blob does not exist", async () => {
    const registry = registries.plain;
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const added = randomBytes(SMALL_BLOB_BYTES + 1024); // over the small-blob limit: streamed
    const changed = Uint8Array.from(added);
    changed[changed.byteLength - 1] = changed[changed.byteLength - 1]! ^ 0xff;
    const desc = blobOf(added);
    const error = await uploadBlob(client, "digest-check", desc, bytesStream(changed), undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkiffError);
    expect((error as SkiffError).code).toBe("DIGEST_MISMATCH");
    const head = await registry.fetch(`/v2/digest-check/blobs/${desc.digest}`, { method: "HEAD" });
    expect(head.status).toBe(404);
  });

  test("the same upload with the right bytes is stored", async () => {
    const registry = registries.plain;
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const bytes = randomBytes(SMALL_BLOB_BYTES + 1024);
    const desc = blobOf(bytes);
    await uploadBlob(client, "digest-check", desc, bytesStream(bytes), undefined);
    const head = await registry.fetch(`/v2/digest-check/blobs/${desc.digest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  test("more bytes than the descriptor says are refused before the registry sees the end", async () => {
    const registry = registries.plain;
    const client = new RegistryClient(registry.host, { plainHttp: true });
    const bytes = randomBytes(SMALL_BLOB_BYTES + 1024);
    const desc = { ...blobOf(bytes), size: bytes.byteLength - 10 };
    const error = await uploadBlob(client, "digest-check", desc, bytesStream(bytes), undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkiffError);
    expect((error as SkiffError).code).toBe("SIZE_MISMATCH");
    const head = await registry.fetch(`/v2/digest-check/blobs/${desc.digest}`, { method: "HEAD" });
    expect(head.status).toBe(404);
  });
});
