import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLayout } from "../../src/content/layout/index.ts";
import type { Target } from "../../src/content/target.ts";
import { SkiffError } from "../../src/errors.ts";
import type { Descriptor } from "../../src/oci/descriptor.ts";
import { Annotation } from "../../src/oci/media-types.ts";
import { emptyAnnotations } from "../../src/ops/annotations.ts";
import { attachArtifact } from "../../src/ops/attach.ts";
import { countReferrers, discoverReferrers } from "../../src/ops/discover.ts";
import { pushArtifact } from "../../src/ops/push.ts";

let work: string;
const cwd = process.cwd();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "skiff-attach-unit-"));
  process.chdir(work);
  await writeFile(join(work, "app.bin"), "application");
  await writeFile(join(work, "sbom.json"), '{"sbom":true}');
  await writeFile(join(work, "sig.txt"), "signature");
});
afterAll(async () => {
  process.chdir(cwd);
  await rm(work, { recursive: true, force: true });
});

describe("attach and discover on a layout", () => {
  test("a tagless subject; referrers of referrers; artifact-type filter; depth", async () => {
    const path = join(work, "layout");
    const layout = await openLayout(path, { create: true });
    const app = await pushArtifact(layout, { files: [{ path: "app.bin" }], created: null });
    const ref = { kind: "layout" as const, path };

    const sbom = await attachArtifact(layout, ref, {
      artifactType: "application/vnd.example.sbom.v1",
      files: [{ path: "sbom.json" }],
      created: null,
    });
    expect(sbom.manifest.subject).toEqual({
      mediaType: app.desc.mediaType,
      digest: app.desc.digest,
      size: app.desc.size,
    });
    expect(sbom.subject.digest).toBe(app.desc.digest);
    // The referrer is an untagged root in index.json, so it can be found.
    const index = JSON.parse(await readFile(join(path, "index.json"), "utf8"));
    expect(index.manifests.map((m: Descriptor) => m.digest).sort()).toEqual(
      [app.desc.digest, sbom.desc.digest].sort(),
    );

    // A signature of the SBOM, attached by digest.
    const sig = await attachArtifact(
      layout,
      { ...ref, digest: sbom.desc.digest },
      { artifactType: "application/vnd.example.sig.v1", files: [{ path: "sig.txt" }], created: null },
    );
    // Only annotations, no file.
    const note = await attachArtifact(
      layout,
      { ...ref, digest: app.desc.digest },
      {
        artifactType: "application/vnd.example.note.v1",
        annotations: { ...emptyAnnotations(), manifest: { note: "reviewed" } },
        created: null,
      },
    );

    const tree = await discoverReferrers(layout, app.desc);
    expect(countReferrers(tree)).toBe(3);
    const types = tree.map((n) => n.desc.artifactType).sort();
    expect(types).toEqual(["application/vnd.example.note.v1", "application/vnd.example.sbom.v1"]);
    const sbomNode = tree.find((n) => n.desc.digest === sbom.desc.digest)!;
    expect(sbomNode.referrers.map((n) => n.desc.digest)).toEqual([sig.desc.digest]);
    expect(tree.find((n) => n.desc.digest === note.desc.digest)?.desc.annotations?.note).toBe("reviewed");

    expect(countReferrers(await discoverReferrers(layout, app.desc, { depth: 1 }))).toBe(2);
    const onlySbom = await discoverReferrers(layout, app.desc, {
      artifactType: "application/vnd.example.sbom.v1",
    });
    expect(onlySbom.map((n) => n.desc.digest)).toEqual([sbom.desc.digest]);
    // The filter applies at every level (ORAS): the signature is not an SBOM.
    expect(onlySbom[0]!.referrers).toEqual([]);
  });

  test("attach needs an artifact type and something to attach; the subject must exist", async () => {
    const path = join(work, "layout2");
    const layout: Target = await openLayout(path, { create: true });
    await pushArtifact(layout, { files: [{ path: "app.bin" }], tags: ["v1"], created: null });
    const ref = { kind: "layout" as const, path, tag: "v1" };
    await expect(
      attachArtifact(layout, ref, { artifactType: "", files: [{ path: "sig.txt" }] }),
    ).rejects.toThrow("attach needs --artifact-type");
    await expect(attachArtifact(layout, ref, { artifactType: "application/x.y" })).rejects.toThrow(
      /nothing to attach/,
    );
    const missing = await attachArtifact(
      layout,
      { ...ref, tag: "nope" },
      { artifactType: "application/x.y", files: [{ path: "sig.txt" }] },
    ).catch((e) => e);
    expect(missing).toBeInstanceOf(SkiffError);
    expect(missing.message).toContain("nope");
    // Nothing was added by the failed attaches.
    const index = JSON.parse(await readFile(join(path, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations[Annotation.refName]).toBe("v1");
  });
});
