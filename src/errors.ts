/** Exit codes, documented in docs/EXIT-CODES.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  /** As in ORAS, a usage error exits 1 too; its `Usage:` line on stderr tells it apart. */
  usage: 1,
  interrupted: 130,
  /** stdout or stderr closed by its reader (`| head`): what a shell reports for a CLI killed by SIGPIPE. */
  brokenPipe: 141,
} as const;

/** Stable error codes, so tests and scripts can tell failures apart without parsing prose. */
type ErrorCode =
  | "USAGE"
  | "INVALID_REFERENCE"
  | "INVALID_DIGEST"
  | "INVALID_PLATFORM"
  | "INVALID_MANIFEST"
  | "INVALID_LAYOUT"
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "AMBIGUOUS"
  | "NO_MATCH"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "TOO_LARGE"
  | "UNSAFE_PATH"
  | "FILE_EXISTS"
  | "UNAUTHORIZED"
  | "DENIED"
  | "TOO_MANY_REQUESTS"
  | "REGISTRY"
  | "NETWORK"
  | "TLS"
  | "CREDENTIALS"
  | "UNSUPPORTED"
  | "IO";

/**
 * The one error type skiff throws on purpose. `message` says what failed on which
 * reference, file or digest; `hint` (optional) says what to do about it.
 */
export class SkiffError extends Error {
  override readonly name = "SkiffError";
  /** What the printed line starts with instead of `Error` (ORAS's `Error from destination registry for "REF"`). */
  readonly heading?: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; heading?: string },
  ) {
    super(message, options);
    if (options?.heading !== undefined) this.heading = options.heading;
  }

  /** The exit code the CLI uses for this error. */
  get exitCode(): number {
    return this.isUsage ? ExitCode.usage : ExitCode.failure;
  }

  /** A usage error: the command line itself is wrong, so the command's usage line follows it. */
  get isUsage(): boolean {
    return this.code === "USAGE";
  }
}

/** Wraps anything thrown into a SkiffError, keeping SkiffErrors as they are. */
export function asSkiffError(error: unknown, context?: string): SkiffError {
  if (error instanceof SkiffError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new SkiffError("IO", context ? `${context}: ${text}` : text, undefined, { cause: error });
}
