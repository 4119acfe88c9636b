"""Hostile preset files and model folders against the command line, one subprocess each.

    python benchmarks/hostile_files.py [--out benchmarks/results/hostile_files.md]

Each case builds one hostile (or, as a control, legitimate) file in a temporary folder, runs
``python -m autopreset ...`` on it in a subprocess (offline, caches in the temporary folder),
and records the exit status, whether a traceback appeared, whether the marker file that a
planted pickle would write appeared, and the first line of stderr. A case passes when a
hostile input is rejected cleanly (exit 1 or 2, one error line on stderr, no traceback, no marker)
and a legitimate one is accepted (exit 0). The table is written as markdown; the exit status
of this script is 1 when any case fails.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKBONE = "test_resnet"


class Marker:
    """Unpickling this creates ``path`` (by calling ``Path.touch``): the proof that code ran."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


# ---- presets ------------------------------------------------------------------------------
def preset_doc() -> dict:
    return {
        "format": "autopreset.preset/1", "name": "team", "description": "a small preset",
        "provenance": {"sources": ["test"], "datasets": ["none"], "date": "2026-01-02",
                       "versions": {"autopreset": "0.1.0"}, "curation": "by hand"},
        "space": {"format": "autopreset.space/1", "params": {
            "backbone": {"type": "ordinal", "values": ["resnet10t", "resnet18"]},
            "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "batch_size": {"type": "ordinal", "values": [16, 32, 64]},
            "optimizer": {"type": "categorical", "choices": ["sgd", "adamw"]}}},
        "portfolio": [{"config": {"backbone": "resnet18", "lr": 0.01, "batch_size": 32,
                                  "optimizer": "sgd"}, "reason": "known good"}],
        "hyperband": {"eta": 3, "min_resource": 1, "max_resource": 27, "resource": "epochs"},
    }


def with_backbone(name):
    def edit(doc):
        doc["space"]["params"]["backbone"]["values"] = ["resnet18", name]
        doc["tiers"] = {name: "small"}
    return edit


def setting(*path, value):
    def edit(doc):
        d = doc
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return edit


PRESET_EDITS = [
    ("backbone hf-hub:someone/repo (with a tier override)", with_backbone("hf-hub:someone/repo"), False),
    ("backbone ../x", with_backbone("../x"), False),
    ("backbone /tmp/m", with_backbone("/tmp/m"), False),
    ("backbone file:weights.pth", with_backbone("file:weights.pth"), False),
    ("backbone local-dir:/tmp/m", with_backbone("local-dir:/tmp/m"), False),
    ("backbone not in the catalog nor timm", with_backbone("not_a_model_anywhere"), False),
    ("backbone with a made-up pretrained tag", with_backbone("resnet18.no_such_tag"), False),
    ("timm model outside the catalog, tier given", with_backbone("efficientnet_b1"), True),
    ("hyperband.eta 1e12", setting("hyperband", "eta", value=10**12), False),
    ("hyperband.eta 10 (the maximum)", setting("hyperband", "eta", value=10), True),
    ("hyperband.max_resource 1e30", setting("hyperband", "max_resource", value=10**30), False),
    ("hyperband.min_resource > max_resource", setting("hyperband", "min_resource", value=28), False),
    ("hyperband.max_resource -5", setting("hyperband", "max_resource", value=-5), False),
    ("space lr high 1e30", setting("space", "params", "lr", "high", value=1e30), False),
    ("space batch_size 1e6", setting("space", "params", "batch_size", "values", value=[16, 10**6]), False),
    ("space constant {dict}", setting("space", "params", "extra", value={"type": "constant", "value": {"a": 1}}), False),
    ("portfolio of 1001 configs", lambda d: d.update(portfolio=d["portfolio"] * 1001), False),
    ("portfolio of 1000 configs", lambda d: d.update(portfolio=d["portfolio"] * 1000), True),
    ("description of 20001 characters", setting("description", value="x" * 20001), False),
    ("name ../../etc/passwd", setting("name", value="../../etc/passwd"), False),
]


def preset_cases():
    for title, edit, ok in PRESET_EDITS:
        def build(tmp, marker, edit=edit):
            doc = preset_doc()
            edit(doc)
            f = tmp / "team.json"
            f.write_text(json.dumps(doc))
            return ["presets", "show", str(f)]
        yield ("preset", title, build, ok)

    def raw(data):
        def build(tmp, marker):
            f = tmp / "team.json"
            f.write_bytes(data(marker) if callable(data) else data)
            return ["presets", "show", str(f)]
        return build

    yield ("preset", "200000-deep nesting", raw(b"[" * 200_000 + b"]" * 200_000), False)
    yield ("preset", "40-deep nesting", raw(b'{"a":' * 40 + b"1" + b"}" * 40), False)
    yield ("preset", "4 MiB + 2 bytes (spaces)", raw(b" " * (4 * 2**20) + b"{}"), False)
    yield ("preset", "non-UTF-8 bytes", raw(b'{"name": "caf\xe9"}'), False)
    yield ("preset", "number 1e999", raw(b'{"eta": 1e999}'), False)
    yield ("preset", "pickle that writes a marker",
           raw(lambda marker: pickle.dumps(Marker(marker), protocol=4)), False)
    yield ("preset", "pickle (protocol 0) that writes a marker",
           raw(lambda marker: pickle.dumps(Marker(marker), protocol=0)), False)

    def validate(tmp, marker):
        doc = preset_doc()
        with_backbone("hf-hub:someone/repo")(doc)
        f = tmp / "team.json"
        f.write_text(json.dumps(doc))
        return ["presets", "validate", str(f)]
    yield ("preset", "presets validate: hf-hub backbone", validate, False)

    def fit_preset(tmp, marker):
        doc = preset_doc()
        with_backbone("hf-hub:someone/repo")(doc)
        f = tmp / "team.json"
        f.write_text(json.dumps(doc))
        (tmp / "data").mkdir()
        return ["fit", str(tmp / "data"), "--preset", str(f), "--plan"]
    yield ("fit", "fit --preset with an hf-hub backbone", fit_preset, False)

    def budget(tmp, marker):
        (tmp / "data").mkdir()
        return ["fit", str(tmp / "data"), "--budget", "1e9"]
    yield ("fit", "--budget 1e9 (31 years)", budget, False)


# ---- model folders ------------------------------------------------------------------------
def save_base_model(folder: pathlib.Path) -> pathlib.Path:
    import torch

    from autopreset.backbones import create_backbone
    from autopreset.model import ModelCard, Predictor

    torch.manual_seed(0)
    module, _ = create_backbone(BACKBONE, num_classes=3, pretrained=False)
    card = ModelCard(backbone=BACKBONE, classes=["cat", "dog", "emu"], input_size=16,
                     mean=[0.5] * 3, std=[0.25] * 3)
    return Predictor(module, card).save(folder)


def card_edit(**changes):
    def tamper(model, marker):
        path = model / "model.json"
        card = json.loads(path.read_text(encoding="utf-8"))
        card.update(changes)
        path.write_text(json.dumps(card), encoding="utf-8")
    return tamper


def weights(make):
    def tamper(model, marker):
        path = model / "model.safetensors"
        data = path.read_bytes()
        path.write_bytes(make(data, struct.unpack("<Q", data[:8])[0], marker))
    return tamper


def torch_save(model, marker):
    import torch

    torch.save({"fc.weight": Marker(marker)}, model / "model.safetensors")


def pickle_kwarg(model, marker):
    planted = model.parent / "weights.pth"
    planted.write_bytes(pickle.dumps(Marker(marker)))
    card_edit(model_kwargs={"checkpoint_path": str(planted)})(model, marker)


MODEL_TAMPERS = [
    ("untouched model folder", lambda m, k: None, True),
    ("model_kwargs.drop_rate 0.2 (allowed)", card_edit(model_kwargs={"drop_rate": 0.2}), True),
    ("model_kwargs.pretrained_cfg_overlay file", card_edit(model_kwargs={"pretrained_cfg_overlay": {"file": "/tmp/w.pth"}}), False),
    ("model_kwargs.checkpoint_path -> pickle that writes a marker", pickle_kwarg, False),
    ("model_kwargs.pretrained true", card_edit(model_kwargs={"pretrained": True}), False),
    ("model_kwargs.features_only", card_edit(model_kwargs={"features_only": True}), False),
    ("backbone hf-hub:someone/repo", card_edit(backbone="hf-hub:someone/repo"), False),
    ("backbone ../x", card_edit(backbone="../x"), False),
    ("backbone unknown (resnet_9000)", card_edit(backbone="resnet_9000"), False),
    ("backbone of another architecture", card_edit(backbone="test_efficientnet"), False),
    ("5 classes, weights for 3", card_edit(classes=list("abcde")), False),
    ("duplicate class names", card_edit(classes=["cat", "cat", "emu"]), False),
    ("input_size 1e9", card_edit(input_size=10**9), False),
    ("std 0", card_edit(std=[0, 0.25, 0.25]), False),
    ("model.json non-UTF-8", lambda m, k: (m / "model.json").write_bytes(b'{"format": "caf\xe9"}'), False),
    ("model.json 200000-deep", lambda m, k: (m / "model.json").write_bytes(b"[" * 200_000 + b"]" * 200_000), False),
    ("model.json 16 MiB + 1 (sparse)", lambda m, k: os.truncate(m / "model.json", 16 * 2**20 + 1), False),
    ("model.safetensors = pickle that writes a marker",
     weights(lambda d, n, marker: pickle.dumps({"fc.weight": Marker(marker)}, protocol=4)), False),
    ("model.safetensors = pickle protocol 0", weights(lambda d, n, marker: pickle.dumps(Marker(marker), protocol=0)), False),
    ("model.safetensors = torch.save archive with a marker", torch_save, False),
    ("model.safetensors = random bytes", weights(lambda d, n, marker: os.urandom(4096)), False),
    ("model.safetensors header claims more bytes than the file",
     weights(lambda d, n, marker: struct.pack("<Q", len(d)) + d[8:]), False),
    ("model.safetensors truncated by 100 bytes", weights(lambda d, n, marker: d[:-100]), False),
    ("model.safetensors empty", weights(lambda d, n, marker: b""), False),
]


def model_cases(base: pathlib.Path, images: pathlib.Path):
    for title, tamper, ok in MODEL_TAMPERS:
        commands = [["predict"]]
        if title in ("untouched model folder", "model.safetensors = pickle that writes a marker",
                     "5 classes, weights for 3"):
            commands = [["predict"], ["evaluate"], ["export"]]
        for command in commands:
            def build(tmp, marker, tamper=tamper, command=command):
                model = tmp / "model"
                shutil.copytree(base, model)
                tamper(model, marker)
                extra = [] if command == ["export"] else [str(images)]
                return [*command, str(model), *extra]
            yield ("model", f"{command[0]}: {title}", build, ok)


def make_images(folder: pathlib.Path) -> pathlib.Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "emu"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(
                folder / name / f"{i}.png")
    return folder


# ---- running ------------------------------------------------------------------------------
def run_case(kind, title, build, ok, work: pathlib.Path, env: dict) -> dict:
    tmp = pathlib.Path(tempfile.mkdtemp(dir=work))
    marker = tmp / "MARKER"
    args = build(tmp, marker)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autopreset", *args], capture_output=True,
                          text=True, env=env, cwd=tmp, timeout=300)
    seconds = time.monotonic() - start
    err = proc.stderr.replace(str(tmp), "<tmp>").strip()
    lines = [line for line in err.splitlines() if line.strip()
             and not line.startswith(("autopreset: ", "  warnings.warn"))
             and "Warning" not in line]
    traceback = "Traceback" in proc.stderr or "Traceback" in proc.stdout
    marked = marker.exists()
    errors = [line for line in lines if line.startswith(("Error:", "invalid:"))]
    if ok:
        passed = proc.returncode == 0 and not traceback and not marked
        outcome = "accepted (legitimate)"
    else:   # one error line (click's usage errors add their "Usage:" and "Try" lines)
        passed = (proc.returncode in (1, 2) and not traceback and not marked and len(errors) == 1
                  and (len(lines) == 1 or lines[0].startswith("Usage:")))
        outcome = "rejected cleanly"
    shutil.rmtree(tmp, ignore_errors=True)
    return {"kind": kind, "case": title, "command": " ".join(args[:2]).replace(str(tmp), "<tmp>"),
            "expected": "accept" if ok else "reject", "exit": proc.returncode,
            "traceback": traceback, "marker": marked, "passed": passed,
            "outcome": outcome if passed else "FAILED",
            "message": ((errors or lines or [""])[0])[:220], "seconds": round(seconds, 1)}


def write_table(rows: list[dict], out: pathlib.Path) -> None:
    n_pass = sum(r["passed"] for r in rows)
    text = [
        "# Hostile files against the command line",
        "",
        f"`python benchmarks/hostile_files.py` ({time.strftime('%Y-%m-%d')}): {len(rows)} cases, "
        f"{n_pass} as expected. Each case is one subprocess `python -m autopreset ...` on a file "
        "built in a temporary folder; a planted pickle would create a marker file when "
        "unpickled. Hostile: exit 1/2, one error line on stderr (click's usage errors add their "
        "`Usage:` lines), no traceback, no marker. Legitimate: "
        "exit 0. (`presets show`/`predict`/`evaluate`/`export`/`fit` exit 2 with `Error: ...`; "
        "`presets validate` prints `invalid: ...` and exits 1.)",
        "",
        "| input | command | expected | exit | traceback | marker | outcome | message (first line of stderr) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        message = r["message"].replace("|", "\\|") if r["expected"] == "reject" or not r["passed"] else ""
        text.append(f"| {r['case']} | `{r['command']}` | {r['expected']} | {r['exit']} | "
                    f"{'yes' if r['traceback'] else 'no'} | {'yes' if r['marker'] else 'no'} | "
                    f"{r['outcome']} | {message} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(text) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "hostile_files.md"))
    parser.add_argument("--only", default=None, help="run only cases whose title contains this")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="autopreset-hostile-") as work_dir:
        work = pathlib.Path(work_dir)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "AUTOPRESET_OFFLINE": "1",
               "AUTOPRESET_CACHE": str(work / "cache"), "PYTHONPATH": str(ROOT)}
        base = save_base_model(work / "base-model")
        images = make_images(work / "images")
        cases = [*preset_cases(), *model_cases(base, images)]
        rows = []
        for kind, title, build, ok in cases:
            if args.only and args.only not in title:
                continue
            row = run_case(kind, title, build, ok, work, env)
            rows.append(row)
            print(f"{'ok  ' if row['passed'] else 'FAIL'} {row['seconds']:5.1f}s exit {row['exit']} "
                  f"{title}: {row['message'][:100]}", flush=True)
    write_table(rows, pathlib.Path(args.out))
    print(f"wrote {args.out}: {sum(r['passed'] for r in rows)}/{len(rows)} as expected")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
