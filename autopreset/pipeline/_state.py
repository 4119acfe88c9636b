"""The run's persisted state: ``run.json``, written once the plan is made and read on
``--resume``. One typed object, so the run folder and a resumed run agree on every field.

A resumed run keeps what its plan was made for (preference, seed, resolution, data, preset);
:meth:`RunState.kept` says which given values it did not take. Its budget is the one setting a
resume may change (``--resume --budget``: a new total, the time spent still counted).
:meth:`RunState.data_change` says, in counts, how the data differs from the run's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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
    n_images: int | None = None              # the data when the run started (None: older runs)
    class_counts: dict | None = None

    def to_json(self) -> dict:
        return {"format": RUN_FORMAT, "task": self.task, "data": self.data,
                "fingerprint": self.fingerprint, "budget_s": self.budget_s, "prefer": self.prefer,
                "max_latency_ms": self.max_latency_ms, "seed": self.seed,
                "resolution": self.resolution, "device": self.device,
                "latency_device": self.latency_device, "setup_s": self.setup_s,
                "preset": self.preset, "preference": self.preference.to_json(),
                "cost": self.cost.to_json(), "plan": self.plan.to_json(),
                "mirror_check": self.mirror_check, "n_images": self.n_images,
                "class_counts": self.class_counts}

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
                       task=obj.get("task", "classification"), n_images=obj.get("n_images"),
                       class_counts=obj.get("class_counts"))
        except (KeyError, TypeError) as exc:
            raise InputError(f"{source}: incomplete run record ({exc})") from None

    def kept(self, *, prefer: str, seed: int, max_latency_ms, resolution,
             budget_s: float | None = None) -> list[str]:
        """What a ``--resume`` given other values keeps of this run (one phrase each); the
        budget only when ``budget_s`` is given (a resume that does not take a new one)."""
        out = []
        if budget_s is not None and abs(budget_s - self.budget_s) > 1e-6:
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

    def data_change(self, dataset) -> str | None:
        """How ``dataset`` (an ``autopreset.data.Dataset``) differs from the run's data, in one
        phrase ("72 -> 74 images (center 24 -> 26); fingerprint 1a2b3c4d5e6f -> 9f8e7d6c5b4a");
        None when its fingerprint is the run's."""
        if dataset.fingerprint == self.fingerprint:
            return None
        old_n = self.n_images if self.n_images is not None else self.cost.n_train + self.cost.n_val
        new_n = len(dataset)
        text = (f"{old_n} -> {new_n} images" if old_n != new_n
                else f"{new_n} images as before, some of them edited or replaced")
        classes = self.class_counts and _class_changes(self.class_counts, dataset.class_counts())
        if classes:
            text += f" ({classes})"
        return f"{text}; fingerprint {self.fingerprint[:12]} -> {dataset.fingerprint[:12]}"


def _class_changes(old: dict, new: dict, most: int = 4) -> str:
    """'center 24 -> 26, new class owl (5), class cat gone (12)' for the classes that differ."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = int(old.get(name, 0)), int(new.get(name, 0))
        if a == b:
            continue
        out.append(f"new class {name} ({b})" if name not in old else
                   f"class {name} gone ({a})" if name not in new else f"{name} {a} -> {b}")
    more = f", {len(out) - most} more classes changed" if len(out) > most else ""
    return ", ".join(out[:most]) + more
