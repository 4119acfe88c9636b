"""Narrowing a space around good configs (step 4 of the fit pipeline).

After the portfolio phase, Hyperband searches a smaller space: the categorical values the best
configs used, the ordinal range they span, and numeric ranges around their values widened by a
margin measured in the encoded (log, for log domains) scale, clipped to the full space.
``narrow_around`` is the same with one key (the backbone, by default) cut to exactly the values
the configs used, among those allowed, rather than to the ordinal span between them.
"""
from __future__ import annotations

import math

from autopreset.space._domains import Categorical, Domain, Float, Int, Ordinal
from autopreset.space._ops import check_space, validate


def narrow(space: dict, configs: list[dict], *, margin: float = 0.1, ordinal_neighbours: int = 0) -> dict:
    """A sub-space of ``space`` around ``configs``.

    margin: fraction of each numeric domain's full (log) range added on both sides of the span
        of the configs' values; 0.1 on a learning rate of 1e-6..1e-1 is half a decade each side.
    ordinal_neighbours: how many ordinal values beyond the used span to keep on each side.
    A domain left with a single value becomes that constant.
    """
    check_space(space)
    if not configs:
        raise ValueError("narrow needs at least one config")
    if not (isinstance(margin, (int, float)) and 0 <= margin <= 1):
        raise ValueError(f"margin must be in [0, 1]; got {margin!r}")
    if not (isinstance(ordinal_neighbours, int) and ordinal_neighbours >= 0):
        raise ValueError(f"ordinal_neighbours must be an int >= 0; got {ordinal_neighbours!r}")
    for c in configs:
        validate(space, {k: v for k, v in c.items()})
    out: dict = {}
    for name, dom in space.items():
        if not isinstance(dom, Domain):
            out[name] = dom
            continue
        used = [c[name] for c in configs if name in c]
        out[name] = _narrow_one(dom, used, margin, ordinal_neighbours) if used else dom
    return out


def _narrow_one(dom: Domain, used: list, margin: float, neighbours: int):
    if isinstance(dom, Categorical):
        keep = [v for v in dom.choices if any(dom.index(u) == dom.index(v) for u in used)]
        return keep[0] if len(keep) == 1 else Categorical(keep)
    if isinstance(dom, Ordinal):
        idx = [dom.index(u) for u in used]
        lo, hi = max(min(idx) - neighbours, 0), min(max(idx) + neighbours, len(dom.values) - 1)
        keep = list(dom.values[lo:hi + 1])
        return keep[0] if len(keep) == 1 else Ordinal(keep)
    to_t = math.log if dom.log else float
    from_t = math.exp if dom.log else float
    a, b = to_t(dom.low), to_t(dom.high)
    ts = [to_t(u) for u in used]
    lo = max(min(ts) - margin * (b - a), a)
    hi = min(max(ts) + margin * (b - a), b)
    low = dom.low if lo <= a else min(used) if lo == min(ts) else min(max(from_t(lo), dom.low), dom.high)
    high = dom.high if hi >= b else max(used) if hi == max(ts) else min(max(from_t(hi), dom.low), dom.high)
    if isinstance(dom, Int):
        low, high = int(math.floor(low + 1e-9)), int(math.ceil(high - 1e-9))
        low, high = max(low, dom.low), min(high, dom.high)
        return low if low == high else Int(low, high, log=dom.log)
    # keep the configs' own values inside despite float round-off of exp(log(x))
    low, high = min(low, *used), max(high, *used)
    return float(low) if low == high else Float(low, high, log=dom.log)


def narrow_around(space: dict, configs: list[dict], allowed=None, margin: float = 0.1, *,
                  key: str = "backbone") -> dict:
    """``narrow(space, configs, margin=margin)``, except that the ``key`` domain keeps exactly
    the values the configs used that are in ``allowed`` (all when None): one value becomes a
    constant, several a Categorical in the domain's order. Keys of the configs that are not in
    the space are ignored; when no config's ``key`` value is allowed, ``narrow``'s result for
    ``key`` stays.

        narrow_around(space, [best, second], allowed={"resnet18", "lcnet_050"})
        # backbone: Categorical of the two configs' backbones (when both are allowed);
        # lr, batch_size, ...: ranges around their values, as narrow gives
    """
    clean = [{k: c[k] for k in space if k in c} for c in configs]
    out = narrow(space, clean, margin=margin)
    if key in space:
        names = list(dict.fromkeys(c[key] for c in configs if allowed is None or c[key] in allowed))
        if len(names) == 1:
            out[key] = names[0]
        elif names:
            dom = space[key]
            order = list(dom.values) if isinstance(dom, Ordinal) else names
            out[key] = Categorical([n for n in order if n in names])
    return out


__all__ = ["narrow", "narrow_around"]
