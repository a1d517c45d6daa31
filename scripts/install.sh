#!/bin/sh
# skiff installer: downloads the skiff release archive for this OS, CPU and libc, verifies it against
# SHA256SUMS, unpacks it and installs the binary.
#
#   curl -fsSL https://raw.githubusercontent.com/skiff-oci/skiff/main/scripts/install.sh | sh
#   curl -fsSL https://raw.githubusercontent.com/skiff-oci/skiff/main/scripts/install.sh | sh -s -- --dir DIR
#
# It takes skiff_<version>_<os>_<arch>.tar.xz when xz is there, else .tar.gz (.zip on Windows), and
# the raw binary skiff-<os>-<arch> only when the release has no archive it can unpack. On an x86_64
# Linux or Windows CPU without AVX2 it takes the -baseline build (the default one needs AVX2).
#
# Environment:
#   SKIFF_INSTALL_DIR  where to install (default: $HOME/.local/bin; --dir DIR wins)
#   SKIFF_VERSION      a release such as 0.1.0 (default: the latest release)
#   SKIFF_BASE_URL     where SHA256SUMS and the archives are downloaded from (a mirror, or a local
#                      server); when set, SKIFF_VERSION is not used
#   SKIFF_BASELINE=1   take the -baseline build whatever this CPU has (an image for older machines)
set -eu

REPO_URL="https://github.com/skiff-oci/skiff/releases"

say() { printf 'skiff-install: %s\n' "$*"; }
warn() { printf 'skiff-install: warning: %s\n' "$*" >&2; }
fail() {
	printf 'skiff-install: error: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
	cat <<EOF
Usage: install.sh [--dir DIR]

Installs skiff into DIR (default: \$SKIFF_INSTALL_DIR, else \$HOME/.local/bin).
Environment: SKIFF_INSTALL_DIR, SKIFF_VERSION, SKIFF_BASE_URL, SKIFF_BASELINE.
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
x86_64 | amd64) arch="x64" goarch="amd64" ;;
aarch64 | arm64) arch="arm64" goarch="arm64" ;;
*) fail "unsupported CPU: $cpu (skiff ships for x86_64 and arm64)" ;;
esac
if [ "$os" = "windows" ] && [ "$arch" != "x64" ]; then
	fail "unsupported CPU for Windows: $cpu (skiff ships for Windows on x86_64)"
fi

# musl (Alpine and friends): ldd says so, or there is a musl loader and no glibc one.
is_musl() {
	case "$(ldd --version 2>&1 || true)" in
	*musl*) return 0 ;;
	*GLIBC* | *"GNU libc"*) return 1 ;;
	esac
	for loader in /lib/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
		[ -e "$loader" ] && return 1
	done
	for loader in /lib/ld-musl-*.so.1; do
		[ -e "$loader" ] && return 0
	done
	return 1
}
libc=""
if [ "$os" = "linux" ] && is_musl; then
	libc="-musl"
fi

# Bun's default x86_64 runtime uses AVX2 ("Illegal instruction" without it); -baseline does not.
has_avx2() {
	[ -r /proc/cpuinfo ] || return 0
	awk '/^flags/ { for (i = 1; i <= NF; i++) if ($i == "avx2") found = 1 } END { exit !found }' /proc/cpuinfo
}
variant=""
if [ "$arch" = "x64" ] && [ "$os" != "darwin" ]; then
	if [ "${SKIFF_BASELINE:-}" = "1" ] || ! has_avx2; then
		variant="-baseline"
	fi
fi

exe=""
[ "$os" = "windows" ] && exe=".exe"
target="skiff${exe}"

if [ -n "${SKIFF_BASE_URL:-}" ]; then
	base_url="${SKIFF_BASE_URL%/}"
elif [ -n "${SKIFF_VERSION:-}" ]; then
	base_url="$REPO_URL/download/v${SKIFF_VERSION#v}"
else
	base_url="$REPO_URL/latest/download"
fi

# --- tools ------------------------------------------------------------------------------------------
if have curl; then
	download() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif have wget; then
	download() { wget -q -O "$2" "$1"; }
else
	fail "neither curl nor wget is installed"
fi

if have sha256sum; then
	sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif have shasum; then
	sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
	fail "neither sha256sum nor shasum is installed; cannot verify the download"
fi

# Archive kinds this machine can unpack, best first.
kinds=""
if [ "$os" = "windows" ]; then
	have unzip && kinds="zip"
elif have tar; then
	if have xz; then
		kinds="tar.xz" xzcat="xz -dc"
	elif have xzcat; then
		kinds="tar.xz" xzcat="xzcat"
	fi
	have gzip && kinds="$kinds tar.gz"
fi

# --- download and verify ----------------------------------------------------------------------------
work="$(mktemp -d 2>/dev/null || mktemp -d -t skiff-install)"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

download "$base_url/SHA256SUMS" "$work/SHA256SUMS" || fail "could not download $base_url/SHA256SUMS"

# Lines are "<hex>  <name>" (or "<hex> *<name>" in binary mode).
checksum_of() { awk -v name="$1" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS"; }
# The archive of this platform listed in SHA256SUMS: skiff_<version>_<platform>.<kind>.
archive_named() {
	awk -v suffix="_$platform.$1" '{
		name = $2; sub(/^\*/, "", name)
		if (substr(name, 1, 6) != "skiff_" || length(name) <= length(suffix)) next
		if (substr(name, length(name) - length(suffix) + 1) != suffix) next
		middle = substr(name, 7, length(name) - 6 - length(suffix))
		if (middle ~ /^[^_]+$/) { print name; exit }
	}' "$work/SHA256SUMS"
}

# Sets asset, kind (empty for the raw binary) and expected (empty when SHA256SUMS lists neither).
pick() {
	platform="${os}${libc}_${goarch}$1"
	raw_asset="skiff-${os}-${arch}${libc}$1${exe}"
	asset="" kind=""
	for candidate in $kinds; do
		asset="$(archive_named "$candidate")"
		if [ -n "$asset" ]; then
			kind="$candidate"
			break
		fi
	done
	if [ -z "$asset" ]; then
		if [ -n "$(archive_named tar.gz)$(archive_named tar.xz)$(archive_named zip)" ]; then
			say "no tool here unpacks the ${platform} archives (tar with xz or gzip; unzip on Windows); taking the raw binary"
		fi
		asset="$raw_asset"
	fi
	expected="$(checksum_of "$asset")"
}

pick "$variant"
if [ -z "$expected" ] && [ -n "$variant" ]; then
	warn "this release has no build for x86_64 without AVX2 ($platform); taking the default one, which needs AVX2 and stops with 'Illegal instruction' without it"
	pick ""
fi
[ -n "$expected" ] || fail "SHA256SUMS has no checksum for $asset (and no archive for $platform); refusing to install"

say "downloading $asset from $base_url"
download "$base_url/$asset" "$work/$asset" || fail "could not download $base_url/$asset"
actual="$(sha256 "$work/$asset")"
if [ "$actual" != "$expected" ]; then
	fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual. The file is corrupt or was tampered with; refusing to install."
fi
say "checksum verified (sha256 $actual)"

binary="$work/$asset"
if [ -n "$kind" ]; then
	mkdir "$work/unpacked"
	case "$kind" in
	tar.xz) $xzcat "$work/$asset" | (cd "$work/unpacked" && tar -xf -) ;;
	tar.gz) gzip -dc "$work/$asset" | (cd "$work/unpacked" && tar -xf -) ;;
	zip) unzip -q "$work/$asset" -d "$work/unpacked" ;;
	esac || fail "could not unpack $asset"
	binary="$work/unpacked/$target"
	[ -f "$binary" ] || fail "$asset has no $target in it; refusing to install"
fi

# --- install ----------------------------------------------------------------------------------------
mkdir -p "$install_dir" || fail "cannot create $install_dir"
# Copy next to the target first, then rename: a running old skiff is never overwritten in place, and
# an interrupted install leaves no half-written binary under the real name.
staged="$install_dir/.$target.tmp.$$"
cp "$binary" "$staged" || fail "cannot write to $install_dir (try --dir or sudo)"
if ! chmod 755 "$staged" || ! mv -f "$staged" "$install_dir/$target"; then
	rm -f "$staged"
	fail "cannot install into $install_dir/$target"
fi
say "installed $install_dir/$target"

# The musl builds link the C++ runtime dynamically; Alpine has it only when asked for.
if [ -n "$libc" ]; then
	missing=""
	for lib in libstdc++.so.6 libgcc_s.so.1; do
		found=""
		for dir in /usr/lib /lib /usr/local/lib; do
			[ -e "$dir/$lib" ] && found=yes
		done
		[ -n "$found" ] || missing="$missing $lib"
	done
	if [ -n "$missing" ]; then
		warn "skiff for musl needs$missing, which this system lacks. On Alpine install them with:"
		printf '\n    apk add libstdc++ libgcc\n\n' >&2
	fi
fi

case ":${PATH:-}:" in
*":$install_dir:"* | *":${install_dir%/}:"*) say "run: $target version" ;;
*)
	say "$install_dir is not on your PATH. Add it with:"
	printf '\n    export PATH="%s:$PATH"\n\n' "$install_dir"
	say "(put that line into ~/.profile, ~/.bashrc or ~/.zshrc to keep it)"
	;;
esac
