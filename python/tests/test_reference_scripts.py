"""Scripts written for the reference Python library run unchanged and give its numbers."""

import json
import math
import os
import pathlib

import numpy as np
import pytest

import dynlib
from dynlib.analysis import lyapunov_mle_observer, sweep

SOURCE = pathlib.Path(os.environ.get("DYNLIB_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
REFERENCES = sorted((SOURCE / "tests" / "reference").glob("*.json"))
JIT = os.environ.get("DYNLIB_JIT_EXPECTED", "0") in ("1", "ON", "TRUE", "true")


def close(ours, ref, rel=1e-9):
    return abs(ours - ref) <= rel * max(abs(ref), 1e-300) or abs(ours - ref) <= 1e-12


@pytest.mark.parametrize("path", REFERENCES, ids=[p.stem for p in REFERENCES])
def test_reference_call_reproduces_the_recorded_run(path):
    ref = json.loads(path.read_text())
    s = ref["settings"]
    # The reference's own call line, with its settings filled in (jit as this build allows).
    sim = dynlib.setup(ref["model"]["uri"], stepper=s["stepper"], jit=JIT, disk_cache=False)
    kwargs = dict(dt=s["dt"], record=True, record_interval=1, ic=s["ic"], params=s["params"])
    if s["T"] is not None:
        kwargs["T"] = s["T"]
    if s["N"] is not None:
        kwargs["N"] = s["N"]
    sim.run(**kwargs)
    res = sim.results()
    samples = ref["samples"]
    compared = 0
    for k, step in enumerate(samples["step"]):
        if step >= len(res):
            continue  # the reference's extra step of 1e-16 at the end (we land exactly on T)
        assert res.step[step] == step
        for name in ref["model"]["states"]:
            if name in samples:
                assert close(res[name][step], samples[name][k]), (name, step)
                compared += 1
    assert compared >= 10
    for name, value in ref["result"]["final_state"].items():
        assert close(sim.state(name), value)


def test_lorenz_script():
    sim = dynlib.setup("builtin://ode/lorenz", stepper="rk4", jit=JIT)
    sim.run(T=10.0, dt=0.01)
    res = sim.results()
    assert res.ok and len(res) == 1001
    assert np.isfinite(res["x"]).all()


def test_logistic_bifurcation_script():
    sim = dynlib.setup("builtin://map/logistic", stepper="map", jit=JIT)
    rs = np.linspace(2.8, 4.0, 25)
    out = sweep.scalar_sweep(sim, param="r", values=rs, var="x", mode="final", N=600, transient=400)
    assert out.values.shape == (25,) and out.y.shape == (25,)
    # Below 3 the map settles on its fixed point 1 - 1/r.
    assert out.y[0] == pytest.approx(1 - 1 / 2.8, abs=1e-6)
    # Each point is exactly what a single run from the same state gives.
    one = dynlib.setup("builtin://map/logistic", stepper="map", jit=JIT)
    one.run(N=600, transient=400, params={"r": rs[-1]})
    assert out.y[-1] == one.results()["x"][-1]


def test_lyapunov_exponent_script():
    sim = dynlib.setup("builtin://map/logistic", stepper="map", jit=JIT)
    sim.run(N=20000, transient=1000, params={"r": 4.0}, observers=[lyapunov_mle_observer()])
    lyap = sim.results().observers["lyapunov_mle"]
    assert lyap.mle == pytest.approx(math.log(2.0), abs=0.02)  # exact for r = 4
    assert lyap["mle"] == lyap.mle
    res = sweep.lyapunov_mle_sweep(sim, param="r", values=[3.2, 4.0], N=20000, transient=1000)
    assert res.mle[0] < 0 < res.mle[1]
