/** Files and stdin as commands read and write them: never half a file under the name asked for. */
import { readFile, rm, writeFile } from "node:fs/promises";
import process from "node:process";
import { errnoReason, replaceWithFile, writeError } from "../content/files/disk.ts";
import { readAll } from "../content/verify.ts";
import { SkiffError } from "../errors.ts";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.ts";

/** How to open stdin as a web stream (for a file given as `-`); node:stream loads only then. */
export async function stdinOpener(): Promise<() => ReadableStream<Uint8Array>> {
  const { Readable } = await import("node:stream");
  return () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
}

/**
 * Writes bytes to a file via a temporary name, so a failure never leaves half a file; a file it
 * replaces keeps its mode (see replaceWithFile).
 */
export async function writeOutputFile(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.skiff-${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes);
    await replaceWithFile(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw writeError(error, path);
  }
}

/** Writes `--export-manifest`. */
export async function exportManifest(path: string | undefined, bytes: Uint8Array): Promise<void> {
  if (path === undefined) return;
  try {
    await writeFile(path, bytes);
  } catch (error) {
    throw new SkiffError("IO", `cannot write the manifest to ${path}: ${errnoReason(error)}`);
  }
}

/** Reads a manifest file, or stdin for `-`, capped at the manifest limit. */
export async function readManifestInput(path: string): Promise<Uint8Array> {
  if (path === "-") return readAll((await stdinOpener())(), MAX_MANIFEST_BYTES, "the manifest on stdin");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new SkiffError("IO", `cannot read ${path}: ${errnoReason(error)}`);
  }
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `${path} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte manifest limit`,
    );
  }
  return bytes;
}
