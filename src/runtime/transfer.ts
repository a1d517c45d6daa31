/**
 * What blob transfers (src/content/transfer) need from the runtime: starting the transfer worker,
 * and a request body the kernel sends straight from a file.
 */

declare const Bun: { file(path: string): Blob } | undefined;

/** True when running from a `bun build --compile` binary (its modules live in a virtual root). */
function compiled(): boolean {
  return /\$bunfs|~BUN/.test(import.meta.url);
}

/**
 * A new transfer worker. In a compiled binary the worker is an extra entry point of the build
 * (scripts/build.ts), embedded under its source path and found relative to the binary's root;
 * from source it sits next to this folder. It does not keep the process alive where the runtime
 * allows that.
 */
export function startTransferWorker(): Worker {
  const entry = compiled()
    ? "./src/content/transfer/worker.ts"
    : new URL("../content/transfer/worker.ts", import.meta.url).href;
  const worker = new Worker(entry, { type: "module" });
  (worker as { unref?: () => void }).unref?.();
  return worker;
}

/**
 * The first `size` bytes of the file at `path` as a request body that Bun sends with `sendfile`
 * (no bytes through JavaScript: ~0.2 CPU-s per GiB against ~1.1 for a stream of chunks); undefined
 * where the runtime has no such body (the caller streams the file).
 */
export function fileBody(path: string, size: number): Blob | undefined {
  return typeof Bun !== "undefined" ? Bun.file(path).slice(0, size) : undefined;
}
