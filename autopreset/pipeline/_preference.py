"""Preference: which backbones a fit may choose, from latencies measured on this machine.

The candidates are the portfolio's backbones that the budget can reach (fit's plan decides
which; a backbone the budget never trains must not move the preference's boundary).
``latency`` keeps the fastest third of the candidate backbones (at least one), ``balanced``
the fastest two thirds, ``accuracy`` all of them. An explicit ``max_latency_ms`` replaces that
rule: every backbone whose measured batch-1 p50 latency is within the bound is allowed. Measured, not looked up: which
backbone is fast depends on the serving device, its threads and the input size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Preference", "choose_backbones", "measure_latencies", "SHARES"]

SHARES = {"latency": 1 / 3, "balanced": 2 / 3, "accuracy": 1.0}


@dataclass(frozen=True)
class Preference:
    """The allowed backbones (fastest first) and every candidate's measured p50 latency (ms)."""

    prefer: str
    max_latency_ms: float | None
    latency_ms: dict[str, float]
    allowed: tuple[str, ...]
    bound_ms: float
    device: str = "cpu"

    def allows(self, backbone: str) -> bool:
        return backbone in self.allowed

    def describe(self) -> str:
        rows = ", ".join(f"{n} {self.latency_ms[n]:.2f}ms" + ("" if n in self.allowed else " (out)")
                         for n in sorted(self.latency_ms, key=self.latency_ms.get))
        bound = f", max {self.max_latency_ms:g} ms" if self.max_latency_ms is not None else ""
        return f"preference {self.prefer}{bound}: {len(self.allowed)} backbone(s) allowed; {rows}"

    def to_json(self) -> dict:
        return {"prefer": self.prefer, "max_latency_ms": self.max_latency_ms,
                "latency_ms": self.latency_ms, "allowed": list(self.allowed),
                "bound_ms": self.bound_ms, "device": self.device}

    @classmethod
    def from_json(cls, obj: dict) -> "Preference":
        return cls(obj["prefer"], obj["max_latency_ms"], dict(obj["latency_ms"]),
                   tuple(obj["allowed"]), float(obj["bound_ms"]), obj.get("device", "cpu"))


def measure_latencies(preset, resolution: int, device: str, *, seconds: float,
                      say=print) -> dict[str, float]:
    """The batch-1 p50 latency (ms) of every backbone of ``preset``'s portfolio on ``device``
    at ``resolution`` (``seconds`` in all). A backbone that cannot run at that resolution (too
    small an input for its downsampling) is left out with a notice through ``say``."""
    from autopreset.backbones import profile_latency
    from autopreset.errors import InputError

    names = list(dict.fromkeys(e.config["backbone"] for e in preset.portfolio))
    each = max(0.1, min(1.0, seconds / len(names)))
    latency = {}
    for name in names:
        try:
            latency[name] = profile_latency([name], resolution, device=device, max_seconds=each,
                                            batch_size=4)[name].p50_ms
        except (RuntimeError, ValueError) as exc:
            say(f"{name} left out: it does not run at {resolution}px "
                f"({str(exc).splitlines()[0][:100]})")
    if not latency:
        raise InputError(f"no backbone of preset {preset.name!r} runs at {resolution}px")
    return latency


def choose_backbones(latency_ms: dict[str, float], prefer: str,
                     max_latency_ms: float | None = None, device: str = "cpu") -> Preference:
    """Map a preference to the allowed backbones; InputError if none meets ``max_latency_ms``."""
    from autopreset.errors import InputError

    if prefer not in SHARES:
        raise InputError(f"prefer must be one of {', '.join(SHARES)}; got {prefer!r}")
    if not latency_ms:
        raise ValueError("no candidate backbones to choose from")
    ranked = sorted(latency_ms, key=lambda n: (latency_ms[n], n))
    if max_latency_ms is None:
        keep = ranked[:max(1, math.ceil(SHARES[prefer] * len(ranked) - 1e-9))]
    else:
        keep = [n for n in ranked if latency_ms[n] <= max_latency_ms]
        if not keep:
            raise InputError(f"no candidate backbone meets --max-latency-ms {max_latency_ms:g}: the "
                             f"fastest, {ranked[0]}, measured {latency_ms[ranked[0]]:.2f} ms")
    bound = max(latency_ms[n] for n in keep)
    return Preference(prefer, max_latency_ms, dict(latency_ms), tuple(keep), bound, device)
