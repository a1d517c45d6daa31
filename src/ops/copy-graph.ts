import { ignoreEvents, type Listener } from "../content/events.ts";
import { fetchManifest, isWalkable, tooDeep } from "../content/manifests.ts";
import {
  type Fetcher,
  isRangeFetcher,
  isResumingPusher,
  type Opened,
  type Storage,
} from "../content/target.ts";
import { offloadTransfer } from "../content/transfer/offload.ts";
import { bytesStream, tap } from "../content/verify.ts";
import type { Descriptor } from "../oci/descriptor.ts";
import { MAX_MANIFEST_DEPTH, successors } from "../oci/manifest.ts";
import { Annotation } from "../oci/media-types.ts";

interface CopyGraphOptions {
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
  /** Shared by the graphs of one operation (a root, then its referrers): each node is copied and reported once. */
  session?: CopySession;
  /** Called for each manifest with a `subject` that this copy wrote (not one the destination had). */
  referrerCopied?: (desc: Descriptor) => void;
}

/** What the graphs of one operation have copied so far; make one with {@link copySession}. */
export interface CopySession {
  /** Each node (digest, media type and size, as ORAS tells nodes apart) and its copy. */
  nodes: Map<string, Promise<void>>;
  /** Each content digest: its copy, and the title of the descriptor it was copied under. */
  contents: Map<string, { copied: Promise<void>; title: string }>;
}

export function copySession(): CopySession {
  return { nodes: new Map(), contents: new Map() };
}

const nodeKey = (desc: Descriptor): string => `${desc.digest} ${desc.mediaType} ${desc.size}`;
const titleOf = (desc: Descriptor): string => desc.annotations?.[Annotation.title] ?? "";

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

/**
 * Passes a blob through, reporting progress, and errors it as soon as `stopped()` says the copy
 * has failed elsewhere, so the destination drops its partial write before the error surfaces.
 * A tap keeps the source's verified mark, so the destination does not hash the bytes again.
 */
function watched(
  stream: ReadableStream<Uint8Array>,
  desc: Descriptor,
  listener: Listener,
  stopped: () => unknown,
  start = 0,
): ReadableStream<Uint8Array> {
  let bytes = start;
  return tap(stream, {
    chunk(chunk) {
      if (stopped()) throw new CopyStopped();
      bytes += chunk.byteLength;
      if (listener !== ignoreEvents) listener({ type: "progress", desc, bytes });
    },
  });
}

/** A transfer given up because another part of the same copy failed. */
class CopyStopped extends Error {
  constructor() {
    super("copy stopped after another transfer failed");
  }
}

/**
 * Copies the graph under `root` from `source` to `destination`: children before parents,
 * each digest once, manifests nested at most MAX_MANIFEST_DEPTH deep, content the destination has skipped after one check, at most
 * `concurrency` transfers at once. The root is not tagged; callers do that. When one part
 * fails, no new transfer starts, transfers in flight are stopped, and the first error is thrown
 * only after every one of them has settled (so no partial write outlives the call).
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
  const session = options.session ?? copySession();
  let failure: { error: unknown } | undefined;
  const stopped = (): boolean => failure !== undefined;

  /**
   * Pushes `desc`; `open` gives its content from an offset (a blob the destination can resume).
   * `beforeDone` runs once the push succeeded, before `done` is reported.
   */
  const transfer = (
    desc: Descriptor,
    open: (offset: number) => Promise<Opened>,
    resumable: boolean,
    beforeDone?: () => void,
  ) =>
    limit(async () => {
      if (stopped()) throw new CopyStopped();
      listener({ type: "start", desc });
      const watchedFrom = async (offset: number): Promise<Opened> => {
        const opened = await open(offset);
        return { ...opened, stream: watched(opened.stream, desc, listener, stopped, opened.offset) };
      };
      const watch = {
        progress: (bytes: number) => listener({ type: "progress", desc, bytes }),
        stopped,
        stopError: () => new CopyStopped(),
      };
      try {
        if (resumable && (await offloadTransfer(source, destination, desc, watch))) {
          // Moved without the bytes passing through this thread (content/transfer).
        } else if (resumable && isResumingPusher(destination)) await destination.pushFrom(desc, watchedFrom);
        else await destination.push(desc, (await watchedFrom(0)).stream);
      } catch (error) {
        if (!(error instanceof CopyStopped)) listener({ type: "fail", desc, error: error as Error });
        throw error;
      }
      beforeDone?.();
      listener({ type: "done", desc });
    });

  /** Waits for every promise to settle; rethrows the first rejection. */
  const allSettled = async (promises: Promise<void>[]): Promise<void> => {
    const results = await Promise.allSettled(promises);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (rejected) throw rejected.reason;
  };

  /** Children whose content was copied under another title: reported when their manifest is. */
  const reportDuplicates = (children: Descriptor[]): void => {
    for (const child of children) {
      const content = session.contents.get(child.digest);
      if (content && content.title !== titleOf(child)) listener({ type: "duplicate", desc: child });
    }
  };

  /** Copies the content of `desc` (a blob, or a manifest after its children). */
  const copyContent = async (desc: Descriptor, depth: number): Promise<void> => {
    if (stopped()) throw new CopyStopped();
    if (depth > MAX_MANIFEST_DEPTH && isWalkable(desc)) throw tooDeep(root, desc, where);
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
      await allSettled(children.map((child) => copyNode(child, depth + 1)));
      await transfer(
        desc,
        async () => ({ stream: bytesStream(bytes), offset: 0 }),
        false,
        () => {
          reportDuplicates(children);
          if (manifest.subject) options.referrerCopied?.(desc);
        },
      );
      return;
    }
    if (options.mount && (await options.mount(desc))) {
      listener({ type: "skip", desc, reason: "mounted" });
      return;
    }
    await transfer(
      desc,
      async (offset) =>
        offset > 0 && isRangeFetcher(source)
          ? source.fetchFrom(desc, offset)
          : { stream: await source.fetch(desc), offset: 0 },
      true,
    );
  };

  /**
   * Copies the node `desc` once per session. A node with content copied under another media type
   * (one config blob used as `application/vnd.oci.empty.v1+json` and as `test/sbom.file`) is a node
   * of its own for ORAS: it waits for that copy and is reported as already there.
   */
  const copyNode = (desc: Descriptor, depth: number): Promise<void> => {
    const key = nodeKey(desc);
    let promise = session.nodes.get(key);
    if (promise) return promise;
    const content = session.contents.get(desc.digest);
    if (content) {
      promise = content.copied.then(() => listener({ type: "skip", desc, reason: "exists" }));
    } else {
      promise = copyContent(desc, depth).catch((error: unknown) => {
        if (!failure && !(error instanceof CopyStopped)) failure = { error };
        throw error;
      });
      session.contents.set(desc.digest, { copied: promise, title: titleOf(desc) });
    }
    session.nodes.set(key, promise);
    return promise;
  };

  try {
    await copyNode(root, 0);
  } catch (error) {
    throw failure ? failure.error : error;
  }
}
