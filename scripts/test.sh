#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build everything, run every test.
#   scripts/test.sh            with the LLVM JIT component
#   scripts/test.sh --no-llvm  the configuration without LLVM
#   scripts/test.sh --llvm22   the JIT built against LLVM 22 (llvm-22-dev), JIT and cache tests only
set -euo pipefail
cd "$(dirname "$0")/.."
llvm=ON; dir=build; fuzz=ON; extra=(); only=()
case "${1:-}" in
  --no-llvm) llvm=OFF; dir=build-nollvm; fuzz=OFF; bash scripts/install-deps.sh --no-llvm ;;
  --llvm22) dir=build-llvm22; fuzz=OFF; bash scripts/install-deps.sh --llvm22
            extra=(-DLLVM_DIR=/usr/lib/llvm-22/lib/cmake/llvm); only=(-R "[Jj][Ii][Tt]") ;;
  *) bash scripts/install-deps.sh ;;
esac
# Warnings are errors here (CI), in every configuration; a plain build keeps them warnings.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDYNLIB_WITH_LLVM=$llvm -DDYNLIB_TEST_FUZZ=$fuzz -DDYNLIB_WERROR=ON \
  "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "${only[@]}"
