import { SkiffError } from "../errors.ts";
import type { Reference } from "../oci/reference.ts";
import { openLayout } from "./layout/index.ts";
import { openRegistry } from "./registry/index.ts";
import type { ReferrersMode } from "./registry/referrers.ts";
import type { Store } from "./target.ts";

/** How to reach and authenticate to one registry (from the CLI's remote flags). */
export interface RemoteSettings {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`--identity-token`). */
  identityToken?: string;
  /** `--plain-http`; undefined means "automatic" (plain HTTP for localhost, like ORAS). */
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** `--resolve host:port:address[:port]` entries. */
  resolve?: string[];
  /** `-H 'Name: value'` headers, sent only to this registry. */
  headers?: string[];
  /** `--registry-config PATH` files, in order; default: the docker config. */
  registryConfigs?: string[];
  /** Receives `--debug` lines (already scrubbed of secrets). */
  debug?: (line: string) => void;
}

export interface OpenTargetOptions {
  remote?: RemoteSettings;
  /** The command writes to the target: a layout directory is created when missing; tars are refused. */
  forWriting?: boolean;
  /** `--distribution-spec` for a registry: only the referrers API, or only the tag schema. */
  referrers?: ReferrersMode;
}

/** Opens the place a reference names: a layout directory or tar, or a registry repository. */
export async function openTarget(ref: Reference, options: OpenTargetOptions = {}): Promise<Store> {
  if (ref.kind === "layout") {
    // Headers go to registries only: a layout target with them is a mistake worth saying (ORAS too).
    if (options.remote?.headers?.length) {
      throw new SkiffError(
        "USAGE",
        `custom headers (-H/--header) cannot be used on an OCI layout target: ${ref.path}`,
        "drop -H, or name a registry reference",
      );
    }
    const target = await openLayout(ref.path, { create: options.forWriting ?? false });
    if (options.forWriting && !target.writable) {
      throw new SkiffError(
        "UNSUPPORTED",
        `cannot write to ${ref.path}: layout tar archives are read-only`,
        "write to a layout directory instead, then tar it",
      );
    }
    return target;
  }
  return openRegistry(ref, options.remote ?? {}, {
    forWriting: options.forWriting ?? false,
    ...(options.referrers ? { referrers: options.referrers } : {}),
  });
}
