/**
 * What the graph engine reports, node by node, as ORAS's status lines count them: a blob shared
 * by two titled layers is copied once and the other title reported as a duplicate with its
 * manifest; a blob used under two media types is two nodes; graphs copied in one session report
 * each node once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { TransferEvent } from "../../src/content/events.ts";
import { LayoutDirectory } from "../../src/content/layout/index.ts";
import { MemoryStore } from "../../src/content/memory/index.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { copyGraph, copySession } from "../../src/ops/copy-graph.ts";
import { cleanup, LayoutBuilder, TITLE } from "../fixtures/layout-builder.ts";

afterAll(cleanup);

/** `type title-or-mediaType` per event, in order (progress left out). */
function lines(events: TransferEvent[]): string[] {
  return events
    .filter((e) => e.type !== "progress")
    .map((e) => {
      const name = e.desc.annotations?.[TITLE] || e.desc.mediaType;
      return `${e.type === "skip" ? e.reason : e.type} ${e.desc.digest.slice(7, 19)} ${name}`;
    });
}

function recorder() {
  const events: TransferEvent[] = [];
  return { events, listener: (event: TransferEvent) => events.push(event) };
}

/** A manifest whose two layers hold the same bytes under titles foo1 and foo2 (ORAS's foobar). */
function twinLayers() {
  const b = new LayoutBuilder();
  const foo1 = b.file("foo1", "foo");
  const foo2 = b.file("foo2", "foo");
  const bar = b.file("bar", "bar");
  const root = b.manifest({ layers: [foo1, foo2, bar] });
  return { b, foo1, foo2, bar, root };
}

describe("copyGraph events", () => {
  test("same bytes under two titles: one copy, the second title reported with its manifest", async () => {
    const { b, foo1, foo2, root } = twinLayers();
    const source = await LayoutDirectory.open(b.dir);
    const { events, listener } = recorder();
    await copyGraph(source, new MemoryStore(), root, { listener, concurrency: 1 });
    const out = lines(events);
    const short = (d: Descriptor) => d.digest.slice(7, 19);
    expect(out.filter((l) => l.includes(short(foo1)))).toEqual([
      `start ${short(foo1)} foo1`,
      `done ${short(foo1)} foo1`,
      `duplicate ${short(foo2)} foo2`,
    ]);
    // ORAS's order: the manifest starts, the duplicate is reported, then the manifest is done.
    const manifest = `${short(root)} ${root.mediaType}`;
    expect(out.slice(-3)).toEqual([`start ${manifest}`, `duplicate ${short(foo2)} foo2`, `done ${manifest}`]);
  });

  test("a blob used under two media types is two nodes: copied once, the other reported as there", async () => {
    const b = new LayoutBuilder();
    const asEmpty = b.blob("{}", "application/vnd.oci.empty.v1+json");
    const asSbom: Descriptor = { ...asEmpty, mediaType: "test/sbom.file" };
    const layer = b.file("sbom", "sbom-bytes");
    const root = b.manifest({ config: asSbom, layers: [layer, asEmpty] });
    const source = await LayoutDirectory.open(b.dir);
    const { events, listener } = recorder();
    await copyGraph(source, new MemoryStore(), root, { listener, concurrency: 1 });
    const out = lines(events).filter((l) => l.includes(asEmpty.digest.slice(7, 19)));
    expect(out).toEqual([
      `start ${asEmpty.digest.slice(7, 19)} test/sbom.file`,
      `done ${asEmpty.digest.slice(7, 19)} test/sbom.file`,
      `exists ${asEmpty.digest.slice(7, 19)} application/vnd.oci.empty.v1+json`,
    ]);
  });

  test("graphs copied in one session report every node once", async () => {
    const { b, root, bar } = twinLayers();
    const signature = b.file("signature", "sig");
    const referrer = b.manifest({ layers: [signature, bar], subject: root });
    const source = await LayoutDirectory.open(b.dir);
    const destination = new MemoryStore();
    const { events, listener } = recorder();
    const session = copySession();
    await copyGraph(source, destination, root, { listener, session });
    await copyGraph(source, destination, referrer, { listener, session, includeSubject: true });
    const out = lines(events);
    // Every node ends exactly once: done, exists or duplicate.
    const ends = out.filter((l) => !l.startsWith("start"));
    expect(new Set(ends).size).toBe(ends.length);
    expect(out.filter((l) => l.includes(" bar"))).toEqual([
      `start ${bar.digest.slice(7, 19)} bar`,
      `done ${bar.digest.slice(7, 19)} bar`,
    ]);
    expect(out).toContain(`done ${signature.digest.slice(7, 19)} signature`);
  });

  test("without a shared session, a second graph finds what the first copied", async () => {
    const { b, root, bar } = twinLayers();
    const referrer = b.manifest({ layers: [bar], subject: root });
    const source = await LayoutDirectory.open(b.dir);
    const destination = new MemoryStore();
    const { events, listener } = recorder();
    await copyGraph(source, destination, root, { listener });
    await copyGraph(source, destination, referrer, { listener });
    expect(lines(events)).toContain(`exists ${bar.digest.slice(7, 19)} bar`);
  });
});
