"""Fixtures: a tiny image folder (3 colour classes, a few bad files) and its trainer task."""
from __future__ import annotations

import pytest

from trainer_data import make_folder, make_task


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("imgs") / "data")


@pytest.fixture(scope="module")
def task_and_data(folder, tmp_path_factory):
    return make_task(folder, tmp_path_factory.mktemp("cache"))
