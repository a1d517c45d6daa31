/**
 * Starting the transfer worker (src/content/transfer/worker.ts) on each runtime. In a compiled
 * binary the worker is an extra entry point of the build (scripts/build.ts), embedded under its
 * source path and found relative to the binary's root; from source it sits next to this folder.
 */

/** True when running from a `bun build --compile` binary (its modules live in a virtual root). */
function compiled(): boolean {
  return /\$bunfs|~BUN/.test(import.meta.url);
}

/** A new transfer worker; it does not keep the process alive on its own where the runtime allows. */
export function startTransferWorker(): Worker {
  const entry = compiled()
    ? "./src/content/transfer/worker.ts"
    : new URL("../content/transfer/worker.ts", import.meta.url).href;
  const worker = new Worker(entry, { type: "module" });
  (worker as { unref?: () => void }).unref?.();
  return worker;
}
