"""The Python package against the reference Python library and against our own C++ run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py [--dynlib build/bin/dynlib] [--reps 7]
        [--steps 2000000]

Measures, each in a fresh process with an empty temporary cache root (nothing of the user's cache is
read or written):
  * setup(jit=True, disk_cache=True) cold: nothing cached, the model is compiled;
  * setup(jit=True, disk_cache=True) warm: a new process, the compiled code comes from the disk cache;
  * Lorenz rk4 run time per step from Python (record=False, optimised code from the disk cache),
    next to `dynlib run` of the same model, stepper, dt and horizon (its "wall:" line: the run only).
The reference library's numbers (measured earlier on its own, Numba-compiled) are printed alongside.
Targets: setup at least 50x faster than the reference's, run at most 1.1x our C++ run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

MODEL = "builtin://ode/lorenz"
DT = 0.01
REFERENCE = {"cold_s": (2.2, 5.0), "warm_s": (2.0, 4.8), "run_ns_per_step": 67.0}

# Runs in a child process: one setup() (and optionally a timed run) against the given cache root.
CHILD = r"""
import json, re, subprocess, sys, time
t0 = time.perf_counter()
import dynlib
t_import = time.perf_counter() - t0
steps, reps, disk, cli = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
t0 = time.perf_counter()
sim = dynlib.setup(%(model)r, stepper="rk4", jit=True, disk_cache=disk)
t_setup = time.perf_counter() - t0
out = {"import_s": t_import, "setup_s": t_setup, "origin": sim.model.cache_origin, "tier": sim.model.jit_tier}
if steps:
    sim.model.wait_optimized()
    T = steps * %(dt)r
    sim.run(T=T, dt=%(dt)r, record=False, max_steps=steps + 10)  # warm-up (pages, caches)
    args = [cli, "run", %(model)r, "--stepper", "rk4", "--jit", "--disk-cache", "--no-record",
            "--dt", repr(%(dt)r), "--T", repr(T), "--max-steps", str(steps + 10)]
    runs, cpp = [], []
    for _ in range(reps):  # Python and C++ runs alternate, so both see the same load
        sim.reset()
        t0 = time.perf_counter()
        sim.run(T=T, dt=%(dt)r, record=False, max_steps=steps + 10)
        runs.append((time.perf_counter() - t0) / sim.step_count * 1e9)
        r = subprocess.run(args, capture_output=True, text=True, check=True)
        wall_ms = float(re.search(r"^wall:\s+([0-9.]+) ms", r.stdout, re.M).group(1))
        n = int(re.search(r"^steps:\s+([0-9]+)", r.stdout, re.M).group(1))
        cpp.append(wall_ms * 1e6 / n)
    out["run_ns"] = runs
    out["cpp_ns"] = cpp
    out["steps"] = sim.step_count
    out["tier_run"] = sim.model.jit_tier
print(json.dumps(out))
""" % {"model": MODEL, "dt": DT}


def child(env, steps=0, reps=0, disk=True, cli=""):
    r = subprocess.run([sys.executable, "-c", CHILD, str(steps), str(reps), "1" if disk else "0", cli], env=env,
                       capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        sys.exit(f"benchmark child failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--dynlib", default=os.path.join(here, "..", "build", "bin", "dynlib"),
                    help="the dynlib program for the C++ run (default build/bin/dynlib)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--steps", type=int, default=2_000_000)
    ap.add_argument("--setup-reps", type=int, default=3, help="cold/warm setups, each in its own cache root")
    a = ap.parse_args()

    cold, warm, mem, imports = [], [], [], []
    for _ in range(a.setup_reps):
        with tempfile.TemporaryDirectory(prefix="dynlib-pybench-") as root:
            env = dict(os.environ, XDG_CACHE_HOME=root, DYNLIB_CONFIG=os.path.join(root, "none.toml"))
            c = child(env)
            w = child(env)
            if c["origin"] == w["origin"]:
                sys.exit(f"expected a compile then a disk-cache hit, got {c['origin']!r} then {w['origin']!r}")
            m = child(env, disk=False)
            mem.append(m["setup_s"])
            cold.append(c["setup_s"])
            warm.append(w["setup_s"])
            imports.append(w["import_s"])
    with tempfile.TemporaryDirectory(prefix="dynlib-pybench-") as root:
        env = dict(os.environ, XDG_CACHE_HOME=root, DYNLIB_CONFIG=os.path.join(root, "none.toml"))
        child(env)  # fill the disk cache with the optimised code
        py = child(env, a.steps, a.reps, cli=os.path.abspath(a.dynlib))
        cpp = py["cpp_ns"]

    ms = lambda v: f"{v * 1e3:8.2f} ms"  # noqa: E731
    ref_c, ref_w = REFERENCE["cold_s"], REFERENCE["warm_s"]
    print(f"load average: {os.getloadavg()[0]:.2f}   (min of {a.setup_reps} setups, {a.reps} runs of {py['steps']} steps)")
    print(f"{'':34}{'dynlib (min / median)':>26}{'reference':>16}{'speed-up':>14}")
    for name, vals, ref in (("setup(jit=True) cold (compile)", cold, ref_c),
                            ("  same, disk_cache=False", mem, ref_c),
                            ("setup(jit=True) warm (disk cache)", warm, ref_w)):
        s = sorted(vals)
        print(f"{name:34}{ms(s[0]):>13} /{ms(s[len(s) // 2]):>11}{f'{ref[0]}-{ref[1]} s':>16}"
              f"{f'{ref[0] / s[0]:.0f}x-{ref[1] / s[0]:.0f}x':>14}")
    print(f"{'import dynlib (not in setup)':34}{ms(min(imports)):>13}")
    p, c = sorted(py["run_ns"]), sorted(cpp)
    print(f"{'Lorenz rk4 run, Python':34}{p[0]:10.1f} ns /{p[len(p) // 2]:8.1f} ns"
          f"{REFERENCE['run_ns_per_step']:13.0f} ns{REFERENCE['run_ns_per_step'] / p[0]:13.1f}x")
    print(f"{'Lorenz rk4 run, C++ (dynlib run)':34}{c[0]:10.1f} ns /{c[len(c) // 2]:8.1f} ns")
    ratio = p[0] / c[0]
    print(f"Python / C++ run: min {ratio:.3f}, median {p[len(p) // 2] / c[len(c) // 2]:.3f}  (target <= 1.1)")
    worst = max(min(cold) / ref_c[0], min(warm) / ref_w[0])
    print(f"setup speed-up against the reference's fastest: {1 / worst:.0f}x  (target >= 50x)")


if __name__ == "__main__":
    main()
