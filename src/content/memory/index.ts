import { SkiffError } from "../../errors.ts";
import type { Descriptor } from "../../oci/descriptor.ts";
import type { Fetcher, Storage } from "../target.ts";
import { type BlobLocator, isBlobLocator } from "../transfer/offload.ts";
import { bytesStream, readAll, verifyBytes } from "../verify.ts";

/**
 * Content held in memory: manifests and configs being built (push, attach, index create).
 * Only small content belongs here; blobs stay streams.
 */
export class MemoryStore implements Storage {
  readonly #blobs = new Map<string, Uint8Array>();

  /** Adds verified bytes under their descriptor. */
  add(desc: Descriptor, bytes: Uint8Array): void {
    verifyBytes(bytes, desc, "memory");
    this.#blobs.set(desc.digest, bytes);
  }

  has(desc: Descriptor): boolean {
    return this.#blobs.has(desc.digest);
  }

  async exists(desc: Descriptor): Promise<boolean> {
    return this.has(desc);
  }

  async fetch(desc: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const bytes = this.#blobs.get(desc.digest);
    if (!bytes) throw new SkiffError("NOT_FOUND", `${desc.digest} is not in memory`);
    return bytesStream(bytes);
  }

  async push(desc: Descriptor, content: ReadableStream<Uint8Array>): Promise<void> {
    this.add(desc, await readAll(content, desc.size, desc.digest));
  }
}

/** A fetcher that asks each store in turn: e.g. freshly built manifests first, then a layout. */
export function fetchFromAny(
  ...stores: (Fetcher & { exists(desc: Descriptor): Promise<boolean> })[]
): Fetcher & BlobLocator {
  const holder = async (desc: Descriptor) => {
    for (const store of stores.slice(0, -1)) if (await store.exists(desc)) return store;
    return stores[stores.length - 1]!;
  };
  return {
    async fetch(desc) {
      return (await holder(desc)).fetch(desc);
    },
    // Where the store that has the blob says it is (content/transfer), when it can say.
    async locateBlob(desc) {
      const store = await holder(desc);
      return isBlobLocator(store) ? store.locateBlob(desc) : undefined;
    },
  };
}
