import { SkiffError } from "../../errors.ts";
import { referenceName } from "../../oci/reference.ts";
import { type Register, withFlags } from "../command.ts";
import {
  commonFlags,
  layoutFlags,
  openOptions,
  parseConcurrency,
  referenceArgument,
  remoteFlags,
  verboseFlags,
} from "../flags.ts";
import { describeTarget } from "../output/status.ts";

export const registerTag: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Give a manifest or index more tags, in a registry or an OCI layout directory, without copying or changing it. Name it by tag or digest, or, in a layout that holds one manifest, by no tag at all.",
      )
      .argument("<source>", "the manifest: host/repo:tag|@digest, or a layout PATH[:tag|@digest]")
      // Optional for commander, checked below: `skiff tag list` then gets the hint it needs.
      .argument("[tags...]", "new tags, or full references host/repo:tag (in a layout, kept as ref names)")
      .option("--concurrency <n>", "tags written at once", "5"),
    layoutFlags,
    remoteFlags,
    commonFlags,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
Examples:
  # Two more tags for a tagged manifest
  skiff tag localhost:5000/hello:v1.0.1 v1.0.2 latest
  # Tag a manifest known by digest
  skiff tag localhost:5000/hello@sha256:9463e0d1... v1.0.2
  # Tag the only manifest of a layout (no tag needed)
  skiff tag oci-layout://./layout v1
  # Another tag in a layout
  skiff tag --oci-layout ./layout:v1 stable
  # Full references as tags: the source's repository, or in a layout any ref name
  skiff tag localhost:5000/hello:v1 localhost:5000/hello:v2
  skiff tag --oci-layout ./layout:v1 registry.example/app:v1`,
    )
    .action(async (sourceText, tags, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { tagReference } = await import("../../ops/tag.ts");
      if (sourceText === "list" || sourceText === "ls") {
        throw new SkiffError(
          "USAGE",
          `there is no "${sourceText}" sub-command for "skiff tag" command`,
          flags.ociLayout || flags.ociLayoutPath !== undefined
            ? 'to list the tags of an OCI image layout, use "skiff repo tags --oci-layout PATH"'
            : 'to list the tags of a repository, use "skiff repo tags"',
        );
      }
      if (tags.length === 0) throw new SkiffError("USAGE", "missing required argument 'tags'");
      let ref: ReturnType<typeof referenceArgument>;
      try {
        ref = referenceArgument(sourceText, flags);
      } catch (error) {
        // ORAS's words first, so scripts that look for them find them.
        if (!(error instanceof SkiffError)) throw error;
        throw new SkiffError(error.code, `unable to add tag: ${error.message}`, error.hint, { cause: error });
      }
      const target = await openTarget(ref, openOptions(flags, console));
      let announced = false;
      await tagReference(target, ref, tags, {
        concurrency: parseConcurrency(flags.concurrency, 5),
        listener: (event) => {
          if (event.type !== "status") return;
          if (!announced) {
            announced = true;
            console.out(`Tagging ${describeTarget(ref, `${referenceName(ref)}@${event.desc.digest}`)}\n`);
          }
          console.out(`Tagged ${event.text}\n`);
        },
      });
    });
};
