"""Makes the pictures of docs/python.md: python3 doc_pictures.py OUTDIR (the tests regenerate them and
compare them with the stored ones)."""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import dynlib  # noqa: E402
from dynlib import plot  # noqa: E402
from dynlib.analysis import sweep  # noqa: E402


def save(ax, path):
    fig = ax.figure
    fig.set_size_inches(5, 3.5)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(out):
    sim = dynlib.setup("builtin://ode/lorenz", stepper="rk4")
    sim.run(T=40.0, dt=0.005)
    save(plot.phase(sim.results(), "x", "z", lw=0.4), f"{out}/python_lorenz_phase.png")

    logistic = dynlib.setup("builtin://map/logistic", stepper="map")
    bif = sweep.traj_sweep(logistic, param="r", values=np.linspace(2.8, 4.0, 300), record_vars=["x"], N=400,
                           transient=300)
    save(plot.bifurcation(bif, "x", s=0.05), f"{out}/python_logistic_bifurcation.png")


if __name__ == "__main__":
    main(sys.argv[1])
