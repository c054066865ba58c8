"""Every plot function renders with the Agg backend into an image of the expected size with content."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dynlib  # noqa: E402
from dynlib import plot  # noqa: E402
from dynlib.analysis import sweep  # noqa: E402

LORENZ_SECTION = """inline:
[model]
type = "ode"
[states]
x = 1.0
y = 1.0
z = 1.0
[params]
sigma = 10.0
rho = 28.0
beta = 2.6666666666666665
[equations.rhs]
x = "sigma * (y - x)"
y = "x * (rho - z) - y"
z = "x * y - beta * z"
[events.section]
cond = "cross_up(z, 27.0)"
log = ["t", "x", "y"]
[sim]
t_end = 60.0
dt = 0.005
"""


def rendered(ax, path):
    fig = ax.figure
    fig.set_size_inches(4, 3)
    fig.savefig(path, dpi=50)
    plt.close(fig)
    img = plt.imread(path)
    assert img.shape[:2] == (150, 200)
    assert float(np.std(img[..., :3])) > 0.01  # not blank
    return img


@pytest.fixture(scope="module")
def lorenz():
    sim = dynlib.setup(LORENZ_SECTION, stepper="rk4")
    sim.run()
    return sim.results()


def test_series_and_events(lorenz, tmp_path):
    rendered(plot.series(lorenz, ["x", "z"], events="section"), tmp_path / "series.png")


def test_phase_2d_and_3d(lorenz, tmp_path):
    rendered(plot.phase(lorenz, "x", "z"), tmp_path / "phase2.png")
    rendered(plot.phase(lorenz, "x", "y", "z"), tmp_path / "phase3.png")


def test_poincare_section(lorenz, tmp_path):
    assert lorenz.event("section").count > 10
    rendered(plot.poincare(lorenz, "section", "x", "y"), tmp_path / "poincare.png")


def test_bifurcation_and_cobweb(tmp_path):
    sim = dynlib.setup("builtin://map/logistic", stepper="map")
    traj = sweep.traj_sweep(sim, param="r", values=np.linspace(2.8, 4.0, 60), record_vars=["x"], N=300,
                            transient=200)
    rendered(plot.bifurcation(traj, "x"), tmp_path / "bif.png")
    rendered(plot.cobweb(sim, "x", n=40, x0=0.2, f=lambda x: 3.7 * x * (1 - x)), tmp_path / "cobweb.png")


def test_lyapunov_map(tmp_path):
    sim = dynlib.setup("builtin://map/henon", stepper="map")
    grid = sweep.lyapunov_mle_sweep_2d(sim, param_x="a", values_x=np.linspace(1.0, 1.4, 8), param_y="b",
                                       values_y=np.linspace(0.2, 0.3, 6), N=2000, transient=200)
    assert grid.mle.shape == (8, 6)
    rendered(plot.lyapunov_map(grid), tmp_path / "lyap.png")
