"""``report.html``: one self-contained page (plots inlined as base64 PNG) next to the CSV."""
from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import _sections as sections
from ._diagnostics import RunDiagnostics
from ._leaderboard import atomic_write_bytes, write_leaderboard
from ._records import TrialRecord, check_mode, coerce_all

MAX_TABLE_ROWS = 200

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;background:#f6f7f9;color:#1d2330;font-size:14px;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 10px}
.sub{color:#667085;margin:0 0 20px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:12px 16px;min-width:140px}
.card .k{color:#667085;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:18px;font-weight:600;margin-top:2px}
pre{background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:12px 16px;
 overflow-x:auto;font-size:12.5px}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:8px}
figure img{width:100%;height:auto;display:block}
figcaption{color:#667085;font-size:12px;padding:4px 6px 0}
.tablewrap{overflow-x:auto;background:#fff;border:1px solid #e4e7ec;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:6px 10px;text-align:left;white-space:nowrap;border-bottom:1px solid #eef0f3}
th{background:#fafbfc;position:sticky;top:0;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.chosen td{background:#fdecea;font-weight:600}
.kv td:first-child{color:#667085;width:30%}
.note{color:#667085;font-size:12px;margin-top:6px}
"""


def write_report(run_dir: str | os.PathLike, trials: Iterable[TrialRecord | Mapping[str, Any]], *,
                 summary: str | Mapping[str, Any] = "", chosen_trial_id: Any = None,
                 mode: str = "max", title: str = "autopreset run",
                 metric_name: str = "accuracy",
                 diagnostics: RunDiagnostics | None = None) -> dict[str, Path]:
    """Write ``leaderboard.csv``, ``plots/*.png`` and a self-contained ``report.html``.

    ``summary`` is the plan/summary text (shown preformatted) or a mapping (shown as a table).
    ``diagnostics`` adds the chosen model's per-class results, confusion matrix and worst
    mistakes, class counts, skipped files, the run's decisions and library versions.
    Returns the paths written, keyed ``leaderboard``, ``report``, ``anytime``, ``rungs``,
    ``pareto``, ``loss``. Every file is written atomically.

    >>> paths = write_report("runs/demo", trials, summary="budget 10m", chosen_trial_id=3)
    """
    from ._plots import anytime_plot, loss_plot, pareto_plot, rungs_plot  # matplotlib only here

    check_mode(mode)
    run_dir = Path(run_dir)
    records = coerce_all(trials)
    if chosen_trial_id is not None and chosen_trial_id not in {r.trial_id for r in records}:
        raise ValueError(f"chosen_trial_id {chosen_trial_id!r} is not among the trials")
    paths = {"leaderboard": run_dir / "leaderboard.csv", "report": run_dir / "report.html"}
    rows = write_leaderboard(records, paths["leaderboard"], mode=mode)
    kw = dict(mode=mode, metric_name=metric_name)
    pngs = {"anytime": anytime_plot(records, **kw),
            "rungs": rungs_plot(records, chosen_trial_id=chosen_trial_id, **kw),
            "pareto": pareto_plot(records, chosen_trial_id=chosen_trial_id, **kw),
            "loss": loss_plot(records, chosen_trial_id=chosen_trial_id)}
    for name, data in pngs.items():
        paths[name] = run_dir / "plots" / f"{name}.png"
        atomic_write_bytes(paths[name], data)
    page = _page(title, records, rows, pngs, summary, chosen_trial_id, metric_name,
                 diagnostics or RunDiagnostics())
    atomic_write_bytes(paths["report"], page.encode("utf-8"))
    return paths


_CAPTIONS = {"anytime": "Best so far against wall-clock time",
             "rungs": "Learning curves per trial; dotted lines where trials stopped",
             "pareto": "Latency against accuracy; Pareto front in green, chosen model starred",
             "loss": "Training and validation loss per epoch, one line per trial; chosen trial in red"}


def _page(title: str, records: list[TrialRecord], rows: list[dict[str, Any]], pngs: dict[str, bytes],
          summary: str | Mapping[str, Any], chosen_trial_id: Any, metric_name: str,
          diag: RunDiagnostics) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>",
           "<meta name='viewport' content='width=device-width,initial-scale=1'>",
           f"<style>{_CSS}{sections.CSS}</style></head><body><main>",
           f"<h1>{e(title)}</h1><p class='sub'>report written "
           f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC}</p>",
           "<div class='cards'>" + "".join(
               f"<div class='card'><div class='k'>{e(k)}</div><div class='v'>{e(v)}</div></div>"
               for k, v in _cards(records, rows, chosen_trial_id, metric_name, diag)) + "</div>"]
    if summary:
        out.append("<h2>Plan and summary</h2>")
        if isinstance(summary, Mapping):
            out.append("<div class='tablewrap'><table class='kv'>" + "".join(
                f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>" for k, v in summary.items())
                + "</table></div>")
        else:
            out.append(f"<pre>{e(str(summary))}</pre>")
    out += [sections.decisions_section(diag), sections.model_section(diag),
            sections.mistakes_section(diag)]
    out.append("<h2>Plots</h2><div class='plots'>")
    for name, data in pngs.items():
        b64 = base64.b64encode(data).decode("ascii")
        out.append(f"<figure><img alt='{e(_CAPTIONS[name])}' src='data:image/png;base64,{b64}'>"
                   f"<figcaption>{e(_CAPTIONS[name])}</figcaption></figure>")
    out.append("</div>")
    if diag != RunDiagnostics():
        out += [sections.skipped_section(diag), sections.versions_section(diag)]
    out.append(_table(rows, chosen_trial_id))
    out.append("</main></body></html>")
    return "\n".join(out)


def _cards(records: list[TrialRecord], rows: list[dict[str, Any]], chosen_trial_id: Any,
           metric_name: str, diag: RunDiagnostics) -> list[tuple[str, str]]:
    chosen = next((r for r in rows if r["trial_id"] == chosen_trial_id), None)
    best = rows[0] if rows and rows[0]["best_metric"] != "" else None
    top = chosen or best
    cards = [("trials", str(len(records))),
             ("completed", str(sum(r.status == "completed" for r in records))),
             (f"best {metric_name}", _fmt(best["best_metric"]) if best else "–")]
    if top is not None:
        cards.append(("chosen trial" if chosen else "best trial", str(top["trial_id"])))
        if chosen and best is not None and chosen is not best and chosen["best_metric"] != "":
            cards.append((f"chosen {metric_name}", _fmt(chosen["best_metric"])))
        if "backbone" in top:
            cards.append(("backbone", str(top["backbone"])))
        if top["latency_ms"] != "":
            cards.append(("latency", f"{_fmt(top['latency_ms'])} ms"))
    if diag.evaluation is not None:
        cards.append(("macro F1", f"{diag.evaluation['macro_avg']['f1']:.3f}"))
    if "weights" in diag.decisions:
        cards.append(("started from", str(diag.decisions["weights"]).split(":")[0].split(" (")[0]))
    return cards


def _table(rows: list[dict[str, Any]], chosen_trial_id: Any) -> str:
    e = html.escape
    if not rows:
        return "<h2>Leaderboard</h2><p class='note'>no trials</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        cls = " class='chosen'" if chosen_trial_id is not None and row["trial_id"] == chosen_trial_id else ""
        cells = "".join(
            f"<td class='num'>{e(_fmt(v))}</td>" if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{e(str(v))}</td>" for v in row.values())
        body.append(f"<tr{cls}>{cells}</tr>")
    note = (f"<p class='note'>showing the best {MAX_TABLE_ROWS} of {len(rows)} trials; "
            "all are in leaderboard.csv</p>" if len(rows) > MAX_TABLE_ROWS else
            "<p class='note'>the same table is in leaderboard.csv</p>")
    return (f"<h2>Leaderboard</h2><div class='tablewrap'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>{note}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3g}"
        return f"{v:.4g}"
    return str(v)
