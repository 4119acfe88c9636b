"""The zoo's candidate configs: the hand-curated portfolios plus draws from the full space.

Every candidate is a complete trainer config, augmentation strength included (``crop_scale``,
the smallest random-crop area; whether crops are mirrored too is the task's call, made from its
data as fit makes it). Draws are stratified by the backbone catalog's size tiers, so every tier
is present whatever its share of the space, and the rest of a draw comes from the default
preset's space: learning rate, batch size, momentum, weight decay, optimizer and label
smoothing, each from its own domain.

    cands = make_candidates(n_sampled=96, seed=0)      # [{"id", "config", "source"}, ...]

Local candidates (:func:`local_candidates`, ``autopreset zoo candidates ZOO --local 2``) are a
second round, made once the first has curves: around each task's incumbent, the best recorded
config on it, a few neighbours that each change two of its settings. Auto-sklearn 2.0 builds
its portfolio from candidates of this kind, the incumbents of a search on each meta-train
dataset, rather than from random draws, most of which are weak on every task; a neighbour of a
task's incumbent is a step of a local search on that task. Each carries its task in its source
(``local:<task>:<parent id>``), so that leave-one-task-out drops it when that task is the one
left out (:meth:`~._table.ZooTable.without_born_of`).
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

__all__ = ["make_candidates", "local_candidates", "config_id", "CROP_SCALES", "TIER_DRAWS",
           "LARGE_BACKBONES", "LOCAL_MOVES"]

CROP_SCALES = (0.25, 0.4, 0.6, 0.8, 1.0)
#: Share of sampled candidates per tier. The large tier trains ten times slower than the tiny
#: one on a CPU, so it gets few draws; the tiers a CPU budget reaches get the most.
TIER_DRAWS = {"tiny": 0.3, "small": 0.34, "medium": 0.3, "large": 0.06}
#: Large-tier backbones (the default space stops at medium); the lecture's ResNet-101 and VGG-16.
LARGE_BACKBONES = ("resnet101", "vgg16_bn")
#: Curated configs get the crop strength fit gives a 27-epoch schedule.
CURATED_CROP_SCALE = 0.25


def config_id(config: dict) -> str:
    """A short stable name of a config: the first 10 hex digits of its canonical JSON's SHA-256."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _round(config: dict) -> dict:
    out = {}
    for k, v in config.items():
        if isinstance(v, float):
            v = float(f"{v:.3g}")
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def zoo_space() -> dict:
    """The space the zoo's candidates are drawn from and its portfolios are written in: the
    hand-curated default preset's (fixed, so that rebuilding the shipped presets from the zoo
    does not move the zoo's own space)."""
    from autopreset.presets._curate import build

    return dict(build("default").space)


def curated() -> list[tuple[dict, str]]:
    """Distinct configs of the hand-curated presets (:mod:`autopreset.presets._curate`, the
    portfolios shipped before the zoo built them) and the shipped fine-tuning preset, default
    first, then by name; fine-tuning recipes are skipped (the zoo trains from scratch)."""
    from autopreset.portfolio import load_preset
    from autopreset.presets._curate import PRESETS, build
    from autopreset.training import FINETUNE_KEYS

    names = ["default"] + sorted([n for n in PRESETS if n != "default"] + ["finetune"])
    seen: dict[str, tuple[dict, str]] = {}
    for name in names:
        for i, entry in enumerate((build(name) if name in PRESETS else load_preset(name)).portfolio):
            if any(k in entry.config for k in FINETUNE_KEYS):
                continue      # recipes for backbones that start from weights: the zoo trains from scratch
            cfg = _round({**entry.config, "crop_scale": entry.config.get("crop_scale", CURATED_CROP_SCALE)})
            seen.setdefault(config_id(cfg), (cfg, f"curated:{name}[{i}]"))
    return list(seen.values())


def make_candidates(n_sampled: int = 96, seed: int = 0) -> list[dict]:
    """The curated configs, then ``n_sampled`` draws, as ``{"id", "config", "source"}``.

    The default preset's first eight configs come first, so that even a partly recorded zoo
    can compare its portfolios with the hand-curated one; everything else follows in a seeded
    random order (a zoo cut short is then a random subset of the rest).
    """
    from autopreset.backbones import get_spec
    from autopreset.space import Float, Ordinal, sample

    space = zoo_space()
    backbones = list(space["backbone"].values) + [b for b in LARGE_BACKBONES
                                                   if b not in space["backbone"].values]
    by_tier: dict[str, list[str]] = {}
    for b in backbones:
        by_tier.setdefault(get_spec(b).tier, []).append(b)
    rest = {k: v for k, v in space.items() if k != "backbone"}
    rest["crop_scale"] = Ordinal(list(CROP_SCALES))
    if "momentum" not in rest:
        rest["momentum"] = Float(0.85, 0.98)
    rng = np.random.default_rng(seed)
    counts = _apportion(n_sampled, {t: TIER_DRAWS[t] for t in TIER_DRAWS if t in by_tier})
    drawn = []
    for tier, n in counts.items():
        for _ in range(n):
            cfg = {"backbone": str(by_tier[tier][int(rng.integers(len(by_tier[tier])))])}
            cfg.update(sample(rest, rng))
            drawn.append((_round(cfg), f"sampled:{tier}"))
    cur = curated()
    first, later = cur[:8], cur[8:] + drawn
    order = rng.permutation(len(later))
    out, seen = [], set()
    for cfg, source in first + [later[int(i)] for i in order]:
        cid = config_id(cfg)
        if cid not in seen:
            seen.add(cid)
            out.append({"id": cid, "config": cfg, "source": source})
    return out


#: What a local candidate may change of its parent; each changes two, drawn without repeats.
LOCAL_MOVES = ("lr", "weight_decay", "batch_size", "label_smoothing", "crop_scale", "optimizer",
               "backbone")
#: A learning rate or weight decay moves by a factor up to these (log-uniform, either way).
LR_FACTOR, WD_FACTOR = 3.0, 5.0


def local_candidates(table, *, per_task: int = 2, horizon: int | None = None, seed: int = 0,
                     existing=(), tiers=("tiny", "small", "medium")) -> list[dict]:
    """``per_task`` neighbours of every task's incumbent in ``table`` (a ZooTable), as
    ``{"id", "config", "source"}`` with ``source`` ``local:<task>:<parent id>``; none that is
    already a candidate (``existing``: ids) or made twice. The incumbent: the config of best
    value at ``horizon`` on the task among those whose backbone is of ``tiers`` (the lowest-ranked
    of a tie; the default leaves out the large tier, which a CPU zoo does not record). Each
    neighbour changes two of :data:`LOCAL_MOVES`: ``lr`` and ``weight_decay`` by a log-uniform factor up to
    :data:`LR_FACTOR` / :data:`WD_FACTOR` either way (within the default space's bounds),
    ``batch_size`` and ``crop_scale`` to a neighbouring value, ``label_smoothing`` redrawn from
    its domain, ``optimizer`` to the other one (SGD gets the space's momentum), ``backbone`` to
    another of the same size tier in the space. Seeded per task: the same table gives the same
    list. Cheapest first (by the recorded CPU seconds of the table's configs with the same
    backbone; a backbone it has not recorded last), so that a zoo cut short completes the most
    of them."""
    space = zoo_space()
    value = table.value(horizon)
    allowed = np.array([t in tiers for t in table.tiers()])
    if not allowed.any():
        raise ValueError(f"no config of the zoo has a backbone of tiers {', '.join(tiers)}")
    value = np.where(allowed[None, :], value, -np.inf)
    seen = set(existing) | {c["id"] for c in table.configs}
    out = []
    for ti, task in enumerate(table.tasks):
        parent = table.configs[int(np.argmax(value[ti]))]
        rng = np.random.default_rng([seed, *task.encode()])
        made, tries = 0, 0
        while made < per_task and tries < 50 * per_task:
            tries += 1
            moves = rng.choice(len(LOCAL_MOVES), size=2, replace=False)
            cfg = dict(parent["config"])
            for m in moves:
                _move(cfg, LOCAL_MOVES[int(m)], space, rng)
            cfg = _round(cfg)
            cid = config_id(cfg)
            if cid in seen or cfg == parent["config"]:
                continue
            seen.add(cid)
            made += 1
            out.append({"id": cid, "config": cfg, "source": f"local:{task}:{parent['id']}"})
    cost = table.cost(horizon).mean(axis=0)
    per_backbone: dict[str, list[float]] = {}
    for c, s in zip(table.configs, cost):
        per_backbone.setdefault(c["config"]["backbone"], []).append(float(s))
    est = {b: float(np.median(v)) for b, v in per_backbone.items()}
    return sorted(out, key=lambda c: est.get(c["config"]["backbone"], np.inf))


def _move(cfg: dict, key: str, space: dict, rng) -> None:
    """Change ``cfg[key]`` as :func:`local_candidates` says, in place."""
    from autopreset.backbones import get_spec

    if key in ("lr", "weight_decay"):
        dom = space[key]
        f = LR_FACTOR if key == "lr" else WD_FACTOR
        v = float(cfg.get(key, dom.low)) * float(np.exp(rng.uniform(-np.log(f), np.log(f))))
        cfg[key] = float(np.clip(v, dom.low, dom.high))
    elif key in ("batch_size", "crop_scale"):
        values = list(space["batch_size"].values) if key == "batch_size" else list(CROP_SCALES)
        cur = cfg.get(key, values[0])
        i = values.index(cur) if cur in values else int(np.argmin([abs(v - cur) for v in values]))
        if i == 0:                      # an end of the list has one neighbour
            j = 1
        elif i == len(values) - 1:
            j = i - 1
        else:
            j = i + (1 if rng.random() < 0.5 else -1)
        cfg[key] = values[j]
    elif key == "label_smoothing":
        dom = space["label_smoothing"]
        cfg[key] = float(rng.uniform(dom.low, dom.high))
    elif key == "optimizer":
        cfg[key] = "adamw" if cfg.get(key, "sgd") == "sgd" else "sgd"
        if cfg[key] == "sgd":
            dom = space["momentum"]
            cfg["momentum"] = float(rng.uniform(dom.low, dom.high))
    elif key == "backbone":
        tier = get_spec(cfg["backbone"]).tier
        same = [b for b in space["backbone"].values
                if b != cfg["backbone"] and get_spec(b).tier == tier]
        if same:
            cfg[key] = str(same[int(rng.integers(len(same)))])


def _apportion(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``n * share`` so the counts add up to ``n``."""
    total = sum(shares.values())
    exact = {k: n * v / total for k, v in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:n - sum(counts.values())]:
        counts[k] += 1
    return counts
