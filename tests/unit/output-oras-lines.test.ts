/**
 * ORAS's wording of transfer lines that scripts grep for: the prompts of backup and restore, the
 * line for a layer whose bytes were already copied under another title, and the tag lines, sizes
 * and durations of backup and restore.
 */
import { describe, expect, test } from "bun:test";
import type { Console } from "../../src/cli/io.ts";
import { indexStatusListener } from "../../src/cli/output/index-lines.ts";
import { chooseListener } from "../../src/cli/output/progress.ts";
import { promptWidth, skippedLayersHint, statusLine } from "../../src/cli/output/status.ts";
import {
  backupSummary,
  exportedLine,
  foundTagsLine,
  goDuration,
  humanSize,
  loadedArchiveLine,
  restoreSummary,
  tagDoneLine,
} from "../../src/cli/output/tag-copies.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseReference } from "../../src/oci/reference.ts";

const layer: Descriptor = {
  mediaType: "application/vnd.oci.image.layer.v1.tar",
  digest: `sha256:2c26b46b68ff${"0".repeat(52)}`,
  size: 3,
  annotations: { "org.opencontainers.image.title": "foo2" },
};

describe("prompts", () => {
  test("backup pulls and restore pushes, padded to 9 like ORAS", () => {
    expect(promptWidth("backup")).toBe(9);
    expect(promptWidth("restore")).toBe(9);
    expect(statusLine("backup", { type: "start", desc: layer })).toBe("Pulling   2c26b46b68ff foo2");
    expect(statusLine("backup", { type: "done", desc: layer })).toBe("Pulled    2c26b46b68ff foo2");
    expect(statusLine("restore", { type: "start", desc: layer })).toBe("Pushing   2c26b46b68ff foo2");
    expect(statusLine("restore", { type: "skip", desc: layer, reason: "exists" })).toBe(
      "Exists    2c26b46b68ff foo2",
    );
  });

  test("a second title of copied bytes: Skipped for cp, backup and restore, Exists for push, nothing for pull", () => {
    const event = { type: "duplicate", desc: layer } as const;
    expect(statusLine("copy", event)).toBe("Skipped 2c26b46b68ff foo2");
    expect(statusLine("backup", event)).toBe("Skipped   2c26b46b68ff foo2");
    expect(statusLine("restore", event)).toBe("Skipped   2c26b46b68ff foo2");
    expect(statusLine("push", event)).toBe("Exists    2c26b46b68ff foo2");
    expect(statusLine("pull", event)).toBeUndefined();
  });
});

describe("pull", () => {
  test("the hint after untitled layers: ORAS's first line, skiff's command in the second", () => {
    expect(skippedLayersHint("localhost:5000/app:v1")).toBe(
      'Skipped pulling layers without file name in "org.opencontainers.image.title"\n' +
        "Use 'skiff copy localhost:5000/app:v1 --to-oci-layout <layout-dir>' to pull all layers.\n",
    );
  });
});

describe("backup and restore lines", () => {
  test("tags found, each tag done, dry runs", () => {
    expect(foundTagsLine(["v1", "v2"], "localhost:5000/app")).toBe(
      "Found 2 tag(s) in localhost:5000/app: v1, v2",
    );
    expect(foundTagsLine(["v1"], "the backup")).toBe("Found 1 tag(s) in the backup: v1");
    expect(foundTagsLine(["a", "b", "c", "d", "e", "f"], "the backup")).toBe(
      "Found 6 tag(s) in the backup:\na\nb\nc\nd\ne\nf",
    );
    expect(tagDoneLine("pull", "v1", 0, false)).toBe("Pulled tag v1 with 0 referrer(s)");
    expect(tagDoneLine("push", "v1", 2, false)).toBe("Pushed tag v1 with 2 referrer(s)");
    expect(tagDoneLine("push", "v1", 2, true)).toBe("Dry run: would push tag v1 with 2 referrer(s)");
  });

  test("summaries", () => {
    expect(backupSummary(2, "localhost:5000/app", "out.tar", 61.4, false)).toBe(
      'Successfully backed up 2 tag(s) from "localhost:5000/app" to "out.tar" in 61ms.',
    );
    expect(restoreSummary(1, "localhost:5000/app", 1234, false)).toBe(
      'Successfully restored 1 tag(s) to "localhost:5000/app" in 1.234s',
    );
    expect(restoreSummary(2, "localhost:5000/app", 0, true)).toBe(
      'Dry run complete: 2 tag(s) would be restored to "localhost:5000/app" (no data pushed)',
    );
  });

  test("archive sizes as ORAS rounds them", () => {
    expect(humanSize(512)).toBe("512 B");
    expect(humanSize(7680)).toBe("7.5 KB");
    expect(humanSize(11264)).toBe("11 KB");
    expect(humanSize(27136)).toBe("26.5 KB");
    expect(humanSize(1306624)).toBe("1.25 MB");
    expect(exportedLine("a.tar", 27136)).toBe("Exported to a.tar (26.5 KB)");
    expect(loadedArchiveLine("a.tar", 27136)).toBe("Loaded backup archive: a.tar (26.5 KB)");
  });

  test("durations as Go prints them", () => {
    expect(goDuration(37.4)).toBe("37ms");
    expect(goDuration(1500)).toBe("1.5s");
    expect(goDuration(2000)).toBe("2s");
    expect(goDuration(65_100)).toBe("1m5.1s");
  });
});

describe("manifest index lines", () => {
  const index = { ...layer, mediaType: "application/vnd.oci.image.index.v1+json" };
  const entry = { ...layer, mediaType: "application/vnd.oci.image.manifest.v1+json" };

  test("create: sources as typed with their full digest, Packed; uploads print nothing", () => {
    const out: string[] = [];
    const listener = indexStatusListener(
      (t) => out.push(t),
      "create",
      parseReference("localhost:5000/app:v1"),
    );
    listener({ type: "status", prompt: "Fetching", desc: entry, text: "linux-amd64" });
    listener({ type: "status", prompt: "Fetched", desc: entry, text: "linux-amd64" });
    listener({ type: "status", prompt: "Fetching", desc: entry, text: entry.digest });
    listener({ type: "status", prompt: "Fetched", desc: entry, text: entry.digest });
    listener({ type: "status", prompt: "Packed", desc: index, text: index.mediaType });
    listener({ type: "start", desc: index });
    listener({ type: "done", desc: index });
    listener({ type: "status", prompt: "Tagged", desc: index, text: "v1" });
    expect(out.join("")).toBe(
      "Fetching  linux-amd64\n" +
        `Fetched   ${entry.digest} linux-amd64\n` +
        `Fetching  ${entry.digest}\n` +
        `Fetched   ${entry.digest}\n` +
        "Packed    2c26b46b68ff application/vnd.oci.image.index.v1+json\n",
    );
  });

  test("update: the index by its tag, Removed, Added, Merged, then Updated instead of Packed", () => {
    const out: string[] = [];
    const ref = parseReference("localhost:5000/app:v1");
    const listener = indexStatusListener((t) => out.push(t), "update", ref);
    listener({ type: "status", prompt: "Fetching", desc: index, text: "localhost:5000/app:v1" });
    listener({ type: "status", prompt: "Removed", desc: entry });
    listener({ type: "status", prompt: "Added", desc: entry, text: "arm64" });
    listener({ type: "status", prompt: "Merged", desc: index, text: "other" });
    listener({ type: "status", prompt: "Updated", desc: index });
    listener({ type: "status", prompt: "Packed", desc: index, text: index.mediaType });
    expect(out.join("")).toBe(
      "Fetching  v1\n" +
        `Removed   ${entry.digest}\n` +
        `Added     ${entry.digest} arm64\n` +
        `Merged    ${index.digest} other\n` +
        `Updated   ${index.digest}\n`,
    );
  });
});

describe("--verbose=false", () => {
  test("status lines for titled files only: no manifest, no config", () => {
    const stdout: string[] = [];
    const console = {
      out: (t: string) => stdout.push(t),
      err: () => {},
      outBytes: () => {},
      stdoutIsTerminal: false,
      stderrIsTerminal: false,
    } as Console;
    const manifest: Descriptor = {
      ...layer,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      annotations: {},
    };
    const quiet = chooseListener({ console, verb: "copy", verbose: false, env: {} });
    for (const desc of [layer, manifest]) quiet.listener({ type: "start", desc });
    expect(stdout).toEqual(["Copying 2c26b46b68ff foo2\n"]);
    stdout.length = 0;
    const full = chooseListener({ console, verb: "copy", env: {} });
    for (const desc of [layer, manifest]) full.listener({ type: "start", desc });
    expect(stdout).toHaveLength(2);
  });
});
