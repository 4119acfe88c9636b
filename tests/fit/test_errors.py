"""fit's input checks: one-line ValueErrors naming the value, and no run folder left behind."""
from __future__ import annotations

import pytest

import autopreset
RUN_FILE = "run.json"


@pytest.fixture
def one_class(tmp_path):
    from PIL import Image

    (tmp_path / "one" / "a").mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / "one" / "a" / f"{i}.png")
    return tmp_path / "one"


@pytest.mark.parametrize("make,match", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no class folders"),
])
def test_bad_data_folders(tmp_path, make, match):
    with pytest.raises(ValueError, match=match):
        autopreset.fit(make(tmp_path), budget=60, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_single_class(one_class, tmp_path):
    with pytest.raises(ValueError, match="at least 2 classes"):
        autopreset.fit(one_class, budget=60, out=tmp_path / "run", progress=False)


def test_default_run_folder_is_not_made_for_a_failed_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        autopreset.fit(tmp_path / "missing", budget=60, progress=False)
    assert not (tmp_path / "runs").exists()


def test_bad_out_and_resume(tmp_path, tiny_data):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        autopreset.fit(tiny_data, budget=60, out=tmp_path / "file", progress=False)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / RUN_FILE).write_text("{}")
    with pytest.raises(ValueError, match="already holds a run"):
        autopreset.fit(tiny_data, budget=60, out=tmp_path / "done", progress=False)
    with pytest.raises(ValueError, match="no run to continue"):
        autopreset.fit(tiny_data, budget=60, out=tmp_path / "new", resume=True, progress=False)


@pytest.mark.parametrize("kw,match", [
    (dict(prefer="fast"), "prefer must be one of"),
    (dict(max_latency_ms=-1), "max_latency_ms"),
    (dict(workers=0), "workers"),
    (dict(device="tpu"), "device"),
    (dict(budget="ten minutes"), "invalid duration"),
])
def test_bad_arguments(tmp_path, tiny_data, kw, match):
    args = dict(budget=60, out=tmp_path / "run", progress=False)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        autopreset.fit(tiny_data, **args)
    assert not (tmp_path / "run").exists()
