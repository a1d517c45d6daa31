/**
 * The transfer worker's entry point (an entry of the compiled binary: scripts/build.ts). It runs
 * the jobs the pool (pool.ts) sends, several at once, and answers each with `done` or `failed`.
 */
import { JobChannel } from "./channel.ts";
import { download, writeRange } from "./download.ts";
import { copyBlob, hashFile } from "./local.ts";
import type { FromWorker, Job, JobResult, ToWorker } from "./protocol.ts";
import { toWire } from "./protocol.ts";
import { RefusedAnswer } from "./request.ts";

declare const self: {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

const post = (message: FromWorker) => self.postMessage(message);
const running = new Map<number, JobChannel>();

function run(channel: JobChannel, job: Job): Promise<JobResult> {
  switch (job.kind) {
    case "download":
      return download(channel, job);
    case "range":
      return writeRange(channel, job);
    case "copy":
      return copyBlob(channel, job);
    case "hash":
      return hashFile(job);
  }
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type !== "job") {
    running.get(message.id)?.receive(message);
    return;
  }
  const channel = new JobChannel(message.id, post, message.job.crashAfter);
  running.set(message.id, channel);
  run(channel, message.job)
    .then(
      (result) => post({ type: "done", id: message.id, result }),
      (error: unknown) =>
        post({
          type: "failed",
          id: message.id,
          error: toWire(error),
          ...(error instanceof RefusedAnswer ? { refusal: error.refusal } : {}),
        }),
    )
    .finally(() => running.delete(message.id));
};
