// Filled in by scripts/build.ts through `bun build --define`; absent under `bun run`/`deno run`.
declare const SKIFF_BUILD_COMMIT: string | undefined;

export const VERSION = "0.1.0";

export function buildCommit(): string {
  return typeof SKIFF_BUILD_COMMIT === "string" ? SKIFF_BUILD_COMMIT : "unknown (not a release build)";
}
