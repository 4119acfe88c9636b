"""Trial records as the report reads them, and the per-trial summary a leaderboard row holds.

A record is what the journal knows of one trial: its config, its status and the results it
reported, each ``{"resource": int, "metric": float, "time": seconds since the run started,
...}``. Plain dicts with these keys are accepted everywhere a ``TrialRecord`` is, so callers
can pass journal rows without converting them first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

MODES = ("max", "min")


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a run: config, status, reported results, optional latency and phase.

    >>> TrialRecord(trial_id=0, config={"lr": 0.1}, status="completed",
    ...             results=[{"resource": 1, "metric": 0.9, "time": 3.0}]).best("max")["metric"]
    0.9
    """

    trial_id: int
    config: dict[str, Any]
    status: str = "completed"
    results: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    phase: str | None = None
    weights: str | None = None        # what the model started from ("random", "file:<path>")

    @classmethod
    def coerce(cls, obj: "TrialRecord | Mapping[str, Any]") -> "TrialRecord":
        """A TrialRecord from itself or from a dict with the same keys (extra keys ignored)."""
        if isinstance(obj, TrialRecord):
            return obj
        if not isinstance(obj, Mapping):
            raise ValueError(f"a trial record must be a TrialRecord or a dict, got {type(obj).__name__}")
        if "trial_id" not in obj:
            raise ValueError(f"trial record has no 'trial_id': {dict(obj)!r:.200}")
        results = obj.get("results") or []
        for i, r in enumerate(results):
            if not isinstance(r, Mapping) or "metric" not in r or "resource" not in r:
                raise ValueError(
                    f"trial {obj['trial_id']}: results[{i}] needs 'resource' and 'metric', got {r!r:.200}")
        latency = obj.get("latency_ms")
        return cls(trial_id=obj["trial_id"], config=dict(obj.get("config") or {}),
                   status=str(obj.get("status", "completed")), results=[dict(r) for r in results],
                   latency_ms=None if latency is None else float(latency), phase=obj.get("phase"),
                   weights=None if obj.get("weights") is None else str(obj["weights"]))

    def finite_results(self) -> list[dict[str, Any]]:
        """Results whose metric is a finite number (failed or NaN reports are left out)."""
        return [r for r in self.results if _finite(r.get("metric"))]

    def best(self, mode: str = "max") -> dict[str, Any] | None:
        """The best result (ties: the one at the higher resource, then the earlier), or None."""
        check_mode(mode)
        finite = self.finite_results()
        if not finite:
            return None
        sign = 1.0 if mode == "max" else -1.0
        return max(finite, key=lambda r: (sign * float(r["metric"]), r["resource"]))

    def resource_reached(self) -> int:
        """The most resource this trial reported (0 when it reported nothing)."""
        return max((int(r["resource"]) for r in self.results), default=0)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")


def coerce_all(trials: Iterable[TrialRecord | Mapping[str, Any]]) -> list[TrialRecord]:
    records = [TrialRecord.coerce(t) for t in trials]
    ids = [r.trial_id for r in records]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"trial ids must be unique; repeated: {dup}")
    return records


def rank(records: Iterable[TrialRecord | Mapping[str, Any]], mode: str = "max") -> list[TrialRecord]:
    """Records best first: by best metric, then more resource, then lower trial id.

    Trials that never reported a finite metric come last, in trial-id order. Dicts are accepted
    and returned as TrialRecords.
    """
    check_mode(mode)
    records = coerce_all(records)
    sign = -1.0 if mode == "max" else 1.0

    def key(r: TrialRecord) -> tuple:
        b = r.best(mode)
        if b is None:
            return (1, 0.0, 0, _sortable(r.trial_id))
        return (0, sign * float(b["metric"]), -r.resource_reached(), _sortable(r.trial_id))

    return sorted(records, key=key)


def _sortable(trial_id: Any) -> tuple:
    return (0, trial_id, "") if isinstance(trial_id, (int, float)) else (1, 0, str(trial_id))


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
