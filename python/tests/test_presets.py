"""Presets from Python: the model's own, added ones, and preset files (load_preset / save_preset)."""

import pytest

import dynlib


def test_save_and_load_a_preset_file(tmp_path):
    path = tmp_path / "izh.toml"
    a = dynlib.setup("builtin://ode/izhikevich")
    a.add_preset("slow", params={"a": 0.1 / 3}, states={"v": -70.25})
    a.save_preset("slow", path)
    a.save_preset("bursting", str(path))
    assert "dynlib-presets-v1" in path.read_text()

    b = dynlib.setup("builtin://ode/izhikevich")
    assert b.load_preset("sl*", path) == 1
    assert "slow" in b.list_presets()
    b.apply_preset("slow")
    assert b.param("a") == 0.1 / 3 and b.state("v") == -70.25

    with pytest.raises(dynlib.ArgumentError, match="Preset 'bursting' from .* already exists"):
        b.load_preset("*", path)
    with pytest.raises(ValueError):  # ArgumentError is also a ValueError
        b.load_preset("*", path)
    assert b.load_preset("*", path, on_conflict="keep") == 0
    assert b.load_preset("*", path, on_conflict="replace") == 2
    with pytest.raises(dynlib.ArgumentError, match="on_conflict must be 'error', 'keep' or 'replace'"):
        b.load_preset("*", path, on_conflict="merge")
    with pytest.raises(dynlib.ArgumentError, match="already in"):
        a.save_preset("slow", path)
    a.save_preset("slow", path, overwrite=True)


def test_bad_preset_file_names_the_line_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[__presets__]\nschema = "dynlib-presets-v1"\n[presets.p.params]\nzeta = 1.0\n')
    sim = dynlib.setup("builtin://ode/izhikevich")
    with pytest.raises(dynlib.ArgumentError, match=r"bad\.toml':4: \[presets\.p\]\.params\.zeta: unknown param"):
        sim.load_preset("*", path)
