"""Snapshots as .npz archives (the reference library's layout): a resumed run is bit-identical, and a file
we do not trust is refused with a clear message before anything is loaded."""

import json
import os
import zipfile

import numpy as np
import pytest

import dynlib


def _run(stepper, T):
    sim = dynlib.setup("builtin://ode/izhikevich", stepper=stepper)
    sim.run(T=T, dt=0.05)
    return sim


@pytest.mark.parametrize("stepper", ["rk4", "rk45", "ab3"])
def test_npz_round_trip_resumes_bit_identically(tmp_path, stepper):
    path = tmp_path / "izh.npz"
    a = _run(stepper, 30.0)
    a.export_snapshot(path)
    a.run(T=60.0, resume=True)

    b = dynlib.setup("builtin://ode/izhikevich", stepper=stepper)
    b.import_snapshot(path)
    assert b.t == 30.0
    b.run(T=60.0, resume=True)
    np.testing.assert_array_equal(b.state_vector(), a.state_vector())
    assert b.step_count == a.step_count


def test_npz_layout_and_meta(tmp_path):
    path = tmp_path / "s.npz"
    sim = _run("rk45", 10.0)
    sim.create_snapshot("early", "after 10 ms")
    sim.export_snapshot(str(path), source="snapshot", name="early")
    with np.load(path, allow_pickle=False) as z:
        names = set(z.files)
        meta = json.loads(z["meta.json"].tobytes())
        np.testing.assert_array_equal(z["y"], sim.state_vector())
    assert {"meta.json", "y", "params", "stepper_config", "workspace/stepper/ws"} <= names
    assert meta["schema"] == "dynlib-snapshot-v1"
    assert meta["name"] == "early" and meta["description"] == "after 10 ms"
    assert meta["state_names"] == ["v", "u"] and meta["n_params"] == 6
    assert meta["pins"]["stepper_name"] == "rk45" and meta["pins"]["dtype_token"] == "f64"
    assert meta["t_curr"] == 10.0
    assert sim.inspect_snapshot(path) == meta
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporary file left


def _rewrite(src, dst, change):
    """Copy an .npz, letting change(name, bytes) return new bytes (or None to drop the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


def _npy(arr):
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _meta_bytes(meta):
    return _npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def test_untrusted_npz_is_refused(tmp_path):
    good = tmp_path / "good.npz"
    sim = _run("rk4", 5.0)
    sim.export_snapshot(good)
    meta = sim.inspect_snapshot(good)
    target = dynlib.setup("builtin://ode/izhikevich", stepper="rk4")
    before = target.state_vector()

    def refused(change, match):
        bad = tmp_path / "bad.npz"
        _rewrite(good, bad, change)
        with pytest.raises(dynlib.ArgumentError, match=match):
            target.import_snapshot(bad)
        np.testing.assert_array_equal(target.state_vector(), before)  # nothing was loaded

    refused(lambda n, d: _meta_bytes(dict(meta, schema="v9")) if n == "meta.json.npy" else d,
            "Unsupported schema 'v9'")
    refused(lambda n, d: None if n == "meta.json.npy" else d, "Missing 'meta.json'")
    refused(lambda n, d: _npy(np.frombuffer(b"{not json", np.uint8)) if n == "meta.json.npy" else d,
            "Invalid JSON in meta.json")
    refused(lambda n, d: _npy(np.array([object()], dtype=object)) if n == "y.npy" else d,
            "member 'y'")  # would need pickle
    refused(lambda n, d: _npy(np.zeros((2, 2))) if n == "y.npy" else d, "member 'y' must be a 1-D float64")
    refused(lambda n, d: _npy(np.zeros(5)) if n == "y.npy" else d, "y")  # wrong length: the engine's check
    refused(lambda n, d: _meta_bytes(dict(meta, pins=dict(meta["pins"], spec_hash="0" * 32)))
            if n == "meta.json.npy" else d, "Snapshot incompatible")
    refused(lambda n, d: _meta_bytes({k: v for k, v in meta.items() if k != "engine"})
            if n == "meta.json.npy" else d, "written by another engine")
    extra = tmp_path / "extra.npz"
    _rewrite(good, extra, lambda n, d: d)
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("evil.npy", b"x")
    with pytest.raises(dynlib.ArgumentError, match="unexpected member 'evil.npy'"):
        target.import_snapshot(extra)
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(dynlib.ArgumentError, match="not an .npz archive"):
        target.import_snapshot(tmp_path / "text.npz")
    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(dynlib.ArgumentError, match="not a regular file"):
        target.import_snapshot(tmp_path / "fifo.npz")


def test_text_snapshots_still_work(tmp_path):
    sim = _run("rk4", 5.0)
    sim.export_snapshot(tmp_path / "s.snap")
    assert (tmp_path / "s.snap").read_text().startswith("dynlib-snapshot v1")
    other = dynlib.setup("builtin://ode/izhikevich", stepper="rk4")
    other.import_snapshot(tmp_path / "s.snap")
    assert other.t == 5.0


def test_archive_of_another_engine_can_be_inspected_not_imported(tmp_path):
    # The reference library's layout: its own workspace member names, no "engine" in meta.json.
    meta = {"schema": "dynlib-snapshot-v1", "name": "current", "state_names": ["v", "u"],
            "pins": {"spec_hash": "abc", "stepper_name": "rk4"}, "t_curr": 1.0}
    path = tmp_path / "ref.npz"
    np.savez(path, **{"meta.json": np.frombuffer(json.dumps(meta).encode(), np.uint8), "y": np.zeros(2),
                      "params": np.zeros(6), "workspace/stepper/k1": np.zeros(2)})
    sim = dynlib.setup("builtin://ode/izhikevich", stepper="rk4")
    assert sim.inspect_snapshot(path) == meta
    with pytest.raises(dynlib.ArgumentError, match="written by another engine"):
        sim.import_snapshot(path)
    ours = tmp_path / "ours.npz"
    sim.export_snapshot(ours)
    _rewrite(ours, tmp_path / "odd.npz", lambda n, d: d)
    with zipfile.ZipFile(tmp_path / "odd.npz", "a") as z:
        z.writestr("workspace/stepper/k1.npy", _npy(np.zeros(2)))
    with pytest.raises(dynlib.ArgumentError, match="unexpected member 'workspace/stepper/k1.npy'"):
        sim.import_snapshot(tmp_path / "odd.npz")
