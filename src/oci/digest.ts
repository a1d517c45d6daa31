import { SkiffError } from "../errors.ts";

/** A content digest, `alg:encoded`, validated by {@link parseDigest}. */
export type Digest = string;

/** Algorithms skiff can compute, with the exact length of their hex encoding. */
const digestAlgorithms = { sha256: 64, sha512: 128 } as const;
type DigestAlgorithm = keyof typeof digestAlgorithms;

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

interface ParsedDigest {
  algorithm: DigestAlgorithm;
  encoded: string;
}

/** Parses and validates a digest: a known algorithm and lowercase hex of the exact length. */
export function parseDigest(value: string, what = "digest"): ParsedDigest {
  const match = DIGEST_SHAPE.exec(value);
  if (!match) {
    throw new SkiffError(
      "INVALID_DIGEST",
      `invalid ${what} "${value}": expected ALGORITHM:HEX, e.g. sha256:...`,
    );
  }
  const algorithm = match[1]!;
  const encoded = match[2]!;
  if (!Object.hasOwn(digestAlgorithms, algorithm)) {
    throw new SkiffError(
      "INVALID_DIGEST",
      `unsupported digest algorithm "${algorithm}" in ${what} "${value}": skiff supports sha256 and sha512`,
    );
  }
  const length = digestAlgorithms[algorithm as DigestAlgorithm];
  if (encoded.length !== length || !/^[0-9a-f]+$/.test(encoded)) {
    throw new SkiffError(
      "INVALID_DIGEST",
      `invalid ${what} "${value}": ${algorithm} needs ${length} lowercase hex characters`,
    );
  }
  return { algorithm: algorithm as DigestAlgorithm, encoded };
}

/** True when `value` is a valid digest skiff can verify. */
export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

/** The 12-character short form ORAS prints in status lines. */
export function shortDigest(digest: Digest): string {
  const colon = digest.indexOf(":");
  return digest.slice(colon + 1, colon + 13);
}
