import type { Descriptor } from "../oci/descriptor.ts";

/**
 * What the graph engine, the stores and the verbs report while they work. Nothing under src/ prints:
 * the CLI turns these into status lines, JSON or progress bars.
 */
export type TransferEvent =
  /** A transfer of `desc` begins (Uploading / Downloading / Copying). */
  | { type: "start"; desc: Descriptor }
  /** `bytes` is the running total of bytes moved for `desc`. */
  | { type: "progress"; desc: Descriptor; bytes: number }
  /** `desc` was not transferred: the destination has it, it was mounted, or it is not needed. */
  | { type: "skip"; desc: Descriptor; reason: "exists" | "mounted" | "skipped" }
  /**
   * `desc` needs no transfer: its content was copied in this run under another title (two layers
   * with the same bytes). ORAS reports it as `Skipped` when its manifest is copied.
   */
  | { type: "duplicate"; desc: Descriptor }
  /** `desc` was transferred and verified. */
  | { type: "done"; desc: Descriptor }
  /** Content restored from a layer on pull (a file or unpacked directory). */
  | { type: "restored"; desc: Descriptor; path: string }
  /** A blob download continued from bytes already on disk. */
  | { type: "resumed"; desc: Descriptor; offset: number }
  /** The transfer of `desc` failed with `error`. */
  | { type: "fail"; desc: Descriptor; error: Error }
  /** A free-form status line such as `Fetching`, `Tagged`, `Packed`. */
  | { type: "status"; prompt: string; desc: Descriptor; text?: string };

export type Listener = (event: TransferEvent) => void;

export const ignoreEvents: Listener = () => {};
