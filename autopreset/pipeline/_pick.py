"""Which trial's checkpoint becomes the model, and which trials' weights can go early.

:func:`pick_best` decides the final pick from the saved checkpoints; :class:`WeightPruner`
deletes, while the search runs, the weights of retired trials that pick can no longer choose.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = ["pick_best", "WeightPruner", "standard_error"]


def pick_best(result, n_val: int | None = None, latency_ms: dict[str, float] | None = None):
    """(trial, which epoch to keep: "best" or "last") with the best validation accuracy in its
    saved checkpoint, or None. The checkpoint, not the journal, decides: a trial killed at the
    deadline reported epochs its checkpoint may not hold.

    Within a trial the last epoch is kept unless the best epoch beats it by more than one
    standard error of a validation accuracy on ``n_val`` images: at the end of the cosine
    schedule the weights are annealed, while the arg-max over noisy per-epoch scores is biased
    upward (on MNIST-5k here: best epoch 0.9788 val / 0.965 test, last epoch 0.9788 / 0.980).

    With ``latency_ms`` (backbone -> ms; ``--prefer latency``) the one-standard-error rule
    (Breiman et al. 1984; Hastie et al., ESL 7.10) picks among trials: of those within one
    standard error of the best validation accuracy, the one with the fastest backbone, since a
    difference smaller than the validation set can resolve buys no accuracy and costs latency.
    """
    scored = [x for x in (_score(t, n_val) for t in result.trials) if x is not None]
    if not scored:
        return None
    top = max(scored, key=lambda x: x[:3])
    if latency_ms:
        close = [x for x in scored if x[0] >= top[0] - standard_error(top[0], n_val)]
        top = min(close, key=lambda x: (latency_ms.get(x[3].config.get("backbone"), math.inf),
                                        -x[0], -x[1], -x[2]))
    return top[3], top[4]


def _score(trial, n_val: int | None):
    """``(accuracy, epoch, -trial_id, trial, which)`` of the epoch ``pick_best`` would keep from
    the trial's saved checkpoint; None for a failed trial or one without weights."""
    path = Path(trial.checkpoint_dir or "") / "checkpoint.json"
    if trial.status == "failed" or not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    best, history = meta.get("best") or {}, meta.get("history") or []
    if best.get("metric") is None or not history or meta.get("weights_dropped"):
        return None
    p, last = float(best["metric"]), float(history[-1]["metric"])
    # a trial that never trained at full fidelity (input size, every image: a schedule's
    # cheaper first rung) ranks below every trial that did, by its accuracy minus 2
    low = 0.0 if best.get("full", True) else 2.0
    if history[-1].get("full_fidelity", True) == best.get("full", True) \
            and last >= p - standard_error(p, n_val):
        return last - low, int(history[-1]["epoch"]), -trial.trial_id, trial, "last"
    return p - low, int(best["epoch"]), -trial.trial_id, trial, "best"


class WeightPruner:
    """``Tuner(on_retire=WeightPruner(n_val, latency_ms))``: deletes the weights of retired
    trials (those that can no longer run, see :class:`~autopreset.tuner.Tuner`) that
    :func:`pick_best` with the same ``n_val`` and ``latency_ms`` can no longer choose.

    A retired trial's score is final, so the best retired score B only rises, and the final
    best is at least B. Without ``latency_ms`` the pick is the best trial overall: of the
    retired ones only the best can still be it. With ``latency_ms`` the pick is the fastest
    backbone's best among trials within one standard error of the final best: a retired trial
    can still be it only while it is the best retired trial of its backbone and within one
    standard error of every final best >= B. Trials still running or resumable keep their
    weights. The final pick is the one every weight kept would give, while the run folder holds
    a few checkpoints instead of one per trial (a 15-minute fit on digits left 4 GB)."""

    def __init__(self, n_val: int | None, latency_ms: dict[str, float] | None = None):
        self.n_val = n_val
        self.latency_ms = latency_ms
        self.freed = 0
        self._kept: list[tuple] = []          # scores of the retired trials that keep weights

    def __call__(self, trial) -> None:
        if not trial.checkpoint_dir:
            return
        scored = _score(trial, self.n_val)
        if scored is None:                    # failed, or no weights to keep
            self._drop(trial)
            return
        pool = self._kept + [scored]
        top = max(pool, key=lambda x: x[:3])
        if not self.latency_ms:
            keep = [top]
        else:
            floor = _lowest_close(top[0], self.n_val)
            best: dict = {}
            for x in pool:
                name = x[3].config.get("backbone")
                if x[0] >= floor and (name not in best or x[:3] > best[name][:3]):
                    best[name] = x
            keep = list(best.values())
        for x in pool:
            if not any(x is k for k in keep):
                self._drop(x[3])
        self._kept = keep

    def _drop(self, trial) -> None:
        from autopreset.training import drop_weights

        self.freed += drop_weights(Path(trial.checkpoint_dir))


def _lowest_close(b: float, n_val: int | None) -> float:
    """The lowest accuracy within one standard error of any best p >= ``b``:
    min over p in [b, 1] of p - SE(p) (convex in p, so a ternary search finds it)."""
    f = lambda p: p - standard_error(p, n_val)
    lo, hi = b, 1.0
    for _ in range(100):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if f(m1) <= f(m2):
            hi = m2
        else:
            lo = m1
    return min(f(b), f(lo), f(1.0)) - 1e-9


def standard_error(p: float, n_val: int | None) -> float:
    """One standard error of an accuracy ``p`` measured on ``n_val`` images, plus one image."""
    return math.sqrt(max(p * (1 - p), 0.0) / n_val) + 1.0 / n_val if n_val else 0.0
