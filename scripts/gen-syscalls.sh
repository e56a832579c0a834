#!/usr/bin/env bash
# Regenerates the syscall name tables the seccomp validator ships (src/seccomp/syscalls/).
# Sources: the Linux UAPI headers of the build machine (Debian's linux-libc-dev).
#   x86_64  <- asm/unistd_64.h
#   aarch64 <- asm-generic/unistd.h (arm64 uses the generic table; names under
#              __ARCH_WANT_* guards are kept, which errs on the side of accepting)
set -euo pipefail
out="$(dirname "$0")/../src/seccomp/syscalls"
mkdir -p "$out"
extract() { grep -oE '^#define __NR_[a-z0-9_]+' "$1" | sed 's/^#define __NR_//' | grep -vE '^(syscalls|arch_specific_syscall)$' | LC_ALL=C sort -u; }
extract /usr/include/x86_64-linux-gnu/asm/unistd_64.h > "$out/x86_64.txt"
extract /usr/include/asm-generic/unistd.h > "$out/aarch64.txt"
wc -l "$out"/*.txt
