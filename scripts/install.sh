#!/bin/sh
# skiff installer: downloads the skiff binary for this OS and CPU, verifies it against SHA256SUMS and
# installs it.
#
#   curl -fsSL https://raw.githubusercontent.com/skiff-oci/skiff/main/scripts/install.sh | sh
#   curl -fsSL https://raw.githubusercontent.com/skiff-oci/skiff/main/scripts/install.sh | sh -s -- --dir DIR
#
# Environment:
#   SKIFF_INSTALL_DIR  where to install (default: $HOME/.local/bin; --dir DIR wins)
#   SKIFF_VERSION      a release such as 0.1.0 (default: the latest release)
#   SKIFF_BASE_URL     where skiff-<os>-<arch> and SHA256SUMS are downloaded from (a mirror, or a
#                      local server); when set, SKIFF_VERSION is not used
set -eu

REPO_URL="https://github.com/skiff-oci/skiff/releases"

say() { printf 'skiff-install: %s\n' "$*"; }
fail() {
	printf 'skiff-install: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat <<EOF
Usage: install.sh [--dir DIR]

Installs skiff into DIR (default: \$SKIFF_INSTALL_DIR, else \$HOME/.local/bin).
Environment: SKIFF_INSTALL_DIR, SKIFF_VERSION, SKIFF_BASE_URL.
EOF
}

install_dir="${SKIFF_INSTALL_DIR:-}"
while [ $# -gt 0 ]; do
	case "$1" in
	--dir)
		[ $# -ge 2 ] || fail "--dir needs a directory"
		install_dir="$2"
		shift 2
		;;
	--dir=*)
		install_dir="${1#--dir=}"
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) fail "unknown argument: $1 (see --help)" ;;
	esac
done
if [ -z "$install_dir" ]; then
	[ -n "${HOME:-}" ] || fail "HOME is not set; pass --dir DIR"
	install_dir="$HOME/.local/bin"
fi

# --- what to download -------------------------------------------------------------------------------
os_name="$(uname -s)"
case "$os_name" in
Linux) os="linux" ;;
Darwin) os="darwin" ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) os="windows" ;;
*) fail "unsupported operating system: $os_name (skiff ships for Linux, macOS and Windows)" ;;
esac

cpu="$(uname -m)"
case "$cpu" in
x86_64 | amd64) arch="x64" ;;
aarch64 | arm64) arch="arm64" ;;
*) fail "unsupported CPU: $cpu (skiff ships for x86_64 and arm64)" ;;
esac
if [ "$os" = "windows" ] && [ "$arch" != "x64" ]; then
	fail "unsupported CPU for Windows: $cpu (skiff ships for Windows on x86_64)"
fi

exe=""
[ "$os" = "windows" ] && exe=".exe"
asset="skiff-${os}-${arch}${exe}"
target="skiff${exe}"

if [ -n "${SKIFF_BASE_URL:-}" ]; then
	base_url="${SKIFF_BASE_URL%/}"
elif [ -n "${SKIFF_VERSION:-}" ]; then
	base_url="$REPO_URL/download/v${SKIFF_VERSION#v}"
else
	base_url="$REPO_URL/latest/download"
fi

# --- tools ------------------------------------------------------------------------------------------
if command -v curl >/dev/null 2>&1; then
	download() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
	download() { wget -q -O "$2" "$1"; }
else
	fail "neither curl nor wget is installed"
fi

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
	fail "neither sha256sum nor shasum is installed; cannot verify the download"
fi

# --- download and verify ----------------------------------------------------------------------------
work="$(mktemp -d 2>/dev/null || mktemp -d -t skiff-install)"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "downloading $asset from $base_url"
download "$base_url/$asset" "$work/$asset" || fail "could not download $base_url/$asset"
download "$base_url/SHA256SUMS" "$work/SHA256SUMS" || fail "could not download $base_url/SHA256SUMS"

# Lines are "<hex>  <name>" (or "<hex> *<name>" in binary mode).
expected="$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS has no checksum for $asset; refusing to install"
actual="$(sha256 "$work/$asset")"
if [ "$actual" != "$expected" ]; then
	fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual. The file is corrupt or was tampered with; refusing to install."
fi
say "checksum verified (sha256 $actual)"

# --- install ----------------------------------------------------------------------------------------
mkdir -p "$install_dir" || fail "cannot create $install_dir"
# Copy next to the target first, then rename: a running old skiff is never overwritten in place, and
# an interrupted install leaves no half-written binary under the real name.
staged="$install_dir/.$target.tmp.$$"
cp "$work/$asset" "$staged" || fail "cannot write to $install_dir (try --dir or sudo)"
if ! chmod 755 "$staged" || ! mv -f "$staged" "$install_dir/$target"; then
	rm -f "$staged"
	fail "cannot install into $install_dir/$target"
fi
say "installed $install_dir/$target"

case ":${PATH:-}:" in
*":$install_dir:"* | *":${install_dir%/}:"*) say "run: $target version" ;;
*)
	say "$install_dir is not on your PATH. Add it with:"
	printf '\n    export PATH="%s:$PATH"\n\n' "$install_dir"
	say "(put that line into ~/.profile, ~/.bashrc or ~/.zshrc to keep it)"
	;;
esac
