"""`dynlib plot` through the real command: every mode writes a PNG or SVG of the requested size with
something drawn; errors have clear messages and exit codes."""

import os
import pathlib
import re
import struct
import subprocess
import sys

import pytest

CLI = os.environ.get("DYNLIB_CLI")
pytestmark = pytest.mark.skipif(not CLI, reason="DYNLIB_CLI (the dynlib program) is not set")
ENV = dict(os.environ, DYNLIB_CONFIG="/nonexistent/dynlib-test-config.toml")


def dynlib(*args, cwd, env=ENV):
    return subprocess.run([CLI, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def ok(*args, cwd):
    r = dynlib(*args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


def png_size(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def assert_png(path, size):
    assert png_size(path) == size
    import matplotlib.image

    img = matplotlib.image.imread(path)[..., :3]
    assert img.std() > 0.05  # not a blank picture
    assert (img < 0.5).mean() > 0.002  # some dark ink: axes, labels, curves


def assert_svg(path, size_pt):
    text = pathlib.Path(path).read_text()
    w, h = re.search(r'<svg[^>]*width="([0-9.]+)pt" height="([0-9.]+)pt"', text).groups()
    assert (float(w), float(h)) == size_pt
    assert text.count("<path") > 10  # axes, ticks and curves


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot_cli")
    ok("run", "builtin://ode/lorenz", "--T", 10, "--dt", 0.01, "--out", "lorenz.csv", "--quiet", cwd=d)
    ok("run", "builtin://ode/izhikevich", "--T", 200, "--dt", 0.1, "--out", "izh.csv", "--events-out",
       "izh_events.csv", "--quiet", cwd=d)
    ok("sweep", "builtin://map/logistic", "--param", "r=2.5:4:101", "--N", 300, "--transient", 200,
       "--record-last", 32, "--out", "bif.csv", cwd=d)
    ok("sweep", "builtin://map/henon", "--param", "a=1.0:1.4:12", "--param", "b=0.1:0.3:8", "--N", 500,
       "--lyapunov", 1, "--out", "grid.csv", cwd=d)
    return d


def test_time_series_png(data):
    ok("plot", "lorenz.csv", "--x", "t", "--y", "x,y", "--out", "series.png", cwd=data)
    assert_png(data / "series.png", (800, 600))


def test_time_series_with_event_markers_svg(data):
    ok("plot", "izh.csv", "--y", "v", "--events", "izh_events.csv", "--out", "spikes.svg", cwd=data)
    assert_svg(data / "spikes.svg", (576.0, 432.0))
    assert "reset" in (data / "spikes.svg").read_text()  # the legend names the event


def test_phase_2d_and_3d(data):
    ok("plot", "lorenz.csv", "--phase", "x,z", "--out", "phase.png", "--size", "640x480", cwd=data)
    assert_png(data / "phase.png", (640, 480))
    ok("plot", "lorenz.csv", "--phase", "x,y,z", "--out", "phase3.svg", cwd=data)
    assert_svg(data / "phase3.svg", (576.0, 432.0))


def test_phase_with_event_points(data):
    ok("plot", "izh.csv", "--phase", "v,u", "--events", "izh_events.csv", "--event", "reset", "--out",
       "vu.png", cwd=data)
    assert_png(data / "vu.png", (800, 600))


def test_bifurcation_from_record_last_sweep(data):
    ok("plot", "bif.csv", "--bifurcation", "--out", "bif.png", cwd=data)
    assert_png(data / "bif.png", (800, 600))


def test_lyapunov_map_of_2d_sweep(data):
    ok("plot", "grid.csv", "--map", "--out", "map.png", "--size", "400x300", cwd=data)
    assert_png(data / "map.png", (400, 300))
    ok("plot", "grid.csv", "--map", "--z", "x", "--out", "mapx.svg", cwd=data)
    assert_svg(data / "mapx.svg", (576.0, 432.0))


def test_usage_and_file_errors(data):
    r = dynlib("plot", "lorenz.csv", "--out", "x.jpg", cwd=data)
    assert r.returncode == 2 and "--out must end in .png or .svg, got 'x.jpg'" in r.stderr
    r = dynlib("plot", "lorenz.csv", "--y", "q", "--out", "q.png", cwd=data)
    assert r.returncode == 1 and "'lorenz.csv' has no column 'q'. Columns: t, step, x, y, z" in r.stderr
    r = dynlib("plot", "lorenz.csv", "--bifurcation", "--out", "b.png", cwd=data)
    assert r.returncode == 1 and "is not a sweep with --record-last" in r.stderr
    r = dynlib("plot", "bif.csv", "--map", "--out", "m.png", cwd=data)
    assert r.returncode == 1 and "--map needs a 2-D sweep" in r.stderr
    r = dynlib("plot", "missing.csv", "--out", "m.png", cwd=data)
    assert r.returncode == 1 and "Cannot read the CSV 'missing.csv'" in r.stderr
    r = dynlib("plot", "lorenz.csv", "--phase", "x", "--out", "p.png", cwd=data)
    assert r.returncode == 2 and "--phase takes 2 or 3 names" in r.stderr
    assert not any((data / n).exists() for n in ("x.jpg", "q.png", "b.png", "m.png", "p.png"))


def test_missing_interpreter_is_reported(data):
    env = dict(ENV, DYNLIB_PYTHON="/nonexistent/python3")
    r = dynlib("plot", "lorenz.csv", "--out", "none.png", cwd=data, env=env)
    assert r.returncode == 3
    assert "cannot run the Python interpreter '/nonexistent/python3' (from DYNLIB_PYTHON)" in r.stderr
    assert "NumPy and matplotlib" in r.stderr


def test_missing_matplotlib_is_reported(data, monkeypatch, capsys):
    from dynlib import plot_cli

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    rc = plot_cli.main([str(data / "lorenz.csv"), "--out", str(data / "nompl.png")])
    assert rc == 3
    assert "drawing needs NumPy and matplotlib" in capsys.readouterr().err
    assert not (data / "nompl.png").exists()


def test_package_writable_by_others_is_refused(tmp_path):
    # A copy of the program next to a package folder others can write: dynlib plot must not run it.
    import shutil

    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    exe = prefix / "bin" / "dynlib"
    shutil.copy(CLI, exe)
    rel = os.environ.get("DYNLIB_PLOT_INSTALL_REL")
    if not rel:
        pytest.skip("DYNLIB_PLOT_INSTALL_REL not set")
    pkg = (prefix / "bin" / rel).resolve()
    (pkg / "dynlib").mkdir(parents=True)
    (pkg / "dynlib" / "plot_cli.py").write_text("raise SystemExit(0)\n")
    os.chmod(pkg / "dynlib", 0o777)
    r = subprocess.run([str(exe), "plot", "a.csv", "--out", "a.png"], cwd=tmp_path, env=ENV, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert "refusing to run the Python package" in r.stderr and "can be written by other users (mode 777)" in r.stderr
