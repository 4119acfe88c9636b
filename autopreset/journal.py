"""The run journal: an append-only JSON-lines log of trial events, for exact resume.

Every event is one line, written, flushed and ``os.fsync``'ed before the tuner moves on, so a
crash (even SIGKILL or power loss) loses at most the line being written; a torn last line is
dropped when the journal is read or reopened. Each event carries ``t`` (wall-clock, Unix time)
and ``spent`` (seconds on the run's budget ledger: time the tuner actually ran, summed across
resumed sessions, downtime excluded).

Events (``event`` key): ``run_started``, ``started`` (trial_id, config, target_resource,
checkpoint_dir), ``carried`` (a trial from an earlier run: config, results, checkpoint_dir),
``resumed`` (a paused trial promoted to a higher target_resource), ``reported`` (trial_id,
result, decision), ``paused``, ``completed``, ``stopped``, ``failed`` (reason), ``interrupted``
(running at the deadline, at a signal (``signal``: its name) or at a crash), ``tick`` (ledger
heartbeat),
``run_ended`` (``deadline_hit``; ``interrupted``: "SIGINT" or "SIGTERM" when a signal ended it).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from autopreset._faults import fault_hit, kill_run
from autopreset.errors import InputError

FORMAT = "autopreset.journal/1"


def _clean(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None, unknowns to str."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        try:
            return _clean(value.item())
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def read_journal(path: str | os.PathLike) -> list[dict]:
    """All complete events of a journal, oldest first; a torn (unterminated or undecodable)
    last line is ignored; a bad line elsewhere is a ValueError naming the file and line."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    events = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        last = i == len(lines) - 1 or (i == len(lines) - 2 and not lines[-1])
        try:
            event = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if last:
                break
            raise InputError(f"journal {path}: line {i + 1} is not valid JSON") from None
        if i == len(lines) - 1 and data and not data.endswith(b"\n"):
            break   # written but not terminated: the write may be partial
        if not isinstance(event, dict) or "event" not in event:
            raise InputError(f"journal {path}: line {i + 1} is not an event")
        events.append(event)
    return events


class Journal:
    """Append events to ``path``; each write is flushed and fsync'ed.

        with Journal(run_dir / "journal.jsonl") as j:
            j.write({"event": "started", "trial_id": 0, ...})
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._truncate_torn_tail()
        self._file = open(self.path, "ab")

    def _truncate_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1   # drop an unterminated last line
        if keep != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())

    def write(self, event: dict) -> None:
        line = json.dumps(_clean(event), separators=(",", ":"), allow_nan=False) + "\n"
        if fault_hit("journal"):             # fault injection: die with half a line written
            self._file.write(line.encode()[:len(line) // 2])
            self._file.flush()
            kill_run()
        self._file.write(line.encode())
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
