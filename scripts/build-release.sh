#!/usr/bin/env bash
# Builds the release binary operators copy to nodes: x86_64 Linux, fully static (glibc linked
# with crt-static, so it starts on Ubuntu 20.04, 22.04 and 24.04 whatever their glibc), stripped.
# Verifies the result has no dynamic dependencies (no NEEDED entries, no interpreter) and runs it.
#
#   scripts/build-release.sh            -> dist/hardnode-x86_64-linux (path printed last)
#   HARDNODE_TARGET=x86_64-unknown-linux-musl scripts/build-release.sh   (musl, when installed)
#   HARDNODE_FAST_BUILD=1 scripts/build-release.sh   (scripts/test.sh: no LTO, parallel codegen,
#       written to target/static-check/ instead of dist/; linking is the same, so is the check)
set -euo pipefail
cd "$(dirname "$0")/.."

target="${HARDNODE_TARGET:-x86_64-unknown-linux-gnu}"
case "$target" in
  x86_64-unknown-linux-gnu) export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" ;;
  x86_64-unknown-linux-musl) ;;
  *) echo "build-release.sh: unsupported target $target" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$target"; then
  echo "build-release.sh: rust target $target is not installed (rustup target add $target)" >&2
  exit 2
fi

out_dir=dist
if [ "${HARDNODE_FAST_BUILD:-}" = "1" ]; then
  export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  export CARGO_TARGET_DIR=target/static-check
  out_dir=target/static-check
fi
cargo build --release --locked --target "$target"
built="${CARGO_TARGET_DIR:-target}/$target/release/hardnode"
mkdir -p "$out_dir"
out="$out_dir/hardnode-x86_64-linux"
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
"./$out" --version >/dev/null

size=$(stat -c %s "$out")
echo "build-release.sh: $out: $((size / 1024)) KiB, no shared-library dependencies; file(1) says: $(file -b "$out")" >&2
echo "$out"
