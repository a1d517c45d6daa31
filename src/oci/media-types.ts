/** Media types skiff knows by name. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** The artifact manifest of image-spec 1.1.0-rc2 (dropped from the final spec; registries still hold some). */
  ociArtifactManifest: "application/vnd.oci.artifact.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  unknownArtifact: "application/vnd.unknown.artifact.v1",
} as const;

/** The empty JSON blob `{}` used as config and layer placeholder by OCI artifacts. */
export const emptyJson = {
  mediaType: MediaType.ociEmpty,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
  data: "e30=",
} as const;

/** Well-known annotation keys. */
export const Annotation = {
  title: "org.opencontainers.image.title",
  created: "org.opencontainers.image.created",
  refName: "org.opencontainers.image.ref.name",
  authors: "org.opencontainers.image.authors",
  revision: "org.opencontainers.image.revision",
  version: "org.opencontainers.image.version",
  contentDigest: "io.deis.oras.content.digest",
  unpack: "io.deis.oras.content.unpack",
} as const;

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

/**
 * True for the manifest types skiff walks: OCI/Docker image manifests and indexes, and the OCI
 * artifact manifest of image-spec 1.1.0-rc2 (read and copied, never written by skiff).
 */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return (
    isIndexMediaType(mediaType) ||
    isImageManifestMediaType(mediaType) ||
    mediaType === MediaType.ociArtifactManifest
  );
}

/** Accept header for manifest requests: registries answer 404 without an OCI type here. */
export const manifestAccept = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociArtifactManifest,
].join(", ");

// RFC 6838 type/subtype with an optional +suffix and parameters.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(;.*)?$/;

/** True when `value` has the shape `type/subtype` of a media type. */
export function isValidMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/**
 * True for the media type of a descriptor as ORAS writes it: printable text without spaces, so a
 * layer typed `layer.type` too. Descriptors are read (and `FILE:TYPE` taken) this leniently, so
 * artifacts that other clients made stay readable (artifact types too: ORAS 1.0 wrote
 * `test.signature.file`); what skiff writes as an artifact type must be a media type, as in ORAS.
 */
export function isLenientMediaType(value: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(value);
}
