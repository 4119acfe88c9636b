"""Input size and data fraction as fidelities in the trainer, on the tiny colour folder."""
from __future__ import annotations

import json

import numpy as np
import pytest

from autopreset.training import RecordingReporter, resolve_config
from autopreset.training._fidelity import (fidelity_at, format_fidelity, parse_fidelity,
                                           resolve_fidelity, stratified_subset)
from trainer_data import CONFIG, SIZE


def run(task, folder, config, *, epochs, max_resource, stop_at=None):
    reporter = RecordingReporter(checkpoint_dir=folder, max_resource=max_resource,
                                 stop_at=stop_at or epochs)
    task(config, reporter)
    return reporter.results, json.loads((folder / "checkpoint.json").read_text())


def test_schedule_strings_parse_and_bad_ones_name_the_segment():
    segs = parse_fidelity("1:8:0.25,3:10:0.5,9:0:1")
    assert segs == [(1, 8, 0.25), (3, 10, 0.5), (9, 0, 1.0)]
    assert parse_fidelity(format_fidelity(segs)) == segs and parse_fidelity("") == []
    assert [fidelity_at(segs, e, 12) for e in (0, 1, 2, 3, 20)] == [
        (8, 0.25), (10, 0.5), (10, 0.5), (12, 1.0), (12, 1.0)]
    assert fidelity_at(parse_fidelity("2:64:1"), 0, 32) == (32, 1.0)   # never above the cache
    for bad, says in [("3:8:0.5,2:0:1", "must end after epoch 3"), ("1:8", "until:px:fraction"),
                      ("1:8:0", "fraction must be in"), ("1:4:1", "px must be 0 or"),
                      ("x", "until:px:fraction"), ("0:8:1", "must end after epoch 0"),
                      ("-2:8:1,9:0:1", "comes last")]:
        with pytest.raises(ValueError, match=says):
            resolve_config({**CONFIG, "fidelity": bad})


def test_a_segment_counted_from_the_end_leaves_the_schedules_last_epochs_full():
    segs = parse_fidelity("1:8:0.5,-3:16:1")
    assert segs == [(1, 8, 0.5), (-3, 16, 1.0)] and format_fidelity(segs) == "1:8:0.5,-3:16:1"
    at = resolve_fidelity(segs, 9)
    assert at == [(1, 8, 0.5), (6, 16, 1.0)]
    assert [fidelity_at(at, e, 32) for e in (0, 1, 5, 6, 8)] == [
        (8, 0.5), (16, 1.0), (16, 1.0), (32, 1.0), (32, 1.0)]
    assert resolve_fidelity(parse_fidelity("-3:16:1"), 27) == [(24, 16, 1.0)]
    # a schedule no longer than the tail: every epoch full; behind a later segment: dropped
    assert resolve_fidelity(parse_fidelity("-3:16:1"), 3) == []
    assert resolve_fidelity(segs, 4) == [(1, 8, 0.5)]


def test_subsets_are_stratified_nested_and_keep_every_class():
    labels = np.repeat([0, 1, 2], [50, 10, 3])
    small, half, full = (stratified_subset(labels, f, seed=4) for f in (0.1, 0.5, 1.0))
    assert set(small) <= set(half) <= set(full) and len(full) == len(labels)
    assert np.bincount(labels[small]).tolist() == [5, 1, 1]
    assert np.bincount(labels[half]).tolist() == [25, 5, 2]
    assert np.array_equal(small, stratified_subset(labels, 0.1, seed=4))
    assert not np.array_equal(small, stratified_subset(labels, 0.1, seed=5))


def test_early_epochs_train_smaller_on_fewer_images_and_the_kept_model_is_full(task_and_data,
                                                                                 tmp_path):
    _, task = task_and_data
    cfg = {**CONFIG, "fidelity": "1:8:0.34,2:10:0.67,4:0:1"}
    results, meta = run(task, tmp_path / "a", cfg, epochs=4, max_resource=4)
    seen = [(r["resolution"], r["data_fraction"]) for r in results]
    assert seen == [(8, 0.34), (10, 0.67), (SIZE, 1.0), (SIZE, 1.0)]
    per_class = len(task.train_idx) // 3                       # (the split is stratified)
    assert [r["train_images"] for r in results] == [
        3 * int(np.ceil(0.34 * per_class)), 3 * int(np.ceil(0.67 * per_class)),
        3 * per_class, 3 * per_class]
    assert meta["best"]["epoch"] in (3, 4) and "full" not in meta["best"]
    # the checkpoint's model serves at the cache's size
    assert meta["input_size"] == SIZE


def test_a_trial_paused_at_a_low_rung_resumes_on_the_same_curve(task_and_data, tmp_path):
    _, task = task_and_data
    cfg = {**CONFIG, "fidelity": "1:8:0.5,3:0:1"}
    whole, _ = run(task, tmp_path / "whole", cfg, epochs=3, max_resource=3)
    first, meta = run(task, tmp_path / "paused", cfg, epochs=1, max_resource=3)
    assert meta["best"] == {"epoch": 1, "metric": first[0]["metric"], "full": False}
    rest, _ = run(task, tmp_path / "paused", cfg, epochs=3, max_resource=3)
    fresh = [r for r in rest if not r.get("restored")]
    assert [r["resource"] for r in fresh] == [2, 3]
    for a, b in zip(whole[1:], fresh):
        assert a["metric"] == pytest.approx(b["metric"], abs=1e-6)
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)


def test_a_tail_schedule_trains_small_then_serves_at_full_size(task_and_data, tmp_path):
    _, task = task_and_data
    cfg = {**CONFIG, "fidelity": "-1:8:1"}
    results, meta = run(task, tmp_path / "tail", cfg, epochs=3, max_resource=3)
    assert [(r["resolution"], r["full_fidelity"]) for r in results] == [
        (8, False), (8, False), (SIZE, True)]
    assert meta["best"]["epoch"] == 3 and meta["input_size"] == SIZE
