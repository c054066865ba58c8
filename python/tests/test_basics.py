"""setup, run and results from Python: the same numbers as the C++ engine, as NumPy views."""

import gc
import json
import math
import os
import pathlib

import numpy as np
import pytest

import dynlib

SOURCE = pathlib.Path(os.environ.get("DYNLIB_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
JIT = os.environ.get("DYNLIB_JIT_EXPECTED", "0") in ("1", "ON", "TRUE", "true")

EXPDECAY = """inline:
[model]
type = "ode"
[states]
x = 1.0
[params]
a = 0.5
[equations.rhs]
x = "-a * x"
[sim]
t_end = 2.0
dt = 0.01
"""


def test_expdecay_matches_closed_form():
    sim = dynlib.setup(EXPDECAY, stepper="rk4")
    sim.run()
    res = sim.results()
    assert res.status == dynlib.Status.DONE and res.ok
    assert len(res) == 201
    assert res.t[-1] == pytest.approx(2.0)
    assert res["x"][-1] == pytest.approx(math.exp(-1.0), rel=1e-9)
    assert res.state_names == ["x"]


def test_results_are_zero_copy_views_that_outlive_the_next_run():
    sim = dynlib.setup(EXPDECAY, stepper="rk4")
    sim.run()
    res = sim.results()
    x = res["x"]
    assert x.base is not None and not x.flags.owndata  # a view, not a copy
    assert not x.flags.writeable
    assert np.shares_memory(x, res["x"])  # the same memory on every access
    first = x.copy()
    del res
    gc.collect()
    sim.run(T=4.0, resume=True)  # the Sim goes on; the view still holds the old results
    np.testing.assert_array_equal(x, first)
    assert len(sim.results()) == 401


def test_errors_carry_their_location():
    bad = EXPDECAY.replace('x = "-a * x"', 'x = "-a * q"')
    with pytest.raises(dynlib.UnknownIdentifierError) as info:
        dynlib.setup(bad)
    err = info.value
    assert isinstance(err, dynlib.ModelLoadError) and isinstance(err, dynlib.DynlibError)
    assert err.line > 0 and err.column > 0
    assert "q" in err.line_text
    assert "q" in str(err)


def test_argument_errors_are_value_errors():
    sim = dynlib.setup(EXPDECAY)
    with pytest.raises(ValueError):
        sim.run(dt=-1.0)
    with pytest.raises(dynlib.ArgumentError, match="did you mean 'a'"):
        sim.assign(aa=2.0)


def test_unknown_stepper():
    with pytest.raises(dynlib.UnknownStepperError, match="Did you mean 'rk4'") as info:
        dynlib.setup(EXPDECAY, stepper="rk_4")
    assert isinstance(info.value, KeyError)


def test_stepper_settings_by_name_and_value():
    sim = dynlib.setup("builtin://ode/vanderpol", stepper="bdf2a")
    sim.run(T=1.0, jacobian_mode="external", rtol=1e-6)
    cfg = sim.stepper_config()
    assert cfg["jacobian_mode"] == 1.0 and cfg["rtol"] == 1e-6
    with pytest.raises(dynlib.ArgumentError):
        sim.run(T=1.0, jacobian_mode="exernal")


def test_events_segments_and_presets():
    model = """inline:
[model]
type = "ode"
[states]
x = 0.0
[params]
k = 1.0
[equations.rhs]
x = "k"
[events.reset]
phase = "end"
cond = "x >= 1.0"
action = "x = 0.0"
log = ["t", "x"]
[presets.fast.params]
k = 2.0
[sim]
t_end = 3.05
dt = 0.01
"""
    sim = dynlib.setup(model, stepper="euler")
    assert sim.list_presets() == ["fast"]
    sim.apply_preset("fast")
    assert sim.param("k") == 2.0
    sim.run(tag="first")
    res = sim.results()
    ev = res.event("reset")
    assert ev.count == len(res.events) == 6
    assert np.all(ev["x"] == 0.0)
    assert np.all(np.diff(ev.t) == pytest.approx(0.5, abs=0.011))
    seg = res.segment("first")
    assert len(seg) == len(res)
    np.testing.assert_array_equal(seg["x"], res["x"])


def test_simulation_error_keeps_partial_results():
    model = EXPDECAY.replace('x = "-a * x"', 'x = "x * x"').replace("t_end = 2.0", "t_end = 5.0")
    sim = dynlib.setup(model, stepper="rk4")
    with pytest.raises(dynlib.SimulationError) as info:
        sim.run()
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.status == dynlib.Status.NAN_DETECTED
    assert 0.9 < err.t < 1.1
    part = err.partial_results
    assert part is not None and len(part) > 10
    assert part.t[-1] <= err.t


def test_max_steps_warns_and_reports():
    sim = dynlib.setup(EXPDECAY, stepper="rk4")
    with pytest.warns(RuntimeWarning, match="max_steps"):
        sim.run(max_steps=10)
    assert sim.results().status == dynlib.Status.MAX_STEPS
    assert not sim.results().ok


def test_steppers_catalogue():
    names = {s["name"] for s in dynlib.list_steppers()}
    assert {"rk4", "rk45", "bdf2a", "map"} <= names
    info = dynlib.stepper_info("dopri5")
    assert info["name"] == "rk45" and info["time_control"] == "adaptive"
    assert "rtol" in info["config"]
    assert {s["name"] for s in dynlib.list_steppers("map")} == {"map"}


@pytest.mark.skipif(not JIT, reason="built without the JIT component")
def test_jit_gives_the_interpreters_bits():
    a = dynlib.setup("builtin://ode/lorenz", stepper="rk4", jit=False)
    b = dynlib.setup("builtin://ode/lorenz", stepper="rk4", jit=True)
    assert b.model.jit and b.model.is_jitted("runner")
    a.run(T=5.0)
    b.run(T=5.0)
    for v in ("x", "y", "z"):
        np.testing.assert_array_equal(a.results()[v], b.results()[v])


def test_snapshots_roundtrip(tmp_path):
    sim = dynlib.setup(EXPDECAY, stepper="rk4")
    sim.run(T=1.0)
    path = tmp_path / "s.snap"
    sim.export_snapshot(str(path))
    x1 = sim.state("x")
    other = dynlib.setup(EXPDECAY, stepper="rk4")
    other.import_snapshot(str(path))
    assert other.state("x") == x1 and other.t == pytest.approx(1.0)
