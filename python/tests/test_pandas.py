"""Results.to_pandas(): a DataFrame of the records when pandas is installed, a clear ImportError if not."""

import importlib.util
import sys

import numpy as np
import pytest

import dynlib

HAVE_PANDAS = importlib.util.find_spec("pandas") is not None


def _ikeda_results():
    sim = dynlib.setup("builtin://map/ikeda", stepper="map")
    sim.run(N=20, record_vars=["x", "y", "aux.r2"])
    return sim.results()


@pytest.mark.skipif(not HAVE_PANDAS, reason="pandas is not installed")
def test_to_pandas_has_time_step_states_and_aux():
    res = _ikeda_results()
    df = res.to_pandas()
    assert list(df.columns) == ["t", "step", "flag", "x", "y", "aux.r2"]
    assert len(df) == len(res) == 21
    np.testing.assert_array_equal(df["t"].to_numpy(), res.t)
    np.testing.assert_array_equal(df["step"].to_numpy(), res.step)
    np.testing.assert_array_equal(df["x"].to_numpy(), res["x"])
    np.testing.assert_array_equal(df["aux.r2"].to_numpy(), res["aux.r2"])
    assert (df["flag"] == 0).all()


def test_to_pandas_without_pandas_names_the_package(monkeypatch):
    res = _ikeda_results()
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match="to_pandas\\(\\) needs pandas.*python3-pandas"):
        res.to_pandas()
