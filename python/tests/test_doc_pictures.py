"""The pictures in docs/images/python_*.png are what the example makes today: regenerated here and
compared in size and rough content (not pixel by pixel: fonts and antialiasing may differ)."""

import os
import pathlib
import runpy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SOURCE = pathlib.Path(os.environ.get("DYNLIB_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
NAMES = ["python_lorenz_phase.png", "python_logistic_bifurcation.png"]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("pictures")
    script = runpy.run_path(str(SOURCE / "python" / "examples" / "doc_pictures.py"))
    script["main"](str(out))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_picture_matches_the_stored_one(regenerated, name):
    stored = plt.imread(SOURCE / "docs" / "images" / name)[..., :3]
    fresh = plt.imread(regenerated / name)[..., :3]
    assert fresh.shape == stored.shape
    ink = lambda img: img.mean(axis=2) < 0.8  # noqa: E731  (drawn pixels)
    # The same amount of drawing, in the same places (coarse 8x8 blocks).
    assert abs(ink(fresh).mean() - ink(stored).mean()) < 0.02
    h, w = fresh.shape[0] // 8 * 8, fresh.shape[1] // 8 * 8
    blocks = lambda img: ink(img)[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))  # noqa: E731
    assert np.abs(blocks(fresh) - blocks(stored)).mean() < 0.05
