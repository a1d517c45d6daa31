import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parsePax, parseTarHeader, readTarStream, scanTar } from "../../src/content/files/tar-reader.ts";
import { SkiffError } from "../../src/errors.ts";

const RUNS = { numRuns: 500 };
let parsedSome = 0;

function isSkiffError(error: unknown): void {
  expect(error instanceof SkiffError, `threw ${(error as Error)?.constructor?.name}: ${String(error)}`).toBe(
    true,
  );
}

/** A ustar header with the given fields and a correct checksum. */
function header(fields: {
  name: string;
  type: string;
  size: string;
  linkname: string;
  mode: string;
}): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, at: number, length: number) =>
    block.set(new TextEncoder().encode(text).subarray(0, length), at);
  put(fields.name, 0, 100);
  put(fields.mode, 100, 8);
  put(fields.size, 124, 12);
  put("00000000000", 136, 12);
  put(fields.type, 156, 1);
  put(fields.linkname, 157, 100);
  put("ustar\u000000", 257, 8);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return block;
}

const field = {
  name: fc.oneof(
    fc.constantFrom("a", "../x", "/etc/passwd", "d/", "PaxHeader"),
    fc.string({ maxLength: 100 }),
  ),
  type: fc.constantFrom("0", "0", "0", "1", "2", "3", "5", "x", "g", "L", "K", "7", "\u0000", "Z"),
  size: fc.oneof(
    fc.nat({ max: 2048 }).map((n) => n.toString(8)),
    fc.constantFrom("77777777777", "-1", "9", "", " ", "1e3", "\u0080"),
  ),
  linkname: fc.oneof(fc.constantFrom("", "../../etc", "/abs"), fc.string({ maxLength: 20 })),
  mode: fc.constantFrom("0000644", "0000755", "0000644", "bad"),
};

const archive = fc
  .tuple(
    fc.array(fc.tuple(fc.record(field), fc.uint8Array({ maxLength: 1200 }), fc.boolean()), {
      minLength: 1,
      maxLength: 4,
    }),
    fc.boolean(),
    fc.nat({ max: 4000 }),
  )
  .map(([members, terminate, cut]) => {
    const parts: Uint8Array[] = [];
    for (const [fields, data, exact] of members) {
      // Mostly the true size, so that later members are reached; sometimes a lie.
      const size = exact && "0".includes(fields.type) ? data.byteLength.toString(8) : fields.size;
      const body = "123456".includes(fields.type) && exact ? new Uint8Array(0) : data;
      parts.push(header({ ...fields, size }), body, new Uint8Array((512 - (body.byteLength % 512)) % 512));
    }
    if (terminate) parts.push(new Uint8Array(1024));
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return cut > 0 && cut < total && cut % 3 === 0 ? out.subarray(0, cut) : out;
  });

function readAtOf(bytes: Uint8Array) {
  return async (position: number, length: number) => bytes.subarray(position, position + length);
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.byteLength; at += 700) controller.enqueue(bytes.slice(at, at + 700));
      controller.close();
    },
  });
}

describe("tar reader fuzzing", () => {
  test("parseTarHeader and parsePax throw nothing but SkiffError on random blocks", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 512, maxLength: 512 }),
        fc.uint8Array({ maxLength: 300 }),
        (block, pax) => {
          try {
            parseTarHeader(block, "fuzz");
          } catch (error) {
            isSkiffError(error);
          }
          try {
            parsePax(pax, "fuzz");
          } catch (error) {
            isSkiffError(error);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("scanTar and readTarStream agree, and throw nothing but SkiffError on crafted archives", async () => {
    await fc.assert(
      fc.asyncProperty(archive, async (bytes) => {
        let scanned: Awaited<ReturnType<typeof scanTar>> | undefined;
        let scanError: unknown;
        try {
          scanned = await scanTar(readAtOf(bytes), "fuzz");
        } catch (error) {
          isSkiffError(error);
          scanError = error;
        }
        const streamed: { name: string; size: number; offset: number; data: number }[] = [];
        let streamError: unknown;
        try {
          for await (const entry of readTarStream(streamOf(bytes), "fuzz")) {
            let data = 0;
            for await (const chunk of entry.body()) data += chunk.byteLength;
            streamed.push({ name: entry.name, size: entry.size, offset: entry.offset, data });
          }
        } catch (error) {
          isSkiffError(error);
          streamError = error;
        }
        if (scanned && !streamError) {
          expect(streamed.map((e) => [e.name, e.offset])).toEqual(scanned.map((e) => [e.name, e.offset]));
        }
        if (!streamError) {
          for (const entry of streamed) {
            expect(entry.size).toBeGreaterThanOrEqual(0);
          }
        }
        // A scan that succeeds never points past the end of the archive for members with data.
        for (const entry of scanned ?? []) {
          if (!"123456".includes(entry.type))
            expect(entry.offset).toBeLessThanOrEqual(bytes.byteLength + 512);
        }
        void scanError;
        if (scanned && scanned.length > 0) parsedSome++;
      }),
      RUNS,
    );
    // The generator must reach real members, or the property says nothing.
    expect(parsedSome).toBeGreaterThan(50);
  });

  test("random bytes as an archive: only SkiffError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        try {
          await scanTar(readAtOf(bytes), "fuzz");
        } catch (error) {
          isSkiffError(error);
        }
        try {
          for await (const entry of readTarStream(streamOf(bytes), "fuzz")) {
            for await (const _ of entry.body()) {
              // drain
            }
          }
        } catch (error) {
          isSkiffError(error);
        }
      }),
      RUNS,
    );
  });
});
