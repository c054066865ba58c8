#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, and run the Van der Pol example (JIT on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
# The JIT component is loaded at run time (not linked), so build it beside the example.
targets=(example_jit_vanderpol)
grep -q '^DYNLIB_WITH_LLVM:BOOL=ON' build/CMakeCache.txt && targets+=(dynlib_jit)
cmake --build build -j"$(nproc)" --target "${targets[@]}"
./build/examples/jit_vanderpol
