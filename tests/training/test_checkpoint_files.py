"""Checkpoint tensor files: written atomically, readable like every other file the run writes."""
from __future__ import annotations

import os
import stat

import torch

from autopreset.training._checkpoint import save_tensors_atomic


def test_tensor_files_get_the_umask_mode_and_leave_no_temporary_file(tmp_path):
    old = os.umask(0o022)
    try:
        save_tensors_atomic(tmp_path / "state-00001.safetensors", {"w": torch.ones(3)})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state-00001.safetensors").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["state-00001.safetensors"]
