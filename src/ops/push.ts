/**
 * push: files and directories on disk become an OCI artifact (an image manifest) in a registry
 * or a layout. It is a graph copy from a file source plus a memory store into the target.
 */
import { stat } from "node:fs/promises";
import { ignoreEvents, type Listener } from "../content/events.ts";
import { fileStream } from "../content/files/disk.ts";
import { FileSource, fileError } from "../content/files/source.ts";
import { fetchFromAny, MemoryStore } from "../content/memory/index.ts";
import { isManifestPusher, publish, type Target } from "../content/target.ts";
import { digestOf, readAll } from "../content/verify.ts";
import { SkiffError } from "../errors.ts";
import { type Descriptor, orderedDescriptor, sortedMap } from "../oci/descriptor.ts";
import { artifactTypeOf, encodeManifest, type ImageManifest, MAX_MANIFEST_BYTES } from "../oci/manifest.ts";
import { emptyJson, isLenientMediaType, isValidMediaType, MediaType } from "../oci/media-types.ts";
import type { Platform } from "../oci/platform.ts";
import { checkTag } from "../oci/reference.ts";
import { type Annotations, emptyAnnotations, withCreated } from "./annotations.ts";
import { copyGraph, limiter } from "./copy-graph.ts";

/** oras-go's default config media type for image-spec v1.0 artifacts. */
export const UNKNOWN_CONFIG_MEDIA_TYPE = "application/vnd.unknown.config.v1+json";

/** `--image-spec`: v1.1 writes `artifactType` and the empty config; v1.0 puts the type in the config. */
type ImageSpec = "v1.1" | "v1.0";

/** A `FILE[:mediaType]` argument. */
interface FileArgument {
  path: string;
  mediaType?: string;
}

const DRIVE = /^[a-zA-Z]:[\\/]/;

/**
 * Splits `FILE[:mediaType]` at the last colon (ORAS's rule). An empty media type after the colon
 * means the default, so `a:b:` is the file `a:b`; a Windows drive colon (`C:\`) never splits.
 */
export function parseFileArgument(text: string): FileArgument {
  const colon = text.lastIndexOf(":");
  const isDrive = colon === 1 && DRIVE.test(text);
  if (colon === -1 || isDrive) {
    if (text === "") throw new SkiffError("USAGE", "empty file name");
    return { path: text };
  }
  const path = text.slice(0, colon);
  const mediaType = text.slice(colon + 1);
  if (path === "") throw new SkiffError("USAGE", `empty file path in "${text}"`);
  if (mediaType === "") return { path };
  if (!isLenientMediaType(mediaType)) {
    throw new SkiffError(
      "USAGE",
      `invalid media type "${mediaType}" for file "${path}"`,
      'a media type looks like "application/vnd.example.thing.v1+json"; write "FILE:" to keep a colon in the name',
    );
  }
  return { path, mediaType };
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || DRIVE.test(path);
}

/** Normalizes a path the way Go's `filepath.Clean` + `ToSlash` do (what ORAS uses as the title). */
export function cleanPath(path: string): string {
  const slashed = path.replaceAll("\\", "/");
  const absolute = slashed.startsWith("/");
  const drive = DRIVE.test(path) ? slashed.slice(0, 2) : "";
  const rest = drive ? slashed.slice(2) : slashed;
  const out: string[] = [];
  for (const part of rest.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute && !drive) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (drive) return `${drive}/${joined}`;
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/**
 * The title of a pushed file: its cleaned relative path. Absolute paths are refused unless
 * `disablePathValidation` (ORAS's `--disable-path-validation`). A relative path may leave the
 * current directory (`../x`), as in ORAS: pull refuses such a title unless asked to allow it.
 */
export function fileTitle(path: string, disablePathValidation = false): string {
  const title = cleanPath(path);
  if (!disablePathValidation && isAbsolutePath(path)) {
    throw new SkiffError(
      "UNSAFE_PATH",
      `absolute file path "${path}": the title would be an absolute path on the puller's machine`,
      "push a relative path (cd first), or pass --disable-path-validation if this is intended",
    );
  }
  if (title === ".") {
    throw new SkiffError(
      "USAGE",
      `"${path}" names the current directory; a file or directory name is needed`,
    );
  }
  return title;
}

/** Everything that decides the artifact's content. */
interface ArtifactOptions {
  /** Layers, in order. */
  files?: FileArgument[];
  /** `--artifact-type` (v1.1: the manifest's `artifactType`; v1.0: the config media type). */
  artifactType?: string;
  /** `--config PATH[:mediaType]`. */
  config?: FileArgument;
  /** `--artifact-platform`: writes an OCI image config carrying this platform. */
  artifactPlatform?: Platform;
  /** `-a` and `--annotation-file`. */
  annotations?: Annotations;
  /** Undefined: v1.1, or v1.0 when `--config` is given without `--artifact-type` (ORAS). */
  imageSpec?: ImageSpec;
  disablePathValidation?: boolean;
  /**
   * The `org.opencontainers.image.created` annotation: a value, `null` to omit it, undefined for
   * now. An annotation given by the user wins (it must be RFC 3339).
   */
  created?: string | null;
  /** Seconds since the epoch written as the mtime of every tar entry (SOURCE_DATE_EPOCH). */
  mtime?: number;
  /** Makes the manifest a referrer of this manifest (attach). */
  subject?: Descriptor;
  /** The title of the file read from stdin (a `-` file argument); default "stdin". */
  stdinName?: string;
  /** Hears what is ignored on purpose: annotation-file keys that name no pushed file (as ORAS). */
  warn?: (text: string) => void;
}

/** A checked plan: what will be packed and how, before any file is read. */
interface ArtifactPlan {
  imageSpec: ImageSpec;
  /** The manifest's `artifactType` (v1.1 only). */
  artifactType?: string;
  layers: { path: string; title: string; mediaType?: string; annotations?: Record<string, string> }[];
  config:
    | { kind: "empty"; mediaType: string }
    | { kind: "file"; path: string; mediaType: string }
    | { kind: "platform"; platform: Platform };
  configAnnotations: Record<string, string>;
  manifestAnnotations: Record<string, string>;
  subject?: Descriptor;
}

/** Artifact and config types must be media types; a layer's may be any ORAS lets through. */
function checkMediaType(value: string, what: string, lenient = false): void {
  if (!(lenient ? isLenientMediaType(value) : isValidMediaType(value))) {
    throw new SkiffError(
      "USAGE",
      // "invalid media type": ORAS's words, which scripts look for.
      `invalid ${what} "${value}": invalid media type`,
      'expected a media type such as "application/vnd.example.thing.v1+json"',
    );
  }
}

/** The file argument that means stdin. */
const STDIN = "-";
const STDIN_KEY = "\0stdin";

/** Validates the options and decides the manifest's shape (ORAS's rules); reads no file. */
export function planArtifact(options: ArtifactOptions): ArtifactPlan {
  const annotations = options.annotations ?? emptyAnnotations();
  if (options.artifactType !== undefined) checkMediaType(options.artifactType, "artifact type");
  if (options.config?.mediaType !== undefined) checkMediaType(options.config.mediaType, "config media type");
  if (options.artifactPlatform && options.config) {
    throw new SkiffError(
      "USAGE",
      "--config, --artifact-platform cannot be used at the same time",
      "--artifact-platform writes its own image config; put the platform into your config file instead",
    );
  }
  let imageSpec = options.imageSpec;
  if (options.subject && imageSpec === "v1.0") {
    throw new SkiffError("USAGE", "image-spec v1.0 manifests cannot have a subject; use --image-spec v1.1");
  }
  if (options.config && options.artifactType === undefined) {
    if (imageSpec === "v1.1") {
      throw new SkiffError(
        "USAGE",
        "missing artifact type for OCI image-spec v1.1 artifacts (a --config was given)",
        "set --artifact-type, or use --image-spec v1.0",
      );
    }
    // ORAS: a config without an artifact type means an image-spec v1.0 manifest.
    imageSpec ??= options.subject ? "v1.1" : "v1.0";
  }
  imageSpec ??= "v1.1";
  if (
    imageSpec === "v1.0" &&
    options.artifactType !== undefined &&
    (options.config || options.artifactPlatform)
  ) {
    throw new SkiffError(
      "USAGE",
      `--artifact-type and ${options.config ? "--config" : "--artifact-platform"} cannot both be used with --image-spec v1.0`,
      "image-spec v1.0 has no artifactType field: the type is the config's media type",
    );
  }

  const layers: ArtifactPlan["layers"] = [];
  const byTitle = new Map<string, string>();
  const fileKeys = new Set(Object.keys(annotations.files));
  for (const file of options.files ?? []) {
    if (file.mediaType !== undefined) {
      checkMediaType(file.mediaType, `media type for file "${file.path}"`, true);
    }
    if (file.path === STDIN && byTitle.has(STDIN_KEY)) {
      throw new SkiffError("USAGE", 'stdin ("-") can be read only once');
    }
    const title =
      file.path === STDIN
        ? fileTitle(options.stdinName ?? "stdin", options.disablePathValidation)
        : fileTitle(file.path, options.disablePathValidation);
    if (file.path === STDIN) byTitle.set(STDIN_KEY, title);
    const other = byTitle.get(title);
    if (other !== undefined) {
      throw new SkiffError(
        "USAGE",
        `${title}: duplicate name: "${file.path}" and "${other}" would both be published under it`,
        "each file needs its own name; rename or move one of them",
      );
    }
    byTitle.set(title, file.path);
    // Annotation-file keys may name the file as given or by its title.
    const own = { ...annotations.files[title], ...annotations.files[file.path] };
    fileKeys.delete(title);
    fileKeys.delete(file.path);
    const layer: ArtifactPlan["layers"][number] = { path: file.path, title };
    if (file.mediaType !== undefined) layer.mediaType = file.mediaType;
    if (Object.keys(own).length > 0) layer.annotations = own;
    layers.push(layer);
  }
  if (fileKeys.size > 0) {
    // ORAS ignores them (one annotation file may serve several pushes); skiff says so on stderr.
    const names = [...fileKeys].map((k) => `"${k}"`).join(", ");
    options.warn?.(
      `the annotation file has annotations for ${names}, which ${fileKeys.size === 1 ? "is" : "are"} not among the pushed files: ignored`,
    );
  }

  const manifestAnnotations = withCreated(annotations.manifest, options.created);

  let config: ArtifactPlan["config"];
  if (options.artifactPlatform) config = { kind: "platform", platform: options.artifactPlatform };
  else if (options.config) {
    config = {
      kind: "file",
      path: options.config.path,
      mediaType: options.config.mediaType ?? UNKNOWN_CONFIG_MEDIA_TYPE,
    };
  } else if (imageSpec === "v1.0") {
    config = { kind: "empty", mediaType: options.artifactType ?? UNKNOWN_CONFIG_MEDIA_TYPE };
  } else config = { kind: "empty", mediaType: MediaType.ociEmpty };

  const plan: ArtifactPlan = {
    imageSpec,
    layers,
    config,
    configAnnotations: { ...annotations.config },
    manifestAnnotations,
  };
  if (imageSpec === "v1.1") plan.artifactType = options.artifactType ?? MediaType.unknownArtifact;
  if (options.subject) plan.subject = options.subject;
  return plan;
}

/**
 * The JSON of an image config that only carries a platform (for `--artifact-platform`): the
 * platform's fields alone, in ORAS's order, so the config and manifest digests are ORAS's.
 */
export function platformConfig(platform: Platform): Uint8Array {
  const config: Record<string, unknown> = { architecture: platform.architecture, os: platform.os };
  if (platform["os.version"]) config["os.version"] = platform["os.version"];
  if (platform["os.features"]?.length) config["os.features"] = platform["os.features"];
  if (platform.variant) config.variant = platform.variant;
  return new TextEncoder().encode(JSON.stringify(config));
}

/** A manifest built in memory: its bytes, its descriptor, and the parsed form. */
interface BuiltManifest {
  manifest: ImageManifest;
  bytes: Uint8Array;
  /** With `artifactType` and the manifest's annotations, as ORAS reports them. */
  desc: Descriptor;
}

/**
 * Builds the image manifest of a plan from the config and layer descriptors. Fields are in the
 * spec's order and annotations sorted, so equal inputs give equal bytes and digests.
 */
export function buildManifest(plan: ArtifactPlan, config: Descriptor, layers: Descriptor[]): BuiltManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
  } as ImageManifest;
  if (plan.imageSpec === "v1.1" && plan.artifactType) manifest.artifactType = plan.artifactType;
  manifest.config = orderedDescriptor(config);
  manifest.layers = layers.map(orderedDescriptor);
  if (plan.imageSpec === "v1.1" && manifest.layers.length === 0) manifest.layers = [{ ...emptyJson }];
  if (plan.subject) manifest.subject = orderedDescriptor(plan.subject);
  const annotations = sortedMap(plan.manifestAnnotations);
  if (annotations) manifest.annotations = annotations;
  const bytes = encodeManifest(manifest);
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      "TOO_LARGE",
      `the manifest would be ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
      "push fewer files or shorter annotations",
    );
  }
  const desc: Descriptor = {
    mediaType: MediaType.ociManifest,
    digest: digestOf(bytes),
    size: bytes.byteLength,
  };
  if (annotations) desc.annotations = annotations;
  desc.artifactType = artifactTypeOf(manifest);
  return { manifest, bytes, desc };
}

/** Options of {@link pushArtifact}. */
export interface PushOptions extends ArtifactOptions {
  /** Tags to point at the manifest; none on a layout gives an untagged `index.json` entry. */
  tags?: string[];
  /** Transfers at once (ORAS push: 5). */
  concurrency?: number;
  listener?: Listener;
  /** Where directories are packed (default: the system's temporary directory). */
  tempParent?: string;
  /** Opens stdin, for a `-` file argument (spooled to a temporary file so its digest is known). */
  stdin?: () => ReadableStream<Uint8Array>;
}

/** What a push made. */
export interface PushResult {
  /** The manifest descriptor, with `artifactType` and the manifest's annotations. */
  desc: Descriptor;
  /** The manifest bytes (for `--export-manifest`). */
  bytes: Uint8Array;
  manifest: ImageManifest;
  tags: string[];
}

/**
 * Builds the artifact and copies it into `target`: blobs first (what the target has is skipped),
 * then the manifest, then the tags. On a layout without tags the manifest gets an untagged
 * `index.json` entry, so a tagless resolve finds it.
 */
export async function pushArtifact(
  destination: Target | (() => Promise<Target>),
  options: PushOptions,
): Promise<PushResult> {
  const tags = options.tags ?? [];
  for (const tag of tags) checkTag(tag, tag);
  const plan = planArtifact(options);
  const listener = options.listener ?? ignoreEvents;
  const tarOptions: { mtime?: number; tempParent?: string } = {};
  if (options.mtime !== undefined) tarOptions.mtime = options.mtime;
  if (options.tempParent !== undefined) tarOptions.tempParent = options.tempParent;
  const files = await FileSource.create({
    ...tarOptions,
    ...(options.stdin ? { stdin: options.stdin } : {}),
  });
  try {
    // Every file is read (and every directory packed) before the destination is touched, so bad
    // input never leaves a half-made layout or a dangling upload behind.
    const memory = new MemoryStore();
    const config = await prepareConfig(plan, files, memory);
    // Files are hashed several at once (on transfer workers when there are); errors in file order.
    const limit = limiter(Math.max(1, options.concurrency ?? 5));
    const added = await Promise.allSettled(
      plan.layers.map((layer) => {
        const add: Parameters<FileSource["add"]>[1] = { title: layer.title, allowDirectory: true };
        if (layer.mediaType !== undefined) add.mediaType = layer.mediaType;
        if (layer.annotations !== undefined) add.annotations = layer.annotations;
        return limit(() => files.add(layer.path, add));
      }),
    );
    const layers = added.map((result) => {
      if (result.status === "rejected") throw result.reason;
      return result.value;
    });
    if (plan.imageSpec === "v1.1" && layers.length === 0) memory.add(emptyJson, new Uint8Array([0x7b, 0x7d]));
    const built = buildManifest(plan, config, layers);
    memory.add(built.desc, built.bytes);

    const target = typeof destination === "function" ? await destination() : destination;
    if (!target.writable) {
      throw new SkiffError("UNSUPPORTED", `cannot push to ${target.name}: it is read-only`);
    }
    // A registry takes a tagged manifest with a PUT under the tag whether it has it or not, so
    // ORAS reports no `Exists` for that root there; nothing else changes.
    const putByTag = tags.length > 0 && isManifestPusher(target);
    await copyGraph(fetchFromAny(memory, files), target, built.desc, {
      concurrency: options.concurrency ?? 5,
      listener: putByTag
        ? (event) => {
            if (!(event.type === "skip" && event.desc.digest === built.desc.digest)) listener(event);
          }
        : listener,
      sourceName: "the pushed files",
    });
    await publish(target, built.desc, { tags });
    return { desc: built.desc, bytes: built.bytes, manifest: built.manifest, tags };
  } finally {
    await files.close();
  }
}

async function prepareConfig(
  plan: ArtifactPlan,
  files: FileSource,
  memory: MemoryStore,
): Promise<Descriptor> {
  const annotations = plan.configAnnotations;
  const withAnnotations = (desc: Descriptor): Descriptor =>
    Object.keys(annotations).length > 0 ? { ...desc, annotations: { ...annotations } } : desc;
  switch (plan.config.kind) {
    case "file": {
      const { path, mediaType } = plan.config;
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(path);
      } catch (error) {
        throw fileError(error, path, "config file");
      }
      if (info.isDirectory())
        throw new SkiffError("USAGE", `config "${path}" is a directory; a file is needed`);
      if (info.isFile()) return withAnnotations(await files.add(path, { mediaType }));
      // A device or pipe (e.g. --config /dev/null): read it once, into memory.
      let bytes: Uint8Array;
      try {
        bytes = await readAll(fileStream(path), MAX_MANIFEST_BYTES, `config ${path}`);
      } catch (error) {
        throw fileError(error, path, "config file");
      }
      const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
      memory.add(desc, bytes);
      return withAnnotations(desc);
    }
    case "platform": {
      const bytes = platformConfig(plan.config.platform);
      const desc: Descriptor = {
        mediaType: MediaType.ociConfig,
        digest: digestOf(bytes),
        size: bytes.byteLength,
      };
      memory.add(desc, bytes);
      return withAnnotations(desc);
    }
    case "empty": {
      const bytes = new Uint8Array([0x7b, 0x7d]);
      const desc: Descriptor =
        plan.config.mediaType === MediaType.ociEmpty
          ? { ...emptyJson }
          : { mediaType: plan.config.mediaType, digest: emptyJson.digest, size: emptyJson.size };
      memory.add(desc, bytes);
      return withAnnotations(desc);
    }
  }
}
