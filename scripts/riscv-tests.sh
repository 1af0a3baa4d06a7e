#!/usr/bin/env bash
# Builds the RISC-V ISA tests (physical-memory "p" environment, rv64) from a
# checkout of the public riscv-tests repository with Debian's cross compiler,
# then runs each through `tsxi run --bios none` and prints a summary.
#
#   scripts/riscv-tests.sh /path/to/riscv-tests [suite...]
#
# The checkout needs its env/ submodule (git clone --recursive). Suites
# default to: rv64ui rv64um rv64ua rv64uf rv64ud rv64uc rv64si rv64mi.
# ENGINE=interp runs them on the interpreter (default: jit, the translator).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: scripts/riscv-tests.sh RISCV_TESTS_CHECKOUT [suite...]}
shift
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(rv64ui rv64um rv64ua rv64uf rv64ud rv64uc rv64si rv64mi)
[ -f "$src/env/p/riscv_test.h" ] || { echo "riscv-tests.sh: $src/env is empty: clone with --recursive" >&2; exit 2; }
[ -f "$here/dist/src/cli/main.js" ] || (cd "$here" && npm run build >/dev/null)
out=${OUT:-$(mktemp -d)}
pass=0; fail=0; failed=()
for suite in "${suites[@]}"; do
  # The suite's Makefrag lists its tests as <suite>_sc_tests = name ...
  names=$(make -s -f - print <<MK
include $src/isa/$suite/Makefrag
print: ; @echo \$(${suite}_sc_tests)
MK
)
  march=rv64g; case $suite in *uc) march=rv64gc;; esac
  for t in $names; do
    elf=$out/$suite-p-$t
    riscv64-linux-gnu-gcc -march=$march -mabi=lp64d -static -mcmodel=medany -fvisibility=hidden -fno-pic \
      -nostdlib -nostartfiles -I"$src/env/p" -I"$src/isa/macros/scalar" -T"$src/env/p/link.ld" \
      "$src/isa/$suite/$t.S" -o "$elf"
    status=0
    node "$here/dist/src/cli/main.js" run --bios none --engine "${ENGINE:-jit}" --kernel "$elf" --max-instructions 10000000 >/dev/null 2>"$elf.err" || status=$?
    if [ "$status" -eq 0 ]; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); failed+=("$suite-p-$t (status $status $(head -c 160 "$elf.err"))")
    fi
  done
done
echo "riscv-tests: $pass passed, $fail failed"
for f in "${failed[@]}"; do echo "  FAIL $f"; done
[ "$fail" -eq 0 ]
