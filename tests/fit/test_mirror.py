"""fit decides horizontal flips from the data: off where mirroring changes the class."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from autopreset.pipeline import FitPlan, mirror_check, prepare_data


def _folder(root, kind: str, n: int = 40, size: int = 16):
    """'sided': the class is which half is bright (mirroring swaps the classes);
    'colour': the class is the tint (mirroring changes nothing)."""
    rng = np.random.default_rng(0)
    for c in range(2):
        folder = root / f"c{c}"
        folder.mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
            if kind == "sided":
                img[:, :size // 2] += 150 if c == 0 else 0
                img[:, size // 2:] += 150 if c == 1 else 0
            else:
                img[..., c] += 150
            Image.fromarray(img).save(folder / f"{i}.png")
    return root


@pytest.mark.parametrize("kind,flip", [("sided", False), ("colour", True)])
def test_mirror_check_turns_flips_off_only_where_orientation_is_the_class(tmp_path, kind, flip,
                                                                            monkeypatch):
    monkeypatch.setenv("AUTOPRESET_CACHE", str(tmp_path / "cache"))
    prepared = prepare_data(_folder(tmp_path / kind, kind), seed=0, resolution=16, n_jobs=1)
    check = mirror_check(prepared)
    assert check.flip is flip
    assert check.accuracy > 0.9
    if flip:
        assert check.kept > 0.8 and "horizontal flips" in check.describe()
    else:
        assert check.kept < 0.2 and "no flips" in check.describe()


def test_plan_constants_carry_the_flip_decision_and_old_plans_keep_flips():
    base = dict(budget_s=60.0, search_s=50.0, reserve_s=8.0, n_workers=1, max_resource=9, eta=3,
                portfolio=[{"backbone": "test_resnet", "lr": 0.01, "batch_size": 16}], portfolio_rungs=[[1, 9]], portfolio_s=50.0,
                hyperband=None, hyperband_s=0.0)
    assert FitPlan(**base).constants["augment"] == "crop_flip"       # run.json without "flip"
    plan = FitPlan(**base, flip=False)
    assert plan.constants["augment"] == "crop" and "no flips" in plan.describe()
    assert FitPlan.from_json(plan.to_json()).flip is False
