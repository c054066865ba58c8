"""Runs release the GIL (threads overlap), Ctrl-C stops a run after the current step, keeping its part."""

import os
import signal
import threading
import time

import pytest

import dynlib

LONG = """inline:
[model]
type = "ode"
[states]
x = 1.0
y = 0.0
[equations.rhs]
x = "y"
y = "-x"
[sim]
dt = 0.0001
"""


def test_runs_in_threads_overlap():
    spans = {}

    def work(name):
        sim = dynlib.setup(LONG, stepper="rk4")
        t0 = time.perf_counter()
        sim.run(T=100.0, record=False)  # 10^6 steps
        spans[name] = (t0, time.perf_counter())
        assert sim.status == dynlib.Status.DONE

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = spans["a"], spans["b"]
    # With the GIL held during a run, one run would end before the other starts.
    assert a0 < b1 and b0 < a1


def test_same_sim_from_two_threads_is_refused():
    sim = dynlib.setup(LONG, stepper="rk4")
    started = threading.Event()
    errors = []

    def work():
        started.set()
        sim.run(T=200.0, record=False)

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    time.sleep(0.05)
    try:
        sim.t
    except dynlib.ArgumentError as e:
        errors.append(str(e))
    sim.request_break()
    t.join()
    assert errors and "another thread" in errors[0]


def test_keyboard_interrupt_keeps_the_partial_run():
    sim = dynlib.setup(LONG, stepper="rk4")
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sim.run(T=1.0e6, record_interval=1000, max_steps=10**12)  # would take hours
    finally:
        timer.cancel()
    res = sim.results()
    assert res.status == dynlib.Status.USER_BREAK
    assert 0 < res.t_final < 1.0e6 and len(res) > 1
    # Python's own Ctrl-C handling is back in place afterwards.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
