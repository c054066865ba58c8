"""Parameter sweeps from a Sim's current session: the baseline states and parameters are the session's,
one parameter is varied, and the runs go through the engine's batch runner on all cores.

    from dynlib.analysis import sweep
    res = sweep.scalar_sweep(sim, param="r", values=np.linspace(2.5, 4, 200), var="x", N=1000, transient=500)
    res = sweep.traj_sweep(sim, param="r", values=[2.8, 3.2, 3.5], record_vars=["x"], N=200)
    res = sweep.lyapunov_mle_sweep(sim, param="r", values=np.linspace(3.4, 4, 100), N=5000, transient=500)
"""

import warnings

import numpy as np

from .. import _dynlib


class SweepResult:
    """values (the parameter values), param_name, kind ("scalar", "trajectory", "lyapunov"), outputs
    (name -> array over values), meta; for trajectories: record_vars, t, data (one (records, vars) array
    per value), res["x"] (shape (records, values) when all runs have the same length)."""

    def __init__(self, *, param_name, values, kind, outputs=None, meta=None, t_runs=None, data=None,
                 record_vars=()):
        self.param_name = param_name
        self.values = np.asarray(values, dtype=float)
        self.kind = kind
        self.outputs = dict(outputs or {})
        self.meta = dict(meta or {})
        self.t_all = list(t_runs or [])
        self.data = list(data or [])
        self.record_vars = tuple(record_vars)

    @property
    def t(self):
        return self.t_all[0] if self.t_all else np.empty(0)

    def stack(self):
        """The trajectories as one (values, records, vars) array; ValueError if run lengths differ."""
        if len({d.shape[0] for d in self.data}) > 1:
            raise ValueError("Cannot stack sweep trajectories: run lengths differ.")
        return np.stack(self.data, axis=0)

    def __getitem__(self, key):
        if key in self.outputs:
            return self.outputs[key]
        if key in self.record_vars:
            col = self.record_vars.index(key)
            cols = [d[:, col] for d in self.data]
            if len({c.size for c in cols}) == 1:
                return np.stack(cols, axis=1)
            return cols
        raise KeyError(f"Unknown field {key!r}. Available: {list(self.outputs) + list(self.record_vars)}")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(str(e)) from None

    def __repr__(self):
        return f"<SweepResult kind={self.kind!r} param={self.param_name!r} values={self.values.shape}>"


def _base(sim, param):
    model = sim.model
    if param not in model.params:
        raise _dynlib.ArgumentError(f"Unknown param {param!r}. Available params: {model.params}")
    return sim.state_dict(), sim.param_dict()


def _options(sim, t0, T, N, dt, transient, record_interval, max_steps, threads):
    kw = {"t0": t0, "T": T, "N": N, "dt": dt, "max_steps": max_steps, "threads": threads}
    if transient is not None:
        kw["transient"] = transient
    if record_interval is not None:
        kw["record_interval"] = record_interval
    kw.update({k: v for k, v in sim.stepper_config().items() if k not in kw})
    return kw


def _check(batch, values, param):
    """Points that failed (NaN, step failure) get NaN results; say which."""
    failed = [f"{param}={v}: {run.error}" for v, run in zip(values, batch.runs) if run.error]
    if failed:
        warnings.warn(f"{len(failed)} sweep point(s) failed and give NaN: " + "; ".join(failed[:3])
                      + (" ..." if len(failed) > 3 else ""), RuntimeWarning, stacklevel=3)


def _mle(run):
    return run.observers["lyapunov_mle"]["mle"] if not run.error else np.nan


def _runs(sim, param, values, record_vars, observers, opts):
    states, params = _base(sim, param)
    kw = dict(opts)
    if record_vars is not None:
        kw.update(record=True, record_vars=list(record_vars))
    if observers is not None:
        kw["observers"] = observers
    out = _dynlib.sweep(sim.model, {param: list(values)}, ic=states, params=params, **kw)
    _check(out.batch, values, param)
    return out.batch


def scalar_sweep(sim, *, param, values, var, mode="final", t0=None, T=None, N=None, dt=None, transient=None,
                 record_interval=None, max_steps=None, threads=0):
    """One number per parameter value: the final, mean, max or min of `var` over the recorded run."""
    vals = np.asarray(values, dtype=float)
    reducers = {"final": lambda a: a[-1], "mean": np.mean, "max": np.max, "min": np.min}
    if mode not in reducers:
        raise _dynlib.ArgumentError(f"mode must be one of {list(reducers)}, not {mode!r}")
    batch = _runs(sim, param, vals, [var], None, _options(sim, t0, T, N, dt, transient, record_interval,
                                                          max_steps, threads))
    y = np.array([reducers[mode](run.data[:, 0]) if run.data.size and not run.error else np.nan
                  for run in batch.runs])
    return SweepResult(param_name=param, values=vals, kind="scalar", outputs={"y": y},
                       meta={"var": var, "mode": mode, "stepper": sim.model.stepper_name})


def traj_sweep(sim, *, param, values, record_vars, t0=None, T=None, N=None, dt=None, transient=None,
               record_interval=None, max_steps=None, threads=0):
    """The recorded trajectories of `record_vars` for each parameter value."""
    vals = np.asarray(values, dtype=float)
    batch = _runs(sim, param, vals, record_vars, None, _options(sim, t0, T, N, dt, transient, record_interval,
                                                                max_steps, threads))
    return SweepResult(param_name=param, values=vals, kind="trajectory", t_runs=[r.t for r in batch.runs],
                       data=[r.data for r in batch.runs], record_vars=record_vars,
                       meta={"stepper": sim.model.stepper_name})


def lyapunov_mle_sweep(sim, *, param, values, t0=None, T=None, N=None, dt=None, transient=None,
                       record_interval=None, max_steps=None, threads=0, renorm_every=1):
    """The largest Lyapunov exponent for each parameter value (outputs "mle")."""
    vals = np.asarray(values, dtype=float)
    obs = [_dynlib.lyapunov_mle(renorm_every=renorm_every, trace_stride=0)]
    batch = _runs(sim, param, vals, None, obs, _options(sim, t0, T, N, dt, transient, record_interval,
                                                        max_steps, threads))
    mle = np.array([_mle(run) for run in batch.runs])
    return SweepResult(param_name=param, values=vals, kind="lyapunov", outputs={"mle": mle},
                       meta={"stepper": sim.model.stepper_name})


def lyapunov_spectrum_sweep(sim, *, param, values, k=0, t0=None, T=None, N=None, dt=None, transient=None,
                            record_interval=None, max_steps=None, threads=0, renorm_every=1):
    """The k leading Lyapunov exponents for each parameter value (outputs "spectrum", shape (values, k))."""
    vals = np.asarray(values, dtype=float)
    obs = [_dynlib.lyapunov_spectrum(k=k, renorm_every=renorm_every, trace_stride=0)]
    batch = _runs(sim, param, vals, None, obs, _options(sim, t0, T, N, dt, transient, record_interval,
                                                        max_steps, threads))
    width = max((len(r.observers["lyapunov_spectrum"].exponents()) for r in batch.runs if not r.error), default=0)
    spec = np.array([r.observers["lyapunov_spectrum"].exponents() if not r.error else np.full(width, np.nan)
                     for r in batch.runs])
    return SweepResult(param_name=param, values=vals, kind="lyapunov", outputs={"spectrum": spec},
                       meta={"stepper": sim.model.stepper_name})


def lyapunov_mle_sweep_2d(sim, *, param_x, values_x, param_y, values_y, t0=None, T=None, N=None, dt=None,
                          transient=None, max_steps=None, threads=0, renorm_every=1):
    """The largest Lyapunov exponent over a 2-D parameter grid (outputs "mle", shape (len x, len y));
    draw it with dynlib.plot.lyapunov_map."""
    vx = np.asarray(values_x, dtype=float)
    vy = np.asarray(values_y, dtype=float)
    states, params = _base(sim, param_x)
    _base(sim, param_y)
    kw = _options(sim, t0, T, N, dt, transient, None, max_steps, threads)
    kw["observers"] = [_dynlib.lyapunov_mle(renorm_every=renorm_every, trace_stride=0)]
    out = _dynlib.sweep(sim.model, [(param_x, list(vx)), (param_y, list(vy))], ic=states, params=params, **kw)
    _check(out.batch, [(a, b) for a in vx for b in vy], f"({param_x}, {param_y})")
    mle = np.array([_mle(r) for r in out.batch.runs]).reshape(vx.size, vy.size)
    return SweepResult(param_name=param_x, values=vx, kind="lyapunov", outputs={"mle": mle},
                       meta={"param_y": param_y, "values_y": vy, "stepper": sim.model.stepper_name})
