"""Plots on matplotlib: one call from a Results, a sweep or an array, returning the Axes to restyle.

    from dynlib import plot
    ax = plot.series(res, ["x", "y"])        # time series
    ax = plot.phase(res, "x", "z")           # 2-D phase portrait; plot.phase(res, "x", "y", "z") in 3-D
    ax = plot.bifurcation(sweep_result, "x") # from dynlib.analysis.sweep.traj_sweep / scalar_sweep
    ax = plot.cobweb(sim, "x", n=50)         # 1-D maps
    ax = plot.lyapunov_map(sweep2d_result)   # a 2-D sweep of the largest Lyapunov exponent as an image
    ax = plot.poincare(res, "section", "x", "y")  # points logged by an event

Each function takes `ax=` to draw into existing axes; without it, a new figure is made.
"""

import numpy as np


def _axes(ax, projection=None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure()
    return fig.add_subplot(111, projection=projection) if projection else fig.add_subplot(111)


def _names(v):
    return [v] if isinstance(v, str) else list(v)


def series(res, vars=None, *, ax=None, events=None, **style):
    """Time series of recorded variables (default: every recorded state). `events`: event names whose
    firing times are marked with vertical lines."""
    ax = _axes(ax)
    names = _names(vars) if vars is not None else list(res.state_names)
    for name in names:
        ax.plot(res.t, res[name], label=name, **style)
    for ev in _names(events) if events is not None else []:
        view = res.event(ev)
        for k, t in enumerate(view.t):
            ax.axvline(t, color="0.6", lw=0.8, ls="--", label=ev if k == 0 else None)
    ax.set_xlabel("t")
    if len(names) > 1 or events:
        ax.legend()
    elif names:
        ax.set_ylabel(names[0])
    return ax


def phase(res, x, y, z=None, *, ax=None, **style):
    """Phase portrait of two recorded variables, or three (a 3-D axes)."""
    if z is None:
        ax = _axes(ax)
        ax.plot(res[x], res[y], **style)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        return ax
    ax = _axes(ax, projection="3d")
    ax.plot(res[x], res[y], res[z], **style)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_zlabel(z)
    return ax


def bifurcation(sweep_result, var=None, *, ax=None, tail=None, **style):
    """Bifurcation diagram: for each parameter value, the recorded values of `var` (the last `tail`
    records of each run if given) as points. Takes a trajectory sweep, or a scalar sweep (one point per
    value)."""
    ax = _axes(ax)
    style.setdefault("s", 0.3)
    style.setdefault("color", "k")
    values = np.asarray(sweep_result.values)
    if sweep_result.kind == "scalar":
        ax.scatter(values, sweep_result.outputs["y"], **style)
    else:
        runs = sweep_result.data
        col = list(sweep_result.record_vars).index(var if var is not None else sweep_result.record_vars[0])
        xs, ys = [], []
        for p, data in zip(values, runs):
            y = data[:, col] if tail is None else data[-tail:, col]
            xs.append(np.full(y.shape, p))
            ys.append(y)
        ax.scatter(np.concatenate(xs), np.concatenate(ys), **style)
    ax.set_xlabel(sweep_result.param_name)
    ax.set_ylabel(var if var is not None else sweep_result.meta.get("var", ""))
    return ax


def lyapunov_map(grid, *, x=None, y=None, ax=None, cmap="RdBu_r", **style):
    """A 2-D map of exponents as an image. `grid` is a SweepResult of lyapunov_mle_sweep_2d (or a 2-D array
    with x= and y= value arrays). Positive (chaotic) is red, negative blue, centred on zero."""
    ax = _axes(ax)
    if hasattr(grid, "outputs"):
        x, y, z = grid.values, grid.meta["values_y"], np.asarray(grid.outputs["mle"])
        xlabel, ylabel = grid.param_name, grid.meta["param_y"]
    else:
        z = np.asarray(grid)
        xlabel, ylabel = "", ""
    lim = float(np.nanmax(np.abs(z))) or 1.0
    im = ax.imshow(
        z.T,
        origin="lower",
        aspect="auto",
        extent=[x[0], x[-1], y[0], y[-1]],
        cmap=cmap,
        vmin=-lim,
        vmax=lim,
        **style,
    )
    ax.figure.colorbar(im, ax=ax, label="largest Lyapunov exponent")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def cobweb(sim_or_values, var=None, *, n=50, x0=None, ax=None, f=None, **style):
    """Cobweb plot of a 1-D map: the iterates of `var` (from a Sim running N=n iterations, or an array of
    iterates) drawn as a staircase between the map's graph and the diagonal."""
    ax = _axes(ax)
    if hasattr(sim_or_values, "run"):
        sim = sim_or_values
        kw = {"N": n}
        if x0 is not None:
            kw["ic"] = {var: x0}
        sim.run(**kw)
        xs = np.array(sim.results()[var])
    else:
        xs = np.asarray(sim_or_values, dtype=float)
    lo, hi = float(xs.min()), float(xs.max())
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 400)
    ax.plot(grid, grid, color="0.5", lw=0.8)
    if f is not None:
        ax.plot(grid, f(grid), color="C0")
    else:
        ax.plot(xs[:-1], xs[1:], ".", color="C0", ms=3)
    # (x_k, x_k) -> (x_k, x_k+1) -> (x_k+1, x_k+1): up to the graph, across to the diagonal.
    stairs_x = np.repeat(xs, 2)[:-1]
    stairs_y = np.empty_like(stairs_x)
    stairs_y[0::2] = xs
    stairs_y[1::2] = xs[1:]
    ax.plot(stairs_x, stairs_y, color="C3", lw=0.8, **style)
    ax.set_xlabel(f"{var or 'x'}_n")
    ax.set_ylabel(f"{var or 'x'}_(n+1)")
    return ax


def poincare(res, event, x, y, *, ax=None, **style):
    """A Poincaré section: the values of two fields an event logged each time it fired."""
    ax = _axes(ax)
    view = res.event(event)
    style.setdefault("s", 2)
    ax.scatter(view[x], view[y], **style)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"section: {event}")
    return ax
