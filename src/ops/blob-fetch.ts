/**
 * blob fetch: one blob by digest, its descriptor from the store (a registry's `HEAD`, a layout's
 * file), and its bytes, checked against the digest, into a file or to a writer (stdout).
 */
import { rm } from "node:fs/promises";
import process from "node:process";
import { replaceWithFile, writeError, writeStreamToFile } from "../content/files/disk.ts";
import { isBlobDescriber, type Target } from "../content/target.ts";
import { SkiffError } from "../errors.ts";
import type { Descriptor } from "../oci/descriptor.ts";

/** Where the bytes go: a file (written under a temporary name first), or a writer such as stdout. */
type BlobDestination = { file: string } | { write: (chunk: Uint8Array) => void };

/** Describes blob `digest` of `target` and, with a destination, fetches it there; returns the descriptor. */
export async function fetchBlob(target: Target, digest: string, to?: BlobDestination): Promise<Descriptor> {
  if (!isBlobDescriber(target)) {
    throw new SkiffError("UNSUPPORTED", `cannot look up blob ${digest} in ${target.name}`);
  }
  const desc = await target.describeBlob(digest);
  if (to && "write" in to) {
    for await (const chunk of await target.fetch(desc)) to.write(chunk);
  } else if (to) {
    const temp = `${to.file}.skiff-${process.pid}.partial`;
    try {
      await writeStreamToFile(await target.fetch(desc), temp);
      await replaceWithFile(temp, to.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw writeError(error, to.file);
    }
  }
  return desc;
}
