#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build everything, run every test.
#   scripts/test.sh            with the LLVM JIT component
#   scripts/test.sh --no-llvm  the configuration without LLVM
set -euo pipefail
cd "$(dirname "$0")/.."
llvm=ON; dir=build; fuzz=ON
if [ "${1:-}" = "--no-llvm" ]; then llvm=OFF; dir=build-nollvm; fuzz=OFF; bash scripts/install-deps.sh --no-llvm
else bash scripts/install-deps.sh; fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDYNLIB_WITH_LLVM=$llvm -DDYNLIB_TEST_FUZZ=$fuzz >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
