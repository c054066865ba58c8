#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, and run the Van der Pol example (JIT on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target vanderpol
./build/examples/vanderpol
