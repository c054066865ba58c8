"""Events located by root finding, from Python: located times, and the terminal event that ended a run."""
import math

import dynlib

BALL = """inline:
[model]
type = "ode"
[states]
h = 1.0
v = 0.0
[params]
g = 9.81
[equations.rhs]
h = "v"
v = "-g"
[events.impact]
root = "h"
direction = "down"
terminal = 3
action = "v = -0.5*v"
log = ["t", "v"]
[sim]
t_end = 10.0
stepper = "dop853"
atol = 1e-12
rtol = 1e-12
"""


def test_terminal_root_event_names_itself_and_impacts_match_closed_form():
    sim = dynlib.setup(BALL)
    sim.run()
    res = sim.results()
    assert res.status == dynlib.Status.EARLY_EXIT
    assert res.ok
    assert res.stopped_by == "impact"
    times = list(res.event("impact").t)
    assert len(times) == 3
    # Dropped from 1 m: first impact at sqrt(2/g); each bounce at half the speed lasts half as long.
    t1 = math.sqrt(2.0 / 9.81)
    expected = [t1, t1 + t1, t1 + t1 + t1 / 2.0]
    for got, want in zip(times, expected):
        assert abs(got - want) < 1e-9
    assert abs(res.t_final - expected[-1]) < 1e-9


def test_run_that_reaches_its_end_has_no_stopping_event():
    sim = dynlib.setup(BALL.replace("terminal = 3", "terminal = false"))
    sim.run(T=0.2)
    res = sim.results()
    assert res.status == dynlib.Status.DONE
    assert res.stopped_by == ""


def test_sweep_points_name_the_terminal_event_that_ended_them():
    sw = dynlib.sweep(BALL, {"g": [1.0, 9.81]}, T=1.5)
    assert [r.status for r in sw.batch.runs] == [dynlib.Status.DONE, dynlib.Status.EARLY_EXIT]
    assert [r.stopped_by for r in sw.batch.runs] == ["", "impact"]
