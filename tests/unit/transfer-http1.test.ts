/**
 * The transfer workers' HTTP/1.1 body reader (src/content/transfer/http1.ts) against a scripted
 * server on 127.0.0.1 (raw bytes, so framing, splits and early closes are exact), and the range
 * split of segmented downloads.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import net from "node:net";
import { splitRanges } from "../../src/content/transfer/frontiers.ts";
import { get } from "../../src/content/transfer/http1.ts";
import type { PreparedRequest } from "../../src/content/transfer/protocol.ts";

const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server that answers one request with `parts` (each written after a short pause), then does `end`. */
async function scripted(parts: (string | Uint8Array)[], end: "close" | "reset" = "close"): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", async () => {
      for (const part of parts) {
        socket.write(part);
        await Bun.sleep(5);
      }
      if (end === "reset") socket.resetAndDestroy();
      else socket.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

const request = (port: number): PreparedRequest => ({
  id: 1,
  method: "GET",
  target: `http://127.0.0.1:${port}/v2/x/blobs/sha256:0`,
  url: `http://127.0.0.1:${port}/v2/x/blobs/sha256:0`,
  headers: {},
  toRegistry: true,
  idleMs: 5000,
});

/** The body as the sink saw it (copied: the reader reuses its buffer). */
async function body(
  port: number,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<{ status: number; bytes: Buffer }> {
  const answer = await get(request(port), new AbortController().signal);
  const chunks: Buffer[] = [];
  let total = 0;
  await answer.pipe((chunk) => {
    chunks.push(Buffer.from(chunk));
    total += chunk.byteLength;
    return total >= stopAfter;
  });
  return { status: answer.status, bytes: Buffer.concat(chunks) };
}

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("http1 body reader", () => {
  test("a Content-Length body split across writes arrives whole, head and all", async () => {
    const head = `HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`;
    const port = await scripted([
      Buffer.concat([Buffer.from(head, "latin1"), payload.subarray(0, 10)]),
      payload.subarray(10, 70_000),
      payload.subarray(70_000),
    ]);
    const { status, bytes } = await body(port);
    expect(status).toBe(200);
    expect(digest(bytes)).toBe(digest(payload));
  });

  test("a chunked body is decoded across splits inside sizes and data", async () => {
    const encoded = `HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\n\r\n${(1000).toString(16)}\r\n`;
    const first = payload.subarray(0, 1000);
    const rest = payload.subarray(1000, 5000);
    const wire = Buffer.concat([
      Buffer.from(encoded, "latin1"),
      first,
      Buffer.from(`\r\n${rest.length.toString(16)};ext=1\r\n`, "latin1"),
      rest,
      Buffer.from("\r\n0\r\nX-Trailer: 1\r\n\r\n", "latin1"),
    ]);
    const cuts = [3, 70, 71, 900, 1012, 1013, 1017, 3000, wire.length - 4];
    const parts = cuts.map((cut, i) => wire.subarray(i === 0 ? 0 : cuts[i - 1], cut));
    parts.push(wire.subarray(cuts[cuts.length - 1]));
    const { status, bytes } = await body(await scripted(parts));
    expect(status).toBe(206);
    expect(digest(bytes)).toBe(digest(payload.subarray(0, 5000)));
  });

  test("a body cut short (clean close before Content-Length) is a broken connection", async () => {
    const port = await scripted([
      `HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n`,
      payload.subarray(0, 400),
    ]);
    const error = await body(port).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error?.code).toBe("ECONNRESET");
    expect(error?.message).toBe("the connection closed before the end of the body");
  });

  test("a reset mid-body rejects the pipe", async () => {
    const port = await scripted(
      [`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n`, payload.subarray(0, 400)],
      "reset",
    );
    await expect(body(port)).rejects.toBeDefined();
  });

  test("a sink that stops early resolves with what it took", async () => {
    const port = await scripted([`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`, payload]);
    const { bytes } = await body(port, 1);
    expect(bytes.byteLength).toBeGreaterThan(0);
    expect(bytes.byteLength).toBeLessThan(payload.length);
    expect(digest(bytes)).toBe(digest(payload.subarray(0, bytes.byteLength)));
  });

  test("a whole small answer that arrived (and closed) before the body was asked for is delivered", async () => {
    const port = await scripted([`HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!`]);
    const answer = await get(request(port), new AbortController().signal);
    await Bun.sleep(50);
    const chunks: Buffer[] = [];
    await answer.pipe((chunk) => {
      chunks.push(Buffer.from(chunk));
      return false;
    });
    expect({ status: answer.status, text: Buffer.concat(chunks).toString() }).toEqual({
      status: 404,
      text: "nope!",
    });
  });

  test("an aborted request rejects with the abort reason", async () => {
    const port = await scripted([
      `HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n`,
      payload.subarray(0, 100),
    ]);
    const controller = new AbortController();
    const answer = await get(request(port), controller.signal);
    const piped = answer.pipe(() => {
      controller.abort(new Error("idle"));
      return false;
    });
    await expect(piped).rejects.toThrow("idle");
  });
});

describe("range split", () => {
  test("ranges cover from-to exactly, in order, cut at 1 MiB boundaries", () => {
    const MiB = 2 ** 20;
    for (const [from, to, count] of [
      [8 * MiB, 72 * MiB, 1],
      [8 * MiB, 72 * MiB, 3],
      [8 * MiB + 5, 1024 * MiB - 7, 8],
      [0, 5 * MiB + 1, 4],
    ] as const) {
      const ranges = splitRanges(from, to, count);
      expect(ranges.length).toBeLessThanOrEqual(count);
      expect(ranges[0]![0]).toBe(from);
      expect(ranges[ranges.length - 1]![1]).toBe(to);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
      for (const [start, end] of ranges.slice(0, -1)) expect((end - start) % MiB).toBe(0);
    }
  });
});
