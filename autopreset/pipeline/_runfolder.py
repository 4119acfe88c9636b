"""The run folder: where a fit keeps its journal, trial checkpoints, model, leaderboard, report.

``out=None`` makes ``runs/<UTC timestamp>`` and points ``runs/latest`` at it (once the run
starts: a fit that fails while checking its input leaves no folder behind). A folder that
already holds a run is only reused with ``resume=True``; ``resume=True`` needs one.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

from autopreset._atomic import write_json_atomic
from autopreset.errors import InputError

__all__ = ["prepare_run_folder", "create_run_folder", "write_json", "read_json", "journal_spent",
           "RUN_FILE"]

RUN_FILE = "run.json"


def write_json(path: Path, obj) -> None:
    """Write JSON atomically (temp file in the same folder, fsync, then rename)."""
    write_json_atomic(path, obj)


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def journal_spent(folder: Path) -> float:
    """Seconds of the budget a run's journal says its search has spent (0 without one)."""
    from autopreset.journal import read_journal
    from autopreset.tuner import JOURNAL_NAME

    path = Path(folder) / JOURNAL_NAME
    events = read_journal(path) if path.exists() else []
    return max((float(e.get("spent") or 0.0) for e in events), default=0.0)


def prepare_run_folder(out, *, resume: bool) -> Path:
    """Check (or, resuming, find) the run folder and return it; :func:`create_run_folder`
    makes it once the data and plan are known, so a failed start leaves nothing behind."""
    if out is None:
        if resume:
            latest = Path("runs") / "latest"
            if not latest.exists():
                raise InputError("--resume needs --out RUN_FOLDER (runs/latest does not exist)")
            return latest.resolve()
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        folder = Path("runs") / stamp
        n = 1
        while folder.exists():
            n += 1
            folder = Path("runs") / f"{stamp}-{n}"
        _check_writable(folder)
        return folder
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {str(folder)!r} is a file, not a folder")
    has_run = (folder / RUN_FILE).is_file()
    if resume:
        if not has_run:
            raise InputError(f"--resume: {str(folder)!r} holds no run to continue (no {RUN_FILE})")
        return folder
    if has_run:
        raise InputError(f"--out {str(folder)!r} already holds a run; use --resume to continue it "
                         "or choose another folder")
    _check_writable(folder)
    return folder


def create_run_folder(folder: Path, *, default: bool) -> None:
    """Make the run folder; a default one (runs/<timestamp>) also becomes runs/latest."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {str(folder)!r}: cannot create it ({exc.strerror})") from None
    if default:
        _point_latest(folder)


def _check_writable(folder: Path) -> None:
    parent = folder
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {str(folder)!r}: cannot create or write it "
                         f"({str(parent)!r} is not a writable folder)")


def _point_latest(folder: Path) -> None:
    latest = folder.parent / "latest"
    tmp = folder.parent / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        os.symlink(folder.name, tmp)
        os.replace(tmp, latest)
    except OSError:
        pass                     # no symlinks here (some filesystems): runs/latest is optional
