"""The input size fit chooses from the images and the budget, with a simulated speed table.

The backbones' speeds are a function of the size (``measure``), so no model is built: a
backbone at ``r`` px trains at ``K / r**2`` images per second, the area law the chooser scales
by; one test makes the real cost steeper than the law to check that the chooser measures the
step it picks and steps down.
"""
from __future__ import annotations

import pytest
from PIL import Image

from autopreset.pipeline._data import prepare_data
from autopreset.pipeline._resolution import LADDER, choose_resolution, min_epochs


def photos(folder, side, n=6, classes=("a", "b")):
    paths = []
    for c in classes:
        (folder / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            p = folder / c / f"{i}.png"
            Image.new("RGB", (side + 20, side), (40 * i, 100, 200 if c == "a" else 0)).save(p)
            paths.append(str(p))
    return paths


def area_law(k=2.0e6, calls=None, steeper=1.0):
    """Images/s of every backbone at size r: k / r^2 (times ``steeper`` above 64 px)."""
    def measure(names, size):
        if calls is not None:
            calls.append(size)
        ips = k / size ** 2 / (steeper if size > 64 else 1.0)
        return {n: (ips, 3 * ips) for n in names}
    return measure


def epochs_at(r, *, k=2.0e6, n_train=800, n_val=200, search_s=600.0, margin=1.25):
    ips = k / r ** 2
    return search_s / ((n_train / ips + n_val / (3 * ips)) * margin)


def test_the_largest_size_whose_epochs_the_budget_affords(tmp_path):
    paths = photos(tmp_path, 300)
    choice = choose_resolution(paths, search_s=600.0, n_train=800, n_val=200,
                               backbones=["resnet18"], measure=area_law())
    need = min_epochs(3)
    assert need == 27
    afford = [r for r in LADDER if epochs_at(r) >= need]
    assert choice.resolution == max(afford) and choice.resolution > 32
    assert choice.side == 300 and choice.epochs >= need
    nxt = LADDER[LADDER.index(choice.resolution) + 1]
    assert epochs_at(nxt) < need and choice.larger[0] == nxt
    assert "300px" in choice.describe() and f"{choice.resolution}px" in choice.describe()


def test_more_budget_buys_a_larger_input_and_less_a_smaller_one(tmp_path):
    paths = photos(tmp_path, 256)
    sizes = [choose_resolution(paths, search_s=s, n_train=800, n_val=200, backbones=["x"],
                               measure=area_law()).resolution for s in (30, 300, 3000, 30000)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert sizes[0] == 32            # the floor when nothing affords enough epochs
    assert sizes[-1] == 256          # never above the images' own side


def test_never_upscales_small_images(tmp_path):
    paths = photos(tmp_path, 72)
    choice = choose_resolution(paths, search_s=1e6, n_train=800, n_val=200, backbones=["x"],
                               measure=area_law())
    assert choice.resolution == 64 and "no upscaling" in choice.reason
    tiny = photos(tmp_path / "tiny", 20)
    calls = []
    choice = choose_resolution(tiny, search_s=1e6, n_train=800, n_val=200, backbones=["x"],
                               measure=area_law(calls=calls))
    assert choice.resolution == 32 and calls == []      # no measurement needed


def test_measures_the_step_it_picks_and_steps_down_when_the_area_law_was_too_kind(tmp_path):
    paths = photos(tmp_path, 300)
    calls = []
    kind = choose_resolution(paths, search_s=600.0, n_train=800, n_val=200, backbones=["x"],
                             measure=area_law())
    steep = choose_resolution(paths, search_s=600.0, n_train=800, n_val=200, backbones=["x"],
                              measure=area_law(calls=calls, steeper=1.8))
    assert calls[0] == 64 and kind.resolution in calls        # probe, then the estimate
    assert steep.resolution < kind.resolution and steep.epochs >= 27


def test_more_workers_afford_more_and_a_huge_folder_caps_the_cache(tmp_path):
    paths = photos(tmp_path, 300)
    one = choose_resolution(paths, search_s=300.0, n_train=800, n_val=200, backbones=["x"],
                            measure=area_law())
    four = choose_resolution(paths, search_s=300.0, n_train=800, n_val=200, backbones=["x"],
                             n_workers=4, measure=area_law())
    assert four.resolution > one.resolution
    huge = choose_resolution(paths, search_s=1e9, n_train=90_000, n_val=10_000, backbones=["x"],
                             measure=area_law())
    assert huge.resolution * huge.resolution * 3 * 100_000 <= 4 * 2 ** 30
    assert huge.resolution < 256 and "GiB" in huge.reason


def test_prepare_data_caches_at_the_chosen_size_and_resolution_overrides_it(tmp_path):
    photos(tmp_path / "data", 100)
    seen = []

    def chooser(paths):
        seen.append(len(paths))
        return 48

    d = prepare_data(str(tmp_path / "data"), seed=0, chooser=chooser, n_jobs=1)
    assert d.resolution == 48 and seen == [12]
    assert d.cache.open().shape[1:3] == (48, 48)
    d = prepare_data(str(tmp_path / "data"), seed=0, chooser=chooser, resolution=40, n_jobs=1)
    assert d.resolution == 40 and seen == [12]


@pytest.mark.parametrize("eta,need", [(2, 12), (3, 27), (4, 48)])
def test_min_epochs_is_three_times_a_bracket(eta, need):
    assert min_epochs(eta) == need
