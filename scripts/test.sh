#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build everything, run every test.
#   scripts/test.sh            with the LLVM JIT component
#   scripts/test.sh --no-llvm  the configuration without LLVM and without MPI
#   scripts/test.sh --llvm22   the JIT built against LLVM 22 (llvm-22-dev), JIT and cache tests only
set -euo pipefail
cd "$(dirname "$0")/.."
llvm=ON; mpi=ON; dir=build; fuzz=ON; werror=ON; extra=(); only=()
case "${1:-}" in
  --no-llvm) llvm=OFF; mpi=OFF; dir=build-nollvm; fuzz=OFF; bash scripts/install-deps.sh --no-llvm ;;
  # LLVM 22 only has to keep compiling: its deprecations are notes for us, not failures.
  --llvm22) dir=build-llvm22; fuzz=OFF; werror=OFF; bash scripts/install-deps.sh --llvm22
            extra=(-DLLVM_DIR=/usr/lib/llvm-22/lib/cmake/llvm)
            # Debian 12's valgrind cannot read the debug info of LLVM 22's libraries: no valgrind runs here.
            only=(-R "[Jj][Ii][Tt]" -LE valgrind) ;;
  *) bash scripts/install-deps.sh
     bash scripts/check-format.sh ;;  # formatting is checked once, with the main configuration
esac
# Warnings are errors here (CI) with LLVM 19 and without LLVM; a plain build keeps them warnings.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDYNLIB_WITH_LLVM=$llvm -DDYNLIB_WITH_MPI=$mpi -DDYNLIB_TEST_FUZZ=$fuzz -DDYNLIB_WERROR=$werror \
  "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "${only[@]}"
