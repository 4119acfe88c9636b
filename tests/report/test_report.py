"""Leaderboard ordering, the Pareto front, and the files a report writes."""
from __future__ import annotations

import base64
import csv
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from autopreset.report import TrialRecord, leaderboard_rows, pareto_front, write_leaderboard, write_report


def _trial(tid, metrics, *, status="completed", latency=None, phase=None, config=None, t0=0.0):
    results = [{"resource": r, "metric": m, "time": t0 + r} for r, m in enumerate(metrics, start=1)]
    return {"trial_id": tid, "config": config or {"lr": 0.01 * (tid + 1), "backbone": f"b{tid}"},
            "status": status, "results": results, "latency_ms": latency, "phase": phase}


TRIALS = [
    _trial(0, [0.50, 0.70]),                    # best 0.70
    _trial(1, [0.60, 0.90, 0.85]),              # best 0.90 at resource 2, final 0.85
    _trial(2, [0.20]),                          # best 0.20
    _trial(3, [], status="failed"),             # no metric
    _trial(4, [0.30, float("nan")]),            # NaN report ignored: best 0.30
    _trial(5, [0.65, 0.70, 0.70]),              # ties 0.70 with trial 0, more resource
]


def test_leaderboard_max_mode_best_first_ties_by_resource_failed_last(tmp_path):
    rows = write_leaderboard(TRIALS, tmp_path / "leaderboard.csv", mode="max")
    assert [r["trial_id"] for r in rows] == [1, 5, 0, 4, 2, 3]
    assert rows[0]["best_metric"] == 0.90 and rows[0]["resource_at_best"] == 2
    assert rows[0]["final_metric"] == 0.85 and rows[0]["resource_reached"] == 3
    assert rows[-1]["best_metric"] == "" and rows[-1]["status"] == "failed"
    with open(tmp_path / "leaderboard.csv", newline="") as f:
        read = list(csv.DictReader(f))
    assert [int(r["trial_id"]) for r in read] == [1, 5, 0, 4, 2, 3]
    assert [int(r["rank"]) for r in read] == [1, 2, 3, 4, 5, 6]
    assert {"backbone", "lr", "latency_ms", "status", "best_metric"} <= set(read[0])
    assert read[0]["backbone"] == "b1"


def test_leaderboard_min_mode_reverses_metric_order(tmp_path):
    rows = leaderboard_rows(TRIALS, mode="min")
    # lowest metric first: trial 2 (0.20), 4 (0.30), 0 (0.50), 1 (0.60), 5 (0.65); failed last
    assert [r["trial_id"] for r in rows] == [2, 4, 0, 1, 5, 3]
    assert rows[3]["best_metric"] == 0.60 and rows[3]["resource_at_best"] == 1


def test_leaderboard_accepts_records_and_rejects_bad_input(tmp_path):
    recs = [TrialRecord.coerce(t) for t in TRIALS]
    assert [r["trial_id"] for r in leaderboard_rows(recs)] == [1, 5, 0, 4, 2, 3]
    with pytest.raises(ValueError, match="mode"):
        leaderboard_rows(TRIALS, mode="best")
    with pytest.raises(ValueError, match="unique"):
        leaderboard_rows([TRIALS[0], TRIALS[0]])
    with pytest.raises(ValueError, match=r"results\[0\].*metric"):
        leaderboard_rows([{"trial_id": 9, "config": {}, "results": [{"resource": 1}]}])


def test_leaderboard_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "leaderboard.csv"
    write_leaderboard(TRIALS[:2], path)
    write_leaderboard(TRIALS, path)  # overwrite in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["leaderboard.csv"]
    assert len(path.read_text().strip().splitlines()) == 1 + len(TRIALS)


def _brute_front(points, mode):
    sign = 1 if mode == "max" else -1
    front = []
    for i, (li, mi) in enumerate(points):
        if not (math.isfinite(li) and math.isfinite(mi)):
            continue
        dominated = any(
            lj <= li and sign * mj >= sign * mi and (lj < li or sign * mj > sign * mi)
            for j, (lj, mj) in enumerate(points) if j != i and math.isfinite(lj) and math.isfinite(mj))
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], i))


def test_pareto_front_small_example():
    pts = [(1.0, 0.90), (2.0, 0.95), (3.0, 0.93), (0.5, 0.80), (2.0, 0.91), (4.0, 0.99)]
    assert pareto_front(pts) == [3, 0, 1, 5]
    assert pareto_front(pts, mode="min") == [3]


def test_pareto_front_keeps_duplicates_and_drops_nonfinite():
    pts = [(1.0, 0.9), (1.0, 0.9), (2.0, 0.9), (float("nan"), 1.0), (3.0, float("inf"))]
    assert pareto_front(pts) == [0, 1]
    assert pareto_front([]) == []
    with pytest.raises(ValueError, match="pairs"):
        pareto_front([(1.0, 2.0, 3.0)])


@pytest.mark.parametrize("mode", ["max", "min"])
def test_pareto_front_matches_brute_force(mode):
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(1, 30))
        # few distinct values so ties in both coordinates are common
        pts = [(float(rng.integers(0, 6)), float(rng.integers(0, 6))) for _ in range(n)]
        assert pareto_front(pts, mode=mode) == _brute_front(pts, mode)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.rows, self.chosen = [], 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        if tag == "tr":
            self.rows += 1
            self.chosen += a.get("class") == "chosen"


def test_write_report_files_and_self_contained_html(tmp_path):
    trials = [dict(t, latency_ms=float(i + 1), phase="portfolio" if i < 3 else "hyperband")
              for i, t in enumerate(TRIALS)]
    trials[1]["config"]["note"] = "<script>alert(1)</script>"
    paths = write_report(tmp_path, trials, summary="budget 10m\nplan: portfolio then hyperband",
                         chosen_trial_id=1, mode="max")
    for key in ("leaderboard", "report", "anytime", "rungs", "pareto", "loss"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    for key in ("anytime", "rungs", "pareto", "loss"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["report"].read_text()
    parser = _Collect()
    parser.feed(page)
    assert len(parser.imgs) == 4
    for src in parser.imgs:  # inlined, nothing fetched from outside
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"
    assert parser.rows == 1 + len(trials) and parser.chosen == 1
    assert "plan: portfolio then hyperband" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=['\"]https?://", page)


def test_write_report_with_mapping_summary_min_mode_and_no_latency(tmp_path):
    paths = write_report(tmp_path, TRIALS, summary={"budget": "5m", "workers": 2}, mode="min")
    page = paths["report"].read_text()
    assert "<td>budget</td><td>5m</td>" in page
    assert paths["pareto"].read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="chosen_trial_id 42"):
        write_report(tmp_path, TRIALS, chosen_trial_id=42)


def test_write_report_with_no_trials(tmp_path):
    paths = write_report(tmp_path, [])
    assert paths["leaderboard"].read_text().startswith("rank,trial_id")
    assert "no trials" in paths["report"].read_text()


def test_report_shows_the_chosen_model_when_it_is_not_the_best(tmp_path):
    trials = [dict(t, latency_ms=float(10 - i)) for i, t in enumerate(TRIALS)]
    page = write_report(tmp_path, trials, chosen_trial_id=0)["report"].read_text()
    assert "chosen accuracy</div><div class='v'>0.7<" in page
    assert "best accuracy</div><div class='v'>0.9<" in page
    assert page.count("<figcaption>") == 4


def test_presets_and_leaderboards_do_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, autopreset.portfolio, autopreset.report; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
