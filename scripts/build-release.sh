#!/usr/bin/env bash
# Builds the release binary operators copy to nodes: Linux, fully static (glibc linked with
# crt-static, so it starts on Ubuntu 20.04, 22.04 and 24.04 whatever their glibc), stripped.
# Verifies the result has no dynamic dependencies (no NEEDED entries, no interpreter) and, when
# this machine can run it (same architecture), runs it.
#
#   scripts/build-release.sh [TARGET]   -> dist/hardnode-<arch>-linux (path printed last), and
#                                          dist/linux/<docker arch>/hardnode for the image
#   scripts/build-release.sh x86_64-unknown-linux-gnu    (the default)
#   scripts/build-release.sh aarch64-unknown-linux-gnu   (Graviton, Ampere: needs
#       `rustup target add aarch64-unknown-linux-gnu` and a cross linker, e.g. Debian's
#       gcc-aarch64-linux-gnu, used automatically when CARGO_TARGET_..._LINKER is not set)
#   scripts/build-release.sh x86_64-unknown-linux-musl   (musl, when installed)
#   HARDNODE_TARGET=... works as the argument does.
#   HARDNODE_FAST_BUILD=1 scripts/build-release.sh   (scripts/test.sh: no LTO, parallel codegen,
#       written to target/static-check/ instead of dist/; linking is the same, so is the check)
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-${HARDNODE_TARGET:-x86_64-unknown-linux-gnu}}"
arch="${target%%-*}"
case "$target" in
  *-linux-gnu*) export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" ;;
  *-linux-musl*) ;;
  *) echo "build-release.sh: $target is not a Linux target" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$target"; then
  echo "build-release.sh: the standard library for $target is not installed (rustup target add $target)" >&2
  exit 2
fi
# A cross build links with the target's gcc when the user has not named a linker.
linker_var="CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_LINKER"
if [ "$arch" != "$(uname -m)" ] && [ -z "${!linker_var:-}" ] && command -v "$arch-linux-gnu-gcc" >/dev/null; then
  export "$linker_var=$arch-linux-gnu-gcc"
fi
case "$arch" in
  x86_64) docker_arch=amd64 ;;
  aarch64) docker_arch=arm64 ;;
  *) docker_arch="$arch" ;;
esac

out_dir=dist
if [ "${HARDNODE_FAST_BUILD:-}" = "1" ]; then
  export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  export CARGO_TARGET_DIR=target/static-check
  out_dir=target/static-check
fi
cargo build --release --locked --target "$target"
built="${CARGO_TARGET_DIR:-target}/$target/release/hardnode"
mkdir -p "$out_dir"
out="$out_dir/hardnode-$arch-linux"
cp "$built" "$out.tmp"
mv "$out.tmp" "$out"

# Static means: no program interpreter and no shared-library dependencies.
if readelf --dynamic "$out" | grep -q '(NEEDED)'; then
  echo "build-release.sh: $out needs shared libraries:" >&2
  readelf --dynamic "$out" | grep '(NEEDED)' >&2
  exit 1
fi
if readelf --program-headers "$out" | grep -q 'INTERP'; then
  echo "build-release.sh: $out has a program interpreter (dynamically linked)" >&2
  exit 1
fi
if readelf --section-headers "$out" | grep -qE '\.symtab|\.debug_'; then
  echo "build-release.sh: $out is not stripped" >&2
  exit 1
fi
if [ "$arch" = "$(uname -m)" ]; then
  "./$out" --version >/dev/null
else
  echo "build-release.sh: $out is for $arch; not run on this $(uname -m) machine" >&2
fi
mkdir -p "$out_dir/linux/$docker_arch"
cp "$out" "$out_dir/linux/$docker_arch/hardnode.tmp"
mv "$out_dir/linux/$docker_arch/hardnode.tmp" "$out_dir/linux/$docker_arch/hardnode"

size=$(stat -c %s "$out")
echo "build-release.sh: $out: $((size / 1024)) KiB, no shared-library dependencies; file(1) says: $(file -b "$out")" >&2
echo "$out"
