import { asSkiffError, SkiffError } from "../../errors.ts";
import { referenceName } from "../../oci/reference.ts";
import { type Register, withFlags } from "../command.ts";
import {
  openOptions,
  platformFlag,
  platformFlags,
  referenceArgument,
  TARGET_FLAGS,
  verboseFlags,
} from "../flags.ts";

export const registerResolve: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Print the digest a reference points to, downloading nothing else: a tag in a registry or in an OCI layout (directory or tar), or, in a layout that holds one manifest, no tag at all. With --platform an index resolves to that platform's manifest; -l prints name@digest, ready for the next command.",
      )
      .argument("<reference>", "host/repo:tag, or a layout PATH[:tag] (oci-layout://PATH or --oci-layout)")
      .option("-l, --full-reference", "print the full reference (name@digest)"),
    platformFlags("resolve to this platform's manifest: os/arch[/variant][:os.version]"),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # The digest of a tag
  skiff resolve localhost:5000/app:v1
  # The only manifest of a layout (no tag needed), as name@digest
  skiff resolve -l oci-layout://./out
  # The linux/arm64/v8 el8 manifest of an index
  skiff resolve --platform linux/arm64/v8:el8 localhost:5000/app:1.2
  # A tag in a layout tar
  skiff resolve --oci-layout ./layout.tar:v1`,
    )
    .action(async (text, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { resolveReference } = await import("../../ops/resolve.ts");
      const ref = referenceArgument(text, flags);
      const platform = platformFlag(flags);
      // Opening pings the registry: unreachable, TLS and credential failures are ORAS's
      // `failed to resolve digest:` too.
      const { desc } = await openTarget(ref, openOptions(flags, console))
        .then((target) => resolveReference(target, ref, platform ? { platform } : {}))
        .catch((error: unknown) => Promise.reject(failedToResolve(error)));
      console.out(flags.fullReference ? `${referenceName(ref)}@${desc.digest}\n` : `${desc.digest}\n`);
    });
};

/**
 * ORAS's phrase first (`failed to resolve digest: ...`, scripts grep for it), skiff's hint kept.
 * A reference that cannot name anything (no tag or digest, invalid) keeps its own message, as in
 * ORAS, and so do a flag's file that cannot be used (INVALID_INPUT: a CA file without a
 * certificate) and a setting this runtime cannot apply (UNSUPPORTED): nothing was looked up.
 */
function failedToResolve(error: unknown): SkiffError {
  const failure = asSkiffError(error);
  if (
    failure.isUsage ||
    failure.code === "INVALID_REFERENCE" ||
    failure.code === "INVALID_INPUT" ||
    failure.code === "UNSUPPORTED"
  ) {
    return failure;
  }
  return new SkiffError(failure.code, `failed to resolve digest: ${failure.message}`, failure.hint, {
    cause: error,
    ...(failure.heading !== undefined ? { heading: failure.heading } : {}),
  });
}
