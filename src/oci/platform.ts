import { SkiffError } from "../errors.ts";

/** An OCI platform object; field names are the spec's JSON names. */
export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = {
  aarch64: "arm64",
  x86_64: "amd64",
  "x86-64": "amd64",
  i386: "386",
  i686: "386",
  armhf: "arm",
  armel: "arm",
};
const DEFAULT_VARIANT: Record<string, string> = { arm64: "v8" };
const NAME = /^[A-Za-z0-9_.-]+$/;

export function normalizeArchitecture(arch: string): string {
  const lower = arch.toLowerCase();
  // Own keys only: "constructor" or "__proto__" must not pick up Object.prototype members.
  return Object.hasOwn(ARCH_ALIASES, lower) ? ARCH_ALIASES[lower]! : lower;
}

/**
 * Parses `os[/arch[/variant]][:os.version]`, e.g. `linux/arm64/v8:el8`.
 * A missing architecture is `hostArchitecture` (ORAS's rule).
 */
export function parsePlatform(text: string, hostArchitecture = "amd64"): Platform {
  const bad = (why: string): never => {
    throw new SkiffError(
      "INVALID_PLATFORM",
      `invalid platform "${text}": ${why}`,
      "use os/arch[/variant][:os.version], e.g. linux/arm64/v8:el8",
    );
  };
  const colon = text.indexOf(":");
  const head = colon === -1 ? text : text.slice(0, colon);
  const osVersion = colon === -1 ? undefined : text.slice(colon + 1);
  if (osVersion !== undefined && (osVersion === "" || /[\s/]/.test(osVersion)))
    bad("empty or malformed os.version");
  const parts = head.split("/");
  if (parts.length > 3) bad("too many '/' parts");
  const [os, arch, variant] = parts;
  if (!os || !NAME.test(os)) bad("missing or malformed os");
  if (arch !== undefined && !NAME.test(arch)) bad("malformed architecture");
  if (variant !== undefined && !NAME.test(variant)) bad("malformed variant");
  const platform: Platform = {
    architecture: normalizeArchitecture(arch ?? hostArchitecture),
    os: os!.toLowerCase(),
  };
  if (variant !== undefined) platform.variant = variant.toLowerCase();
  if (osVersion !== undefined) platform["os.version"] = osVersion;
  return platform;
}

/** The text form accepted by {@link parsePlatform}. */
export function formatPlatform(platform: Platform): string {
  let text = `${platform.os}/${platform.architecture}`;
  if (platform.variant) text += `/${platform.variant}`;
  if (platform["os.version"]) text += `:${platform["os.version"]}`;
  return text;
}

/** Validates a platform object from JSON (a descriptor's `platform` or an image config). */
export function parsePlatformObject(value: unknown, where: string): Platform {
  const fail = (problem: string): never => {
    throw new SkiffError("INVALID_MANIFEST", `${where}: ${problem}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("must be an object");
  const json = value as Record<string, unknown>;
  const { os, architecture, variant } = json;
  const osVersion = json["os.version"];
  const osFeatures = json["os.features"];
  if (typeof os !== "string" || os === "") fail("os must be a non-empty string");
  if (typeof architecture !== "string" || architecture === "")
    fail("architecture must be a non-empty string");
  const platform: Platform = { architecture: architecture as string, os: os as string };
  if (variant !== undefined) {
    if (typeof variant !== "string") fail("variant must be a string");
    if (variant !== "") platform.variant = variant as string;
  }
  if (osVersion !== undefined) {
    if (typeof osVersion !== "string") fail("os.version must be a string");
    if (osVersion !== "") platform["os.version"] = osVersion as string;
  }
  if (osFeatures !== undefined) {
    if (!Array.isArray(osFeatures) || osFeatures.some((f) => typeof f !== "string")) {
      fail("os.features must be an array of strings");
    }
    if ((osFeatures as string[]).length > 0) platform["os.features"] = osFeatures as string[];
  }
  return platform;
}

function variantOf(platform: Platform): string | undefined {
  const arch = normalizeArchitecture(platform.architecture);
  return (
    platform.variant?.toLowerCase() ??
    (Object.hasOwn(DEFAULT_VARIANT, arch) ? DEFAULT_VARIANT[arch] : undefined)
  );
}

// Windows builds are compared on major.minor.build; the revision does not change compatibility.
function sameOsVersion(os: string, wanted: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (os === "windows")
    return wanted.split(".").slice(0, 3).join(".") === actual.split(".").slice(0, 3).join(".");
  return wanted === actual;
}

/**
 * True when `candidate` satisfies `wanted`: os and architecture exactly (after normalizing
 * aliases), variant and os.version only when wanted names them, wanted os.features a subset.
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os.toLowerCase() !== candidate.os.toLowerCase()) return false;
  if (normalizeArchitecture(wanted.architecture) !== normalizeArchitecture(candidate.architecture))
    return false;
  if (wanted.variant !== undefined && variantOf(wanted) !== variantOf(candidate)) return false;
  const osVersion = wanted["os.version"];
  if (
    osVersion !== undefined &&
    !sameOsVersion(wanted.os.toLowerCase(), osVersion, candidate["os.version"])
  ) {
    return false;
  }
  const features = wanted["os.features"] ?? [];
  const have = new Set(candidate["os.features"] ?? []);
  return features.every((feature) => have.has(feature));
}

/** True when both describe the same platform (used to refuse duplicate index entries). */
export function samePlatform(a: Platform, b: Platform): boolean {
  return (
    a.os.toLowerCase() === b.os.toLowerCase() &&
    normalizeArchitecture(a.architecture) === normalizeArchitecture(b.architecture) &&
    variantOf(a) === variantOf(b) &&
    (a["os.version"] ?? "") === (b["os.version"] ?? "") &&
    [...(a["os.features"] ?? [])].sort().join(",") === [...(b["os.features"] ?? [])].sort().join(",")
  );
}
