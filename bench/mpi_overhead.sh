#!/usr/bin/env bash
# The CPU cost of spreading a sweep over MPI ranks, measured in two parts, each where it is large enough to
# stand out of the noise of a shared machine (bench/README.md, "Distributed sweeps"):
#   1. per block handed out (messages, encoding, putting blocks in order): a sweep of nearly free points
#      (logistic map, N = 1) with one point per block, as one process and as 2 ranks; the difference in
#      CPU time (net of a 2-point run of each, i.e. of start-up), divided by the blocks.
#   2. rank 0 waiting for messages: while nothing arrives it wakes every 1 ms (while a worker's result
#      may be due) to 8 ms (while none can be) and probes, which costs CPU in proportion to the time, not
#      to the work; mpi_wait_cost.cpp times that loop on its own at both bounds (which rank gets a block
#      is a race, so a sweep cannot be made to keep rank 0 only waiting). One rank has no such loop.
# The overhead for points of P ms in blocks of B points on R ranks is then about
#   part1 / (B * P)  +  part2 / (R * threads per rank),   as a fraction of the computing time
# (part 2 as a fraction of a core: rank 0 polls all along, the workers only between their blocks; R >= 2).
#   bench/mpi_overhead.sh [DYNLIB [BLOCKS]]   defaults: build/bin/dynlib, 500000 blocks
set -euo pipefail
dynlib=$(realpath "${1:-build/bin/dynlib}")
here=$(cd "$(dirname "$0")" && pwd)
blocks=${2:-500000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
echo "cache_root = \"$work/cache\"" > config.toml
export DYNLIB_CONFIG=$work/config.toml OMPI_MCA_btl_vader_single_copy_mechanism=none
mpirun=(mpirun --allow-run-as-root --oversubscribe)
cpu_of() {  # CPU seconds (user + sys) of the command and everything it started
  /usr/bin/time -f "%U %S" -o "$work/time.txt" "$@" >/dev/null 2>&1
  tail -1 "$work/time.txt" | awk '{ print $1 + $2 }'
}
wall_cpu_of() {
  /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" >/dev/null 2>&1
  tail -1 "$work/time.txt" | awk '{ print $1, $2 + $3 }'
}
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. per block
free=(sweep builtin://map/logistic --N 1 --threads 1 --block 1 --quiet)
one_tiny=$(cpu_of "$dynlib" "${free[@]}" --param r=3:4:2 --out a.csv)
one_full=$(cpu_of "$dynlib" "${free[@]}" --param "r=3:4:$blocks" --out a.csv)
mpi_tiny=$(cpu_of "${mpirun[@]}" -np 2 "$dynlib" "${free[@]}" --param r=3:4:2 --out b.csv)
read -r mpi_wall mpi_full <<<"$(wall_cpu_of "${mpirun[@]}" -np 2 "$dynlib" "${free[@]}" --param "r=3:4:$blocks" --out b.csv)"
cmp -s a.csv b.csv || { echo "the 2-rank file differs from the one-process file" >&2; exit 1; }
awk -v b="$blocks" -v ot="$one_tiny" -v of="$one_full" -v mt="$mpi_tiny" -v mf="$mpi_full" -v mw="$mpi_wall" 'BEGIN {
  one = of - ot; mpi = mf - mt
  printf "1. %d blocks of 1 free point: cpu net one process %.2f s, 2 ranks %.2f s -> %.1f us of CPU per block (2 ranks: %.0f us wall per block)\n",
    b, one, mpi, (mpi - one) * 1e6 / b, mw * 1e6 / b }'

# 2. rank 0 waiting: its loop (pause, 3 probes) reproduced by mpi_wait_cost.cpp while rank 1 sleeps
if command -v mpicxx >/dev/null; then
  mpicxx -O2 -std=c++20 "$here/mpi_wait_cost.cpp" -o wait_cost
  for pause in 1000 8000; do echo "2. $("${mpirun[@]}" -np 2 ./wait_cost 5 3 "$pause")"; done
else
  echo "2. skipped: no mpicxx"
fi
