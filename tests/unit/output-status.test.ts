import { describe, expect, test } from "bun:test";
import type { Console } from "../../src/cli/io.ts";
import { printable, printableLines } from "../../src/cli/output/printable.ts";
import {
  consoleStatusListener,
  copiedLines,
  describeTarget,
  displayName,
  promptWidth,
  pulledLines,
  pushedLines,
  statusLine,
  statusListener,
} from "../../src/cli/output/status.ts";
import type { TransferEvent } from "../../src/content/events.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { captureConsole } from "../fixtures/capture-console.ts";

const file: Descriptor = {
  mediaType: "application/vnd.oci.image.layer.v1.tar",
  digest: "sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
  size: 12,
  annotations: { "org.opencontainers.image.title": "hello.txt" },
};
const empty: Descriptor = {
  mediaType: "application/vnd.oci.empty.v1+json",
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
};
const manifest: Descriptor = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"0123456789ab".repeat(5)}0123`,
  size: 500,
};

function lines(verb: "push" | "pull" | "copy", events: TransferEvent[]): string[] {
  const written: string[] = [];
  const listener = statusListener((text) => written.push(text), verb);
  for (const event of events) listener(event);
  return written;
}

describe("status lines", () => {
  test("push: the ORAS transcript of a one-file push", () => {
    expect(
      lines("push", [
        { type: "skip", desc: empty, reason: "exists" },
        { type: "start", desc: file },
        { type: "progress", desc: file, bytes: 12 },
        { type: "done", desc: file },
        { type: "start", desc: manifest },
        { type: "done", desc: manifest },
      ]),
    ).toEqual([
      "Exists    44136fa355b3 application/vnd.oci.empty.v1+json\n",
      "Uploading a948904f2f0f hello.txt\n",
      "Uploaded  a948904f2f0f hello.txt\n",
      "Uploading 0123456789ab application/vnd.oci.image.manifest.v1+json\n",
      "Uploaded  0123456789ab application/vnd.oci.image.manifest.v1+json\n",
    ]);
  });

  test("pull: Downloading, Downloaded, Skipped, Restored, aligned on the longest word", () => {
    expect(
      lines("pull", [
        { type: "start", desc: file },
        { type: "done", desc: file },
        { type: "skip", desc: empty, reason: "skipped" },
        { type: "skip", desc: manifest, reason: "exists" },
        { type: "restored", desc: file, path: "out/hello.txt" },
      ]),
    ).toEqual([
      "Downloading a948904f2f0f hello.txt\n",
      "Downloaded  a948904f2f0f hello.txt\n",
      "Skipped     44136fa355b3 application/vnd.oci.empty.v1+json\n",
      "Skipped     0123456789ab application/vnd.oci.image.manifest.v1+json\n",
      "Restored    a948904f2f0f hello.txt\n",
    ]);
  });

  test("copy: Copying, Copied, Exists, Mounted", () => {
    expect(
      lines("copy", [
        { type: "start", desc: file },
        { type: "done", desc: file },
        { type: "skip", desc: empty, reason: "exists" },
        { type: "skip", desc: manifest, reason: "mounted" },
      ]),
    ).toEqual([
      "Copying a948904f2f0f hello.txt\n",
      "Copied  a948904f2f0f hello.txt\n",
      "Exists  44136fa355b3 application/vnd.oci.empty.v1+json\n",
      "Mounted 0123456789ab application/vnd.oci.image.manifest.v1+json\n",
    ]);
    expect([promptWidth("push"), promptWidth("pull"), promptWidth("copy")]).toEqual([9, 11, 7]);
  });

  test("status events print their own prompt, and their text when given", () => {
    expect(
      lines("push", [
        { type: "status", prompt: "Packed", desc: file },
        { type: "status", prompt: "Fetching", desc: manifest, text: "localhost:5000/repo:v1" },
      ]),
    ).toEqual(["Packed    a948904f2f0f hello.txt\n", "Fetching  0123456789ab localhost:5000/repo:v1\n"]);
  });

  test("progress and failures print no status line; resumed downloads say so", () => {
    expect(statusLine("pull", { type: "progress", desc: file, bytes: 3 })).toBeUndefined();
    expect(statusLine("pull", { type: "fail", desc: file, error: new Error("boom") })).toBeUndefined();
    expect(statusLine("pull", { type: "resumed", desc: file, offset: 4 })).toBe(
      "Resuming    a948904f2f0f hello.txt",
    );
  });

  test("the name is the title, else the media type (an empty title counts as none)", () => {
    expect(displayName(file)).toBe("hello.txt");
    expect(displayName(manifest)).toBe(manifest.mediaType);
    expect(displayName({ ...file, annotations: { "org.opencontainers.image.title": "" } })).toBe(
      file.mediaType,
    );
  });

  test("control characters in a title are shown escaped, never sent to the terminal", () => {
    const hostile = {
      ...file,
      annotations: { "org.opencontainers.image.title": "a\x1b]0;pwned\x07b\x1b[2J\u202ec\n.txt" },
    };
    expect(displayName(hostile)).toBe("a\\x1b]0;pwned\\x07b\\x1b[2J\\u202ec\\x0a.txt");
    const line = statusLine("pull", { type: "done", desc: hostile })!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(statusLine("push", { type: "status", prompt: "Tagged", desc: file, text: "v1\x1b[31m" })).toBe(
      "Tagged    a948904f2f0f v1\\x1b[31m",
    );
    // Ordinary text, accents and CJK included, is left alone.
    expect(printable("données-数据.tar")).toBe("données-数据.tar");
    expect(printableLines("a\x1b[2J\nb\u202e")).toBe("a\\x1b[2J\nb\\u202e");
  });

  test("error messages and hints cannot act on the terminal; their line breaks stay", async () => {
    const { reportError } = await import("../../src/cli/program.ts");
    const { SkiffError } = await import("../../src/errors.ts");
    const console = captureConsole();
    reportError(
      new SkiffError("NOT_FOUND", "out/a\x1b]0;pwned\x07 already exists", "one\ntwo\x1b[2J"),
      console,
    );
    expect(console.stderr).toBe("Error: out/a\\x1b]0;pwned\\x07 already exists\none\ntwo\\x1b[2J\n");
  });

  test("concurrent transfers: every line is written whole, in event order", () => {
    const descs = Array.from({ length: 20 }, (_, i) => ({
      ...file,
      digest: `sha256:${i.toString(16).padStart(2, "0").repeat(32)}`,
      annotations: { "org.opencontainers.image.title": `file-${i}` },
    }));
    const written: string[] = [];
    const listener = statusListener((text) => written.push(text), "push");
    // Interleave events of many transfers the way parallel uploads do.
    for (const desc of descs) listener({ type: "start", desc });
    for (const desc of [...descs].reverse()) listener({ type: "done", desc });
    expect(written).toHaveLength(40);
    for (const line of written) expect(line).toMatch(/^(Uploading|Uploaded ) [0-9a-f]{12} file-\d+\n$/);
    expect(written[0]).toBe("Uploading 000000000000 file-0\n");
    expect(written[20]).toBe("Uploaded  131313131313 file-19\n");
  });

  test("consoleStatusListener writes to stdout only", () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const console: Console = {
      out: (text) => stdout.push(text),
      err: (text) => stderr.push(text),
      outBytes: () => {},
      stdoutIsTerminal: false,
      stderrIsTerminal: false,
    };
    consoleStatusListener(console, "push")({ type: "done", desc: file });
    expect(stdout).toEqual(["Uploaded  a948904f2f0f hello.txt\n"]);
    expect(stderr).toEqual([]);
  });
});

describe("closing lines", () => {
  const registry = parseReference("localhost:5000/hello:v1");
  const layout = parseReference("out/layout:v1", { layout: true });
  const d = `sha256:${"cd".repeat(32)}`;

  test("targets are labelled like ORAS", () => {
    expect(describeTarget(registry)).toBe("[registry] localhost:5000/hello:v1");
    expect(describeTarget(layout)).toBe("[oci-layout] out/layout:v1");
    expect(describeTarget(layout, "out/layout")).toBe("[oci-layout] out/layout");
  });

  test("push", () => {
    expect(pushedLines({ ref: registry }, d, "application/vnd.unknown.artifact.v1")).toBe(
      `Pushed [registry] localhost:5000/hello:v1\nArtifactType: application/vnd.unknown.artifact.v1\nDigest: ${d}\n`,
    );
    expect(pushedLines({ ref: layout, text: "out/layout:v1,v2" }, d)).toBe(
      `Pushed [oci-layout] out/layout:v1,v2\nDigest: ${d}\n`,
    );
  });

  test("pull", () => {
    expect(pulledLines({ ref: layout }, d)).toBe(`Pulled [oci-layout] out/layout:v1\nDigest: ${d}\n`);
  });

  test("copy", () => {
    expect(copiedLines({ ref: registry }, { ref: layout }, d)).toBe(
      `Copied [registry] localhost:5000/hello:v1 => [oci-layout] out/layout:v1\nDigest: ${d}\n`,
    );
  });
});
