/**
 * attach: pushes an artifact whose manifest has a `subject`, making it a referrer of that
 * manifest. The subject is found through the one resolver (tags, digests, tagless layouts,
 * `--platform`). Publishing it is the store's bookkeeping: registries without the referrers API get
 * their `<alg>-<hex>` fallback index updated, layouts an untagged `index.json` entry.
 */
import type { Target } from "../content/target.ts";
import { asSkiffError, SkiffError } from "../errors.ts";
import { type Descriptor, plainDescriptor } from "../oci/descriptor.ts";
import type { Platform } from "../oci/platform.ts";
import type { Reference } from "../oci/reference.ts";
import { type PushOptions, type PushResult, pushArtifact } from "./push.ts";
import { resolveReference } from "./resolve.ts";

/** Options of {@link attachArtifact}; `artifactType` is required (ORAS). */
interface AttachOptions extends Omit<PushOptions, "tags" | "subject" | "imageSpec"> {
  artifactType: string;
  /** Attach to this platform's manifest when the subject is an index. */
  platform?: Platform;
}

/** What attach made: the referrer manifest and the subject it points at. */
interface AttachResult extends PushResult {
  subject: Descriptor;
}

/** Refuses an attach without files and manifest annotations (an empty referrer says nothing). */
export function checkSomethingToAttach(options: Pick<AttachOptions, "files" | "annotations">): void {
  const hasAnnotations = Object.keys(options.annotations?.manifest ?? {}).length > 0;
  if ((options.files ?? []).length === 0 && !hasAnnotations) {
    throw new SkiffError(
      "USAGE",
      "neither file nor annotation provided in the command: nothing to attach",
      "give at least one file or a manifest annotation (-a key=value) to attach",
    );
  }
}

/**
 * Attaches files and annotations to the manifest `subject` names in `target`. At least one file or
 * one manifest annotation is needed (an empty referrer says nothing).
 */
export async function attachArtifact(
  target: Target,
  subject: Reference,
  options: AttachOptions,
): Promise<AttachResult> {
  if (!options.artifactType) {
    throw new SkiffError(
      "USAGE",
      "missing artifact type: attach needs --artifact-type",
      "e.g. --artifact-type application/vnd.example.sbom.v1",
    );
  }
  checkSomethingToAttach(options);
  const resolveOptions = options.platform ? { platform: options.platform } : {};
  const resolved = await resolveReference(target, subject, resolveOptions).catch((error: unknown) => {
    throw failedToResolve(error, subject);
  });
  const subjectDesc = plainDescriptor(resolved.desc);
  const { platform: _platform, ...pushOptions } = options;
  const result = await pushArtifact(target, { ...pushOptions, subject: subjectDesc, imageSpec: "v1.1" });
  return { ...result, subject: subjectDesc };
}

/**
 * ORAS's words before a subject that cannot be found or reached (`failed to resolve v1: ...`, the
 * tag or digest as given); a reference that cannot name anything keeps its own message.
 */
function failedToResolve(error: unknown, subject: Reference): unknown {
  const failure = asSkiffError(error);
  const named = subject.digest ?? subject.tag;
  if (named === undefined || failure.isUsage || failure.code === "INVALID_REFERENCE") return error;
  return new SkiffError(failure.code, `failed to resolve ${named}: ${failure.message}`, failure.hint, {
    cause: error,
    ...(failure.heading !== undefined ? { heading: failure.heading } : {}),
  });
}
