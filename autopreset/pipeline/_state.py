"""The run's persisted state: ``run.json``, written once the plan is made and read on
``--resume``. One typed object, so the run folder and a resumed run agree on every field.

A resumed run keeps what its plan was made for (budget, preference, seed, resolution, data,
preset); :meth:`RunState.kept` says which given values it did not take.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autopreset.errors import InputError

from ._cost import CostModel
from ._plan import FitPlan
from ._preference import Preference

__all__ = ["RunState", "RUN_FORMAT"]

RUN_FORMAT = "autopreset.run/1"


@dataclass(frozen=True, kw_only=True)
class RunState:
    """Everything a run decided before its search, as ``run.json`` holds it."""

    data: str
    fingerprint: str
    budget_s: float
    prefer: str
    max_latency_ms: float | None
    seed: int
    resolution: int
    device: str
    latency_device: str
    setup_s: float
    preset: dict
    preference: Preference
    cost: CostModel
    plan: FitPlan
    mirror_check: dict = field(default_factory=dict)
    task: str = "classification"

    def to_json(self) -> dict:
        return {"format": RUN_FORMAT, "task": self.task, "data": self.data,
                "fingerprint": self.fingerprint, "budget_s": self.budget_s, "prefer": self.prefer,
                "max_latency_ms": self.max_latency_ms, "seed": self.seed,
                "resolution": self.resolution, "device": self.device,
                "latency_device": self.latency_device, "setup_s": self.setup_s,
                "preset": self.preset, "preference": self.preference.to_json(),
                "cost": self.cost.to_json(), "plan": self.plan.to_json(),
                "mirror_check": self.mirror_check}

    @classmethod
    def from_json(cls, obj: dict, *, source: str = "run.json") -> "RunState":
        if not isinstance(obj, dict) or obj.get("format") != RUN_FORMAT:
            raise InputError(f"{source}: not an autopreset run (format {RUN_FORMAT!r} expected)")
        try:
            return cls(data=obj["data"], fingerprint=obj["fingerprint"],
                       budget_s=float(obj["budget_s"]), prefer=obj["prefer"],
                       max_latency_ms=obj["max_latency_ms"], seed=int(obj["seed"]),
                       resolution=int(obj["resolution"]), device=obj["device"],
                       latency_device=obj["latency_device"], setup_s=float(obj["setup_s"]),
                       preset=obj["preset"], preference=Preference.from_json(obj["preference"]),
                       cost=CostModel.from_json(obj["cost"]), plan=FitPlan.from_json(obj["plan"]),
                       mirror_check=obj.get("mirror_check", {}),
                       task=obj.get("task", "classification"))
        except (KeyError, TypeError) as exc:
            raise InputError(f"{source}: incomplete run record ({exc})") from None

    def kept(self, *, budget_s: float, prefer: str, seed: int, max_latency_ms,
             resolution) -> list[str]:
        """What a ``--resume`` given other values keeps of this run (one phrase each)."""
        out = []
        if abs(budget_s - self.budget_s) > 1e-6:
            out.append(f"budget {self.budget_s:g}s (given {budget_s:g}s)")
        if prefer != self.prefer:
            out.append(f"preference {self.prefer} (given {prefer})")
        if seed != self.seed:
            out.append(f"seed {self.seed} (given {seed})")
        if max_latency_ms is not None and max_latency_ms != self.max_latency_ms:
            out.append(f"max latency {self.max_latency_ms} ms (given {max_latency_ms:g})")
        if resolution is not None and resolution != self.resolution:
            out.append(f"resolution {self.resolution}px (given {resolution}px)")
        return out

    def check_data(self, fingerprint: str, data, folder: Path) -> None:
        if fingerprint != self.fingerprint:
            raise InputError(f"--resume: {data} is not the data of the run in {folder} "
                             "(its content fingerprint differs)")
