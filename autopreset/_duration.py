"""Durations such as ``90s``, ``10m``, ``4h``, ``1h30m`` or a plain number of seconds.

A duration is at most :data:`MAX_DURATION_S` (30 days): a budget of ``1e9`` seconds (31 years)
is a typo or a tampered run.json, not a plan.
"""
from __future__ import annotations

import re

from autopreset.errors import InputError

#: The longest duration accepted (a fit budget, ``zoo run --stop-after``): 30 days.
MAX_DURATION_S = 30 * 86400.0

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(value: str | int | float) -> float:
    """Return the duration in seconds; raise InputError (a ValueError) naming a malformed value.

    >>> parse_duration("1h30m")
    5400.0
    """
    if isinstance(value, bool):
        raise InputError(f"invalid duration {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        if not text:
            raise InputError("invalid duration '': expected e.g. 90s, 10m, 4h, 1h30m")
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
            if pos != len(text) or pos == 0:
                raise InputError(
                    f"invalid duration {value!r}: expected e.g. 90s, 10m, 4h, 1h30m"
                ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise InputError(f"invalid duration {value!r}: must be a positive, finite time")
    if seconds > MAX_DURATION_S:
        raise InputError(f"invalid duration {str(value)[:40]!r}: {seconds:.3g} s is longer than "
                         f"30 days ({MAX_DURATION_S:.0f} s), the most a budget may be")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds compactly: 5400 -> '1h30m', 75.5 -> '1m16s'."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"
