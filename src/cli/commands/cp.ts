/**
 * `cp`/`copy SRC DST[:t1,t2]`: copy an artifact and its whole graph between registries, layout
 * directories and layout tars (as sources), with ORAS's `--from-*`/`--to-*` flags.
 */
import { stat } from "node:fs/promises";
import { asSkiffError, SkiffError } from "../../errors.ts";
import { formatReference, type Reference } from "../../oci/reference.ts";
import { type Register, type Side, sided, sideFlags, withFlags, withProgress } from "../command.ts";
import {
  collect,
  commonFlags,
  distributionSpecFlags,
  formatFlags,
  layoutFlags,
  openOptions,
  parseConcurrency,
  platformFlag,
  platformFlags,
  referenceArgument,
  refuseExclusiveCredentials,
  remoteFlags,
  verboseFlags,
} from "../flags.ts";
import { pinnedName, taggedName } from "../output/descriptors.ts";
import { descriptorJson, parseFormat, writeResult } from "../output/format.ts";
import { copiedLines, pathFlagText } from "../output/status.ts";

const TAR_NAME = /\.(tar|tar\.gz|tgz)$/i;

/**
 * Refuses a layout tar as destination before any work: an existing file, or a new path named
 * like a tar (which would otherwise become a directory called `x.tar`).
 */
async function refuseTarDestination(ref: Reference): Promise<void> {
  if (ref.kind !== "layout") return;
  let isFile = false;
  try {
    isFile = (await stat(ref.path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
    isFile = TAR_NAME.test(ref.path);
  }
  if (isFile) {
    throw new SkiffError(
      "UNSUPPORTED",
      `cannot copy into ${ref.path}: layout tar archives are read-only to skiff cp`,
      `copy into a layout directory instead, or write a tar with: skiff backup --output ${ref.path} SOURCE`,
    );
  }
}

/**
 * Tells the two sides' errors apart, as ORAS does (`Error from source registry for "REF": ...`,
 * `Error from destination oci-layout for "REF": ...`). The target is watched, not changed: the
 * copy sees every error as it is, and only the one that ends the command is relabelled.
 */
/**
 * Destination calls that run both sides at once (a worker downloads the source's blob into the
 * destination's file, or uploads the source's file): what fails there is neither side's alone.
 */
const BOTH_SIDES = new Set<PropertyKey>(["fillBlob", "uploadFile"]);

function sideErrors(side: "source" | "destination", ref: Reference, text: string) {
  const seen = new WeakSet<object>();
  const note = (error: unknown): unknown => {
    if (error instanceof Error) seen.add(error);
    return error;
  };
  const kind = ref.kind === "registry" ? "registry" : "oci-layout";
  return {
    note,
    watch<T extends object>(target: T): T {
      return new Proxy(target, {
        get(object, key) {
          const value: unknown = Reflect.get(object, key, object);
          if (typeof value !== "function") return value;
          if (BOTH_SIDES.has(key)) return value.bind(object);
          return (...args: unknown[]) => {
            try {
              const result: unknown = value.apply(object, args);
              return result instanceof Promise
                ? result.catch((error: unknown) => {
                    throw note(error);
                  })
                : result;
            } catch (error) {
              throw note(error);
            }
          };
        },
      });
    },
    /**
     * `error` with this side's heading when this side threw it, or an error it caused (a source's
     * read that failed while the destination wrote); undefined otherwise.
     */
    blame(error: unknown): SkiffError | undefined {
      for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
        if (!seen.has(cause)) continue;
        const { code, message, hint } = asSkiffError(error);
        return new SkiffError(code, message, hint, {
          cause: error,
          heading: `Error from ${side} ${kind} for ${JSON.stringify(text)}`,
        });
      }
      return undefined;
    },
  };
}

export const registerCopy: Register = (command, console) => {
  withFlags(
    command
      .description(
        "Copy an artifact with everything it references (nested indexes, manifests, configs, layers) from one place to another: registry to registry, registry to OCI layout, layout or layout tar to registry, layout to layout. Blobs the destination has are skipped, and with -r the referrers (signatures, SBOMs) come along.",
      )
      .argument(
        "<from>",
        "source: host/repo:tag|@digest, or a layout PATH[:tag|@digest] (oci-layout://PATH or --from-oci-layout; a tar works)",
      )
      .argument(
        "<to>",
        "destination: host/repo[:tag1,tag2], or a layout directory PATH[:tag1,tag2] (oci-layout://PATH or --to-oci-layout)",
      )
      .option("-r, --recursive", "also copy the referrers, of index children too, and theirs")
      .option("--concurrency <n>", "blobs copied at once", "3")
      .option(
        "--resolve <host:port:address[:port]>",
        "resolve a host to an address on both sides (--from-resolve and --to-resolve win for theirs)",
        collect,
      ),
    platformFlags("copy only this platform's manifest of an index (and tag it)"),
    formatFlags(),
    sided(layoutFlags, "from"),
    sided(layoutFlags, "to"),
    sided(remoteFlags, "from"),
    sided(remoteFlags, "to"),
    sided(distributionSpecFlags, "from"),
    sided(distributionSpecFlags, "to"),
    commonFlags,
    verboseFlags,
  )
    .addHelpText(
      "after",
      `
The whole graph is copied (nested indexes, every platform) unless --platform selects one manifest.
Blobs the destination has are skipped (Exists); between two repositories of one registry they are
mounted (Mounted), not uploaded again. Without a destination tag the copy is by digest: nothing
is tagged (a layout gets an untagged index.json entry), however the source was named. A layout source without tag or digest is resolved like pull does (its only manifest, or the
only --platform match). Layout tars can be read but not written: use skiff backup --output X.tar.

Examples:
  # Promote a build: copy a tag to another tag of the same registry (blobs are mounted)
  skiff cp localhost:5000/repo:mr-1234-1.2-abc123 localhost:5000/repo:1.2
  # Push the only manifest of a layout (no tag needed) to a registry tag
  skiff cp oci-layout://./merged localhost:5000/repo:mr-1234-1.2-abc123
  # Copy an artifact and its referrers into a layout directory
  skiff cp -r localhost:5000/app:v1 --to-oci-layout ./backup:v1
  # Copy from a layout tar to a registry
  skiff cp --from-oci-layout ./image.tar:v1 localhost:5000/app:v1
  # Copy only the linux/arm64/v8 el8 manifest of an index
  skiff cp --platform linux/arm64/v8:el8 localhost:5000/repo:1.2 oci-layout://./arm-el8`,
    )
    .action(async (fromText, toText, flags) => {
      const { openTarget } = await import("../../content/open.ts");
      const { copyReference } = await import("../../ops/copy.ts");
      /**
       * One side's flags, `--debug`, and `--resolve` (both sides): the side's own entries come
       * first, so for the same host and port `--from-resolve`/`--to-resolve` win, as in ORAS.
       */
      const side = (name: Side) => {
        const own = sideFlags(flags, name);
        const resolve = [...(own.resolve ?? []), ...(flags.resolve ?? [])];
        return { ...own, debug: flags.debug, resolve: resolve.length > 0 ? resolve : undefined };
      };
      const from = side("from");
      const to = side("to");
      refuseExclusiveCredentials(from, "from-");
      refuseExclusiveCredentials(to, "to-");

      const format = parseFormat(flags);
      const sourceRef = referenceArgument(fromText, from);
      if (sourceRef.tags.length > 1) {
        throw new SkiffError("USAGE", `the source is one reference, not a tag list ("${fromText}")`);
      }
      const destinationRef = referenceArgument(toText, to, true);
      const platform = platformFlag(flags);
      const concurrency = parseConcurrency(flags.concurrency, 3);
      await refuseTarDestination(destinationRef);

      const fromSource = sideErrors("source", sourceRef, fromText);
      const fromDestination = sideErrors("destination", destinationRef, toText);
      // A registry is reached when opened (its side's error); a layout's path errors are the command line's.
      const open = <T extends object>(
        ref: Reference,
        opened: Promise<T>,
        side: ReturnType<typeof sideErrors>,
      ) =>
        opened.then(
          (target) => side.watch(target),
          (error: unknown) => Promise.reject(ref.kind === "registry" ? side.note(error) : error),
        );
      const copy = async () => {
        const source = await open(sourceRef, openTarget(sourceRef, openOptions(from, console)), fromSource);
        const destination = await open(
          destinationRef,
          openTarget(destinationRef, openOptions(to, console, true)),
          fromDestination,
        );
        return withProgress(console, { verb: "copy", format, flags }, (listener) =>
          copyReference(source, sourceRef, destination, destinationRef, {
            tags: destinationRef.tags,
            recursive: Boolean(flags.recursive),
            concurrency,
            listener,
            ...(platform ? { platform } : {}),
          }),
        );
      };
      // Selecting a platform of the source fails in the op, not in a target call: the source's too.
      const platformMiss = (error: unknown) =>
        error instanceof SkiffError && (error.code === "NO_MATCH" || error.code === "AMBIGUOUS");
      const result = await copy().catch((error: unknown) => {
        const blamed =
          fromSource.blame(error) ??
          fromDestination.blame(error) ??
          (platformMiss(error) ? fromSource.blame(fromSource.note(error)) : undefined);
        return Promise.reject(blamed ?? error);
      });
      const { desc } = result;
      if (writeResult(console, format, descriptorJson(pinnedName(destinationRef, desc.digest), desc))) return;
      // ORAS: the first tag in the Copied line, a Tagged line for each other one.
      const [firstTag, ...moreTags] = result.tags;
      console.out(
        copiedLines(
          { ref: sourceRef, text: pathFlagText(sourceRef, sourceRef.tag) ?? formatReference(sourceRef) },
          {
            ref: destinationRef,
            text:
              pathFlagText(destinationRef, firstTag) ??
              taggedName(destinationRef, firstTag ? [firstTag] : [], desc.digest),
          },
          desc.digest,
          moreTags,
        ),
      );
    });
};
