#!/usr/bin/env bash
# Installs the Debian 12 packages dynlib needs. Idempotent and quiet when everything is present.
#   scripts/install-deps.sh            core + LLVM JIT + tests
#   scripts/install-deps.sh --no-llvm  without the JIT component
#   scripts/install-deps.sh --bench    also the benchmark peers (Google Benchmark, Boost.Odeint, SUNDIALS CVODE)
#   scripts/install-deps.sh --llvm22   also llvm-22-dev (bookworm-security), to check the JIT builds on 22
set -euo pipefail
want_llvm=1; want_bench=0; want_llvm22=0
for a in "$@"; do
  case "$a" in
    --no-llvm) want_llvm=0 ;;
    --bench) want_bench=1 ;;
    --llvm22) want_llvm22=1 ;;
    *) echo "install-deps.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
pkgs=(build-essential cmake pkg-config ccache git
      libtomlplusplus-dev libfmt-dev libxxhash-dev catch2 valgrind
      clang-19 libclang-rt-19-dev clang-format-14
      pybind11-dev python3-dev python3-numpy python3-matplotlib python3-pytest
      python3-pandas  # the Python package (pandas: Results.to_pandas() and its test)
      libopenmpi-dev openmpi-bin)  # the MPI component (mpirun dynlib sweep)
[ "$want_llvm" = 1 ] && pkgs+=(llvm-19-dev libzstd-dev)  # libzstd-dev: linking LLVM statically
[ "$want_bench" = 1 ] && pkgs+=(libbenchmark-dev libboost-dev libsundials-dev)
[ "$want_llvm22" = 1 ] && pkgs+=(llvm-22-dev libzstd-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
