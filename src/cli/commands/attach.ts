import { SkiffError } from "../../errors.ts";
import { formatReference, withDigest } from "../../oci/reference.ts";
import { type Register, withFlags, withProgress } from "../command.ts";
import { exportManifest } from "../files.ts";
import {
  distributionSpecFlags,
  formatFlags,
  openOptions,
  packingFlags,
  parseConcurrency,
  platformFlag,
  platformFlags,
  referenceArgument,
  reproducibility,
  requiredFlag,
  stdinOptions,
  TARGET_FLAGS,
  verboseFlags,
} from "../flags.ts";
import { pinnedName } from "../output/descriptors.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { describeTarget, emptyArtifactListener } from "../output/status.ts";

export const registerAttach: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Attach files (a signature, an SBOM, a note) to a manifest that already exists, as a new artifact whose subject is that manifest: the manifest itself does not change, skiff discover lists the new artifact and skiff cp -r copies it along. The subject can be in a registry or an OCI layout directory (there without a tag when the layout holds one manifest), and --platform picks one platform's manifest of an index.",
      )
      .argument(
        "<subject>",
        "the manifest to attach to: host/repo:tag|@digest, or a layout PATH[:tag|@digest]",
      )
      .argument("[files...]", "files and directories, each FILE[:mediaType]")
      .option("--artifact-type <type>", "artifact type of the referrer (required)"),
    platformFlags("attach to this platform's manifest of a multi-platform index"),
    packingFlags,
    distributionSpecFlags,
    formatFlags(),
    ...TARGET_FLAGS,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
On a registry without the referrers API, skiff updates the sha256-<hex> fallback tag itself. On a
layout, the referrer gets an untagged index.json entry, so discover finds it. A layout subject
needs no tag when the layout holds one manifest (or --platform picks one).

Examples:
  # Attach an SBOM to an artifact in a registry
  skiff attach --artifact-type application/spdx+json localhost:5000/app:v1 sbom.spdx.json
  # Attach a signature to the only manifest of a layout (no tag needed)
  skiff attach --artifact-type application/vnd.example.sig.v1 oci-layout://./out sig.txt
  # Attach a note, with an annotation, to the linux/arm64/v8 el8 manifest of an index
  skiff attach --artifact-type application/vnd.example.note.v1 -a reviewed=yes \\
    --platform linux/arm64/v8:el8 localhost:5000/app:1.2 note.txt`,
    )
    .action(async (subjectText, fileArgs, flags) => {
      const { loadAnnotations } = await import("../../ops/annotations.ts");
      const { parseFileArgument } = await import("../../ops/push.ts");
      const { attachArtifact, checkSomethingToAttach } = await import("../../ops/attach.ts");
      const { openTarget } = await import("../../content/open.ts");

      const artifactType = requiredFlag(
        flags.artifactType,
        "artifact-type",
        "pass --artifact-type TYPE, e.g. --artifact-type application/vnd.example.sbom.v1",
      );
      const format = parseFormat(flags);
      const ref = referenceArgument(subjectText, flags);
      if (ref.tags.length > 1) {
        throw new SkiffError("USAGE", `attach takes one subject, not a tag list ("${subjectText}")`);
      }
      if (ref.kind === "registry" && !ref.tag && !ref.digest) {
        throw new SkiffError(
          "USAGE",
          `"${subjectText}": no tag or digest specified`,
          fileArgs.length === 0
            ? "name the subject to attach to, then the files: SUBJECT:TAG or SUBJECT@DIGEST"
            : `add :TAG or @DIGEST to the subject, e.g. ${subjectText}:latest`,
        );
      }
      const concurrency = parseConcurrency(flags.concurrency, 5);
      const annotations = await loadAnnotations(flags.annotation ?? [], flags.annotationFile);
      const { created, mtime } = await reproducibility(flags);
      const platform = platformFlag(flags);
      const files = fileArgs.map(parseFileArgument);
      checkSomethingToAttach({ files, annotations });
      // The subject must already exist, so a missing layout is not created here.
      const target = await openTarget(ref, openOptions(flags, console));
      if (!target.writable) {
        throw new SkiffError(
          "UNSUPPORTED",
          `cannot attach to ${subjectText}: layout tar archives are read-only`,
          "extract the archive to a layout directory first",
        );
      }
      const options: Parameters<typeof attachArtifact>[2] = {
        artifactType,
        files,
        annotations,
        concurrency,
        created,
        disablePathValidation: Boolean(flags.disablePathValidation),
        warn: (text) => console.err(`warning: ${text}\n`),
        ...(await stdinOptions(fileArgs, flags)),
      };
      if (mtime !== undefined) options.mtime = mtime;
      if (platform) options.platform = platform;
      const result = await withProgress(console, { verb: "push", format, flags }, (shown, chosen) => {
        const listener =
          files.length === 0 && chosen.mode === "status"
            ? emptyArtifactListener(console, shown, true)
            : shown;
        return attachArtifact(target, ref, { ...options, listener });
      });
      await exportManifest(flags.exportManifest, result.bytes);
      if (writeResult(console, format, descriptorJson(pinnedName(ref, result.desc.digest), result.desc)))
        return;
      const subjectShown = formatReference(withDigest(ref, result.subject.digest));
      console.out(`Attached to ${describeTarget(ref, subjectShown)}\nDigest: ${result.desc.digest}\n`);
    });
};
