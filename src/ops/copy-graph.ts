import { fetchManifest, isWalkable } from "../content/manifests.ts";
import type { Fetcher, Storage } from "../content/target.ts";
import { bytesStream } from "../content/verify.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { successors } from "../oci/manifest.ts";
import { ignoreEvents, type Listener } from "./events.ts";

export interface CopyGraphOptions {
  /** Transfers at once (ORAS: 3 for pull and cp, 5 for push). */
  concurrency?: number;
  listener?: Listener;
  /** Follow a manifest's `subject` too (pull --include-subject). */
  includeSubject?: boolean;
  /** Narrows the children of a manifest that get copied (e.g. one platform of an index). */
  selectChildren?: (parent: Descriptor, children: Descriptor[]) => Promise<Descriptor[]> | Descriptor[];
  /** Tries to take a blob without transfer (a cross-repository mount); true when it worked. */
  mount?: (desc: Descriptor) => Promise<boolean>;
  /** Names the source in errors. */
  sourceName?: string;
}

/** Runs at most `limit` tasks at once. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function counting(
  stream: ReadableStream<Uint8Array>,
  desc: Descriptor,
  listener: Listener,
): ReadableStream<Uint8Array> {
  if (listener === ignoreEvents) return stream;
  let bytes = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        listener({ type: "progress", desc, bytes });
        controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Copies the graph under `root` from `source` to `destination`: children before parents,
 * each digest once, content the destination has skipped after one check, at most
 * `concurrency` transfers at once. The root is not tagged; callers do that.
 */
export async function copyGraph(
  source: Fetcher,
  destination: Storage,
  root: Descriptor,
  options: CopyGraphOptions = {},
): Promise<void> {
  const listener = options.listener ?? ignoreEvents;
  const limit = limiter(Math.max(1, options.concurrency ?? 3));
  const where = options.sourceName ?? "the source";
  const started = new Map<string, Promise<void>>();

  const transfer = (desc: Descriptor, content: () => Promise<ReadableStream<Uint8Array>>): Promise<void> =>
    limit(async () => {
      listener({ type: "start", desc });
      try {
        await destination.push(desc, counting(await content(), desc, listener));
      } catch (error) {
        listener({ type: "fail", desc, error: error as Error });
        throw error;
      }
      listener({ type: "done", desc });
    });

  const copyNode = (desc: Descriptor): Promise<void> => {
    let promise = started.get(desc.digest);
    if (!promise) {
      promise = (async () => {
        // A manifest already at the destination implies its whole graph is there: writers store children first.
        if (await destination.exists(desc)) {
          listener({ type: "skip", desc, reason: "exists" });
          return;
        }
        if (isWalkable(desc)) {
          const { bytes, manifest } = await fetchManifest(source, desc, where);
          let children = successors(manifest);
          if (!options.includeSubject && manifest.subject) {
            children = children.filter((child) => child !== manifest.subject);
          }
          if (options.selectChildren) children = await options.selectChildren(desc, children);
          await Promise.all(children.map(copyNode));
          await transfer(desc, async () => bytesStream(bytes));
          return;
        }
        if (options.mount && (await options.mount(desc))) {
          listener({ type: "skip", desc, reason: "mounted" });
          return;
        }
        await transfer(desc, () => source.fetch(desc));
      })();
      started.set(desc.digest, promise);
    }
    return promise;
  };

  await copyNode(root);
}
