/**
 * Writes examples/repo-layout: the shape of the user story, byte for byte the same on every run.
 *   bun scripts/make-example.ts [OUTPUT_DIR]
 *
 * index.json has ONE untagged entry: an image index (authors, created, revision annotations) over
 * four artifact manifests, one per platform (linux/arm64/v8 and linux/amd64, each el8 and el9).
 * Each manifest has an OCI image config carrying its platform and two small titled files.
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const out = process.argv[2] ?? join(import.meta.dirname ?? ".", "..", "examples", "repo-layout");
const CREATED = "2025-01-15T12:00:00Z";
const ARTIFACT_TYPE = "application/vnd.example.rpm-repo.v1";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Record<string, string>;
  artifactType?: string;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "blobs", "sha256"), { recursive: true });

function blob(content: string, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
  const bytes = new TextEncoder().encode(content);
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(out, "blobs", "sha256", hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.byteLength, ...extra };
}

const json = (value: unknown, mediaType: string, extra: Partial<Descriptor> = {}) =>
  blob(JSON.stringify(value), mediaType, extra);

const platforms = [
  { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el8", rpmArch: "aarch64" },
  { os: "linux", architecture: "arm64", variant: "v8", "os.version": "el9", rpmArch: "aarch64" },
  { os: "linux", architecture: "amd64", "os.version": "el8", rpmArch: "x86_64" },
  { os: "linux", architecture: "amd64", "os.version": "el9", rpmArch: "x86_64" },
];

const manifests: Descriptor[] = platforms.map(({ rpmArch, ...platform }) => {
  const release = platform["os.version"];
  const config = json(
    { ...platform, rootfs: { type: "layers", diff_ids: [] }, config: {} },
    "application/vnd.oci.image.config.v1+json",
  );
  const packages = `skiff-demo-1.2-1.${release}.${rpmArch}.rpm\nlibskiff-1.2-1.${release}.${rpmArch}.rpm\n`;
  const repomd = `<?xml version="1.0" encoding="UTF-8"?>\n<repomd><revision>1.2</revision><tags><distro>${release}</distro><arch>${rpmArch}</arch></tags></repomd>\n`;
  const layers = [
    blob(packages, "application/vnd.oci.image.layer.v1.tar", {
      annotations: { "org.opencontainers.image.title": "packages.txt" },
    }),
    blob(repomd, "application/vnd.oci.image.layer.v1.tar", {
      annotations: { "org.opencontainers.image.title": "repodata/repomd.xml" },
    }),
  ];
  const manifest = json(
    {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: ARTIFACT_TYPE,
      config,
      layers,
      annotations: { "org.opencontainers.image.created": CREATED },
    },
    "application/vnd.oci.image.manifest.v1+json",
    { artifactType: ARTIFACT_TYPE },
  );
  const { ...descriptorPlatform } = platform as Record<string, string>;
  return { ...manifest, platform: descriptorPlatform };
});

const index = json(
  {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    artifactType: ARTIFACT_TYPE,
    manifests,
    annotations: {
      "org.opencontainers.image.authors": "skiff maintainers",
      "org.opencontainers.image.created": CREATED,
      "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
      "org.opencontainers.image.version": "1.2",
    },
  },
  "application/vnd.oci.image.index.v1+json",
);

writeFileSync(join(out, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
writeFileSync(
  join(out, "index.json"),
  `${JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [index] })}\n`,
);
process.stdout.write(`wrote ${out} (index ${index.digest})\n`);
