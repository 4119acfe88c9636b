"""Preference: which backbones a fit may choose, from latencies measured on this machine.

``latency`` keeps the fastest third of the candidate backbones (at least one), ``balanced``
the fastest two thirds, ``accuracy`` all of them. An explicit ``max_latency_ms`` replaces that
rule: every backbone whose measured batch-1 p50 latency is within the bound is allowed. Measured, not looked up: which
backbone is fast depends on the serving device, its threads and the input size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Preference", "choose_backbones", "SHARES"]

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


def choose_backbones(latency_ms: dict[str, float], prefer: str,
                     max_latency_ms: float | None = None, device: str = "cpu") -> Preference:
    """Map a preference to the allowed backbones; ValueError if none meets ``max_latency_ms``."""
    if prefer not in SHARES:
        raise ValueError(f"prefer must be one of {', '.join(SHARES)}; got {prefer!r}")
    if not latency_ms:
        raise ValueError("no candidate backbones to choose from")
    ranked = sorted(latency_ms, key=lambda n: (latency_ms[n], n))
    if max_latency_ms is None:
        keep = ranked[:max(1, math.ceil(SHARES[prefer] * len(ranked) - 1e-9))]
    else:
        keep = [n for n in ranked if latency_ms[n] <= max_latency_ms]
        if not keep:
            raise ValueError(f"no candidate backbone meets --max-latency-ms {max_latency_ms:g}: the "
                             f"fastest, {ranked[0]}, measured {latency_ms[ranked[0]]:.2f} ms")
    bound = max(latency_ms[n] for n in keep)
    return Preference(prefer, max_latency_ms, dict(latency_ms), tuple(keep), bound, device)
