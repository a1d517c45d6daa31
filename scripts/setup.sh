#!/usr/bin/env bash
# Sets up a Debian 12 (or similar) machine to build and test skiff, installing only what is missing:
# the Debian packages below, then the pinned npm dependencies with `npm ci`. README command (a) and
# .ci/run both call it.
#   - apt-get runs through sudo only when not root, and only when something is missing;
#   - Node.js and npm come from apt only when absent (Debian's npm conflicts with a Node.js that
#     brings its own npm, such as NodeSource's).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# What the tests and the release build run -> the Debian package that provides it.
declare -A provider=(
  [node]=nodejs
  [npm]=npm
  [git]=git
  [curl]=curl
  [wget]=wget
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [openssl]=openssl
  [htpasswd]=apache2-utils
  [tmux]=tmux
  [xz]=xz-utils
  [zip]=zip
  [unzip]=unzip
  [file]=file
  # the arm64 and Windows smoke tests (tests/e2e/cross-*.test.ts)
  [qemu-aarch64]=qemu-user
  [x86_64-w64-mingw32-gcc]=gcc-mingw-w64-x86-64
)
missing=()
for command in "${!provider[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${provider[$command]}")
done
# Files rather than commands: the arm64 C library for qemu, and Debian's wine64 (not on PATH).
[[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || missing+=(libc6-arm64-cross)
command -v wine64 >/dev/null 2>&1 || [[ -x /usr/lib/wine/wine64 ]] || missing+=(wine64)

if ((${#missing[@]} == 0)); then
  step "system packages already present"
else
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  step "apt-get install ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "setup: ${missing[*]} must be installed, which needs root: run this as root, or install sudo" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends ca-certificates "${missing[@]}" </dev/null
fi

step "npm ci"
npm ci --no-audit --no-fund </dev/null
