/** OCI image layouts as targets: directories (read/write) and tar archives (read-only). */
import { stat } from "node:fs/promises";
import { SkiffError } from "../../errors.ts";
import { LayoutArchive } from "./archive.ts";
import { LayoutDirectory } from "./directory.ts";

export { LayoutArchive } from "./archive.ts";
export { LayoutDirectory } from "./directory.ts";

type Layout = LayoutDirectory | LayoutArchive;

interface OpenLayoutOptions {
  /** Create the layout when the directory is missing or has no `oci-layout` yet (writers). */
  create?: boolean;
}

/**
 * Opens the layout at `path`: a directory, or a tar archive (plain or gzip) when `path` is a file.
 * `oci-layout` and `index.json` are validated now; errors name the file.
 */
export async function openLayout(path: string, options: OpenLayoutOptions = {}): Promise<Layout> {
  if (path === "") throw new SkiffError("INVALID_REFERENCE", "empty OCI layout path");
  let info: Awaited<ReturnType<typeof stat>> | undefined;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      throw new SkiffError("IO", `cannot open OCI layout ${path}: ${(error as Error).message}`);
    }
  }
  if (info === undefined) {
    if (options.create) return LayoutDirectory.open(path, { create: true });
    throw new SkiffError(
      "NOT_FOUND",
      // ORAS's phrase for a missing path, which scripts look for.
      `OCI layout ${path} does not exist (no such file or directory)`,
      "pass the path of a layout directory or layout tar archive",
    );
  }
  if (info.isDirectory()) return LayoutDirectory.open(path, { create: options.create ?? false });
  if (info.isFile()) return LayoutArchive.open(path);
  throw new SkiffError("INVALID_LAYOUT", `${path} is neither a layout directory nor a tar archive`);
}
