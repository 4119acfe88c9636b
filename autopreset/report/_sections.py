"""The report's sections on the chosen model and the data (:class:`RunDiagnostics`): decisions,
per-class results with class counts, the confusion matrix, the worst mistakes as inlined
thumbnails, skipped files and library versions. Each returns an HTML fragment ("" when it has
nothing to show); every text is escaped."""
from __future__ import annotations

import base64
import html
import io
import os
from typing import Any, Mapping

import numpy as np

from ._diagnostics import RunDiagnostics

MAX_SKIPPED_ROWS = 200
THUMB_SIDE = 64             # thumbnails are stored at most this large (shown at 88 px)

CSS = """
.mistakes{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:10px}
.mistake{background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:8px;text-align:center}
.mistake img{width:88px;height:88px;object-fit:contain;image-rendering:pixelated;display:block;
 margin:0 auto 6px;background:#f0f1f3}
.mistake .t{font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.mistake .p{font-size:12px;color:#C0392B;font-weight:600}
table.cm td,table.cm th{text-align:center;padding:4px 6px;min-width:24px}
table.cm td.zero{color:#c5cad3}
table.cm th.row{text-align:right}
tr.avg td{background:#fafbfc;font-weight:600}
td.low{color:#C0392B;font-weight:600}
.split{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.split>.tablewrap{flex:0 1 auto;max-width:100%}
.split table{width:auto}
.kv td{white-space:normal}
.versions{background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:10px 16px;
 font-size:12.5px;color:#344054}
"""


def decisions_section(diag: RunDiagnostics) -> str:
    if not diag.decisions:
        return ""
    return "<h2>What the run decided, and why</h2>" + _kv(diag.decisions)


def model_section(diag: RunDiagnostics) -> str:
    """The per-class table (with class counts) beside the confusion matrix."""
    ev = diag.evaluation
    if ev is None and not diag.class_counts:
        return ""
    title = "Chosen model on the validation split" if ev is not None else "Classes"
    note = (f"<p class='note'>{html.escape(diag.evaluated_on)}</p>" if diag.evaluated_on else "")
    parts = [f"<h2>{title}</h2>{note}<div class='split'>", _per_class(diag)]
    if ev is not None:
        parts.append(_confusion(ev))
    parts.append("</div>")
    return "".join(parts)


def mistakes_section(diag: RunDiagnostics) -> str:
    if diag.evaluation is None:
        return ""
    e = html.escape
    head = "<h2>Worst mistakes: the most confident wrong predictions on the validation split</h2>"
    if not diag.mistakes:
        return head + "<p class='note'>no validation image was misclassified</p>"
    cells = []
    for m in diag.mistakes:
        name = os.path.basename(m.path)
        cells.append(
            f"<div class='mistake' title='{e(m.path)}'><img alt='{e(name)}' "
            f"src='data:image/png;base64,{thumbnail_png(m.image)}'>"
            f"<div class='t'>true <b>{e(m.label)}</b></div>"
            f"<div class='p'>predicted {e(m.predicted)} ({m.confidence:.0%})</div>"
            f"<div class='t note'>{e(name)}</div></div>")
    n_wrong, n = _n_wrong(diag.evaluation), diag.evaluation["n_images"]
    which = ("the only mistake" if n_wrong == 1 else
             f"all {n_wrong} mistakes" if len(diag.mistakes) == n_wrong else
             f"the {len(diag.mistakes)} most confident of {n_wrong} mistakes")
    more = (f"<p class='note'>{which} on {n} images, most confident first; the thumbnails are "
            "the images at the resolution the model saw</p>")
    return head + "<div class='mistakes'>" + "".join(cells) + "</div>" + more


def skipped_section(diag: RunDiagnostics) -> str:
    e = html.escape
    head = "<h2>Skipped files</h2>"
    if not diag.skipped:
        return head + "<p class='note'>no file was skipped: every file in the data was a readable image</p>"
    rows = "".join(f"<tr><td>{e(str(p))}</td><td>{e(str(r))}</td></tr>"
                   for p, r in list(diag.skipped)[:MAX_SKIPPED_ROWS])
    more = (f"<p class='note'>showing {MAX_SKIPPED_ROWS} of {len(diag.skipped)} skipped files</p>"
            if len(diag.skipped) > MAX_SKIPPED_ROWS else
            f"<p class='note'>{len(diag.skipped)} file(s) left out of training, each with its reason</p>")
    return (head + "<div class='tablewrap'><table><thead><tr><th>file</th><th>reason</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></div>{more}")


def versions_section(diag: RunDiagnostics) -> str:
    if not diag.versions:
        return ""
    e = html.escape
    items = " &middot; ".join(f"{e(str(k))} <b>{e(str(v))}</b>" for k, v in diag.versions.items())
    return f"<h2>Library versions</h2><div class='versions'>{items}</div>"


def thumbnail_png(image: np.ndarray) -> str:
    """A small PNG of an ``H x W x 3`` (or ``H x W``) uint8 image, base64: at most
    ``THUMB_SIDE`` pixels a side, so a page of thumbnails stays small."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(np.asarray(image, dtype=np.uint8)))
    if max(im.size) > THUMB_SIDE:
        im.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _per_class(diag: RunDiagnostics) -> str:
    e = html.escape
    ev = diag.evaluation
    counts = diag.class_counts
    names = list(ev["classes"]) if ev is not None else list(counts)
    scores = {row["class"]: row for row in ev["per_class"]} if ev is not None else {}
    head = ["class"] + (["train", "validation"] if counts else [])
    if ev is not None:
        head += ["precision", "recall", "F1", "support"]
    body = []
    for name in names:
        cells = [f"<td>{e(str(name))}</td>"]
        if counts:
            c = counts.get(name, {})
            cells += [_num(c.get("train", 0)), _num(c.get("validation", 0))]
        if ev is not None:
            s = scores[name]
            cells += [_score(s["precision"], s["support"]), _score(s["recall"], s["support"]),
                      _score(s["f1"], s["support"]), _num(s["support"])]
        body.append("<tr>" + "".join(cells) + "</tr>")
    if ev is not None:
        pad = "<td></td><td></td>" if counts else ""
        for key, label in (("macro_avg", "macro average"), ("weighted_avg", "weighted average")):
            a = ev[key]
            body.append(f"<tr class='avg'><td>{label}</td>{pad}" + "".join(
                _num(a[k], 3) for k in ("precision", "recall", "f1")) + f"{_num(a['support'])}</tr>")
        body.append(f"<tr class='avg'><td>accuracy</td>{pad}<td></td><td></td>"
                    f"{_num(ev['accuracy'], 3)}{_num(ev['n_images'])}</tr>")
    ths = "".join(f"<th>{e(h)}</th>" for h in head)
    images = (f"<tr><th></th><th colspan='2'>images</th>"
              + ("<th colspan='4'>on the validation split</th>" if ev is not None else "")
              + "</tr>") if counts else ""
    return (f"<div class='tablewrap'><table><thead>{images}<tr>{ths}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _confusion(ev: Mapping[str, Any]) -> str:
    """Counts, rows true and columns predicted; shaded by the share of the true class's row
    (green on the diagonal, red off it)."""
    e = html.escape
    names = [str(c) for c in ev["classes"]]
    matrix = np.asarray(ev["confusion"], dtype=float)
    totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    head = "<th>true \\ predicted</th>" + "".join(f"<th>{e(n)}</th>" for n in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            v, share = int(matrix[i, j]), matrix[i, j] / totals[i, 0]
            if v == 0:
                cells.append("<td class='zero'>0</td>")
                continue
            rgb = "46,139,87" if i == j else "192,57,43"
            alpha = 0.15 + 0.7 * share if i == j else 0.2 + 0.8 * share
            cells.append(f"<td style='background:rgba({rgb},{alpha:.2f})'>{v}</td>")
        rows.append(f"<tr><th class='row'>{e(name)}</th>{''.join(cells)}</tr>")
    return (f"<div class='tablewrap'><table class='cm'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _n_wrong(ev: Mapping[str, Any]) -> int:
    m = np.asarray(ev["confusion"])
    return int(m.sum() - np.trace(m))


def _kv(items: Mapping[str, Any]) -> str:
    e = html.escape
    return ("<div class='tablewrap'><table class='kv'>" + "".join(
        f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>" for k, v in items.items())
        + "</table></div>")


def _num(v: Any, digits: int | None = None) -> str:
    text = f"{v:.{digits}f}" if digits is not None else str(v)
    return f"<td class='num'>{text}</td>"


def _score(v: float, support: int) -> str:
    """A per-class score; under 0.8 of a class that occurs is marked."""
    cls = "num low" if support and v < 0.8 else "num"
    return f"<td class='{cls}'>{v:.3f}</td>"

