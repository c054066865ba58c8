#!/usr/bin/env bash
# A 2-D Lyapunov map (Lorenz, rho x sigma, JIT) over 1, 2 and 4 MPI ranks against the threads-only run of
# one process, checking that every run writes the same bytes (bench/README.md, "Distributed sweeps").
#   bench/mpi_sweep.sh [DYNLIB [NX NY T]]   defaults: build/bin/dynlib, 316 x 317 points (10^5), T = 80 (about 1 ms a point)
# Each rank runs one thread, so 2 ranks use the same 2 cores as the 2-thread run of one process; 4 ranks
# on a 2-core machine are oversubscribed (their efficiency is bounded by the cores, not the distribution).
# Every configuration is also timed on a 4-point sweep; "net" is the difference, i.e. the time of the
# points without process start-up (mpirun, MPI_Init, loading the model). The overhead of the distribution
# per point is net(2 ranks x 1 thread) - net(1 process x 2 threads), over the points, in wall and CPU time.
set -euo pipefail
dynlib=$(realpath "${1:-build/bin/dynlib}")
nx=${2:-316}; ny=${3:-317}; T=${4:-80}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
echo "cache_root = \"$work/cache\"" > config.toml
export DYNLIB_CONFIG=$work/config.toml OMPI_MCA_btl_vader_single_copy_mechanism=none
mpirun=(mpirun --allow-run-as-root --oversubscribe)
opts=(sweep builtin://ode/lorenz --jit --T "$T" --dt 0.01 --lyapunov 1 --quiet)
tiny=("${opts[@]}" --param rho=1:2:2 --param sigma=1:2:2)
full=("${opts[@]}" --param "rho=0:60:$nx" --param "sigma=5:15:$ny")
points=$((nx * ny))
"$dynlib" "${tiny[@]}" --out warm.csv >/dev/null  # compiles into the cache
timed() {  # prints "wall cpu" of the command
  /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" >/dev/null 2>&1
  tail -1 "$work/time.txt" | awk '{ print $1, $2 + $3 }'
}
declare -A wall cpu
measure() {  # key, launcher words..., then the dynlib options follow in "$@" after --
  local key=$1; shift
  local launch=()
  while [ "$1" != "--" ]; do launch+=("$1"); shift; done; shift
  read -r tw tc <<<"$(timed "${launch[@]}" "$dynlib" "${tiny[@]}" "$@" --out tiny.csv)"
  read -r fw fc <<<"$(timed "${launch[@]}" "$dynlib" "${full[@]}" "$@" --out "$key.csv")"
  wall[$key]=$(awk -v a="$fw" -v b="$tw" 'BEGIN { print a - b }')
  cpu[$key]=$(awk -v a="$fc" -v b="$tc" 'BEGIN { print a - b }')
  awk -v k="$key" -v fw="$fw" -v fc="$fc" -v tw="$tw" -v nw="${wall[$key]}" -v nc="${cpu[$key]}" -v p="$points" 'BEGIN {
    printf "%-16s wall %8.2f s (start-up %5.2f, net %8.2f)  cpu net %8.2f s  %8.0f points/s net\n",
      k, fw, tw, nw, nc, p / nw }'
  cmp -s "$key.csv" threads1.csv 2>/dev/null || [ "$key" = threads1 ] ||
    { echo "$key.csv differs from the one-process file" >&2; exit 1; }
}
echo "2-D sweep: $points points, T = $T; $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
measure threads1 -- --threads 1
measure threads2 -- --threads 2
for n in 1 2 4; do measure "ranks$n" "${mpirun[@]}" -np "$n" -- --threads 1; done
echo "all files identical to the one-process file"
for n in 1 2 4; do
  c=$(( n < $(nproc) ? n : $(nproc) ))
  awk -v n="$n" -v c="$c" -v a="${wall[threads1]}" -v b="${wall[ranks$n]}" 'BEGIN {
    printf "%d rank(s) x 1 thread: speed-up %.2f over 1 process x 1 thread (net), efficiency %.0f%% of %d core(s)\n",
      n, a / b, 100 * a / b / c, c }'
done
awk -v p="$points" -v mw="${wall[ranks2]}" -v tw="${wall[threads2]}" -v mc="${cpu[ranks2]}" -v tc="${cpu[threads2]}" 'BEGIN {
  printf "distribution overhead (2 ranks x 1 thread vs 1 process x 2 threads): wall %.1f us/point (%.1f%%), cpu %.1f us/point (%.1f%%)\n",
    (mw - tw) * 1e6 / p, 100 * (mw - tw) / tw, (mc - tc) * 1e6 / p, 100 * (mc - tc) / tc }'
