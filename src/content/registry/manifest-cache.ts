/**
 * Manifests a repository pushed or fetched lately, kept in memory (at most 64 of them and 16 MiB),
 * so that tagging one, which PUTs its bytes again, needs no second download.
 */
import type { Descriptor } from "../../oci/descriptor.ts";

const MAX_ENTRIES = 64;
const MAX_BYTES = 16 * 1024 * 1024;

export class ManifestCache {
  /** In the order they were remembered: the first is the oldest. */
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  /** The bytes of `desc`, when they are here (and of its size). */
  get(desc: Descriptor): Uint8Array | undefined {
    const bytes = this.entries.get(desc.digest);
    return bytes && bytes.byteLength === desc.size ? bytes : undefined;
  }

  /** Keeps the bytes of `digest` (not one over a quarter of the budget), dropping the oldest as needed. */
  remember(digest: string, bytes: Uint8Array): void {
    if (this.entries.has(digest) || bytes.byteLength > MAX_BYTES / 4) return;
    this.entries.set(digest, bytes);
    this.bytes += bytes.byteLength;
    while (this.entries.size > MAX_ENTRIES || this.bytes > MAX_BYTES) {
      const [oldest] = this.entries.keys();
      this.forget(oldest as string);
    }
  }

  forget(digest: string): void {
    const bytes = this.entries.get(digest);
    if (!bytes) return;
    this.entries.delete(digest);
    this.bytes -= bytes.byteLength;
  }
}
