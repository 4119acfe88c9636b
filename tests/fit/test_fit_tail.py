"""fit's tail mode, end to end up to the plan: where the search at the serving size affords no
Hyperband pass, every epoch but a schedule's last few trains at a smaller size.

Training speeds come from a simulated measurement (the area law over a slow machine), so the
plan does not depend on this machine's speed or load; nothing trains (``plan_only``).
"""
from __future__ import annotations

import types

import autopreset
import autopreset.backbones
from autopreset.pipeline import Budget


def slow_machine(monkeypatch, ips=20.0, at=48):
    def measure(names, size, **kw):
        k = (at / size) ** 2
        return {n: types.SimpleNamespace(train_ips=ips * k, eval_ips=4 * ips * k, build_s=0.1)
                for n in names}
    monkeypatch.setattr(autopreset.backbones, "measure_train_speed", measure)


def plan(data, preset, out, budget, **kw):
    autopreset.fit(str(data), budget=Budget(budget, counts_setup=False), prefer="accuracy",
                   preset=str(preset), resolution=48, progress=False, plan_only=True,
                   out=str(out), **kw)


def test_tail_mode_when_the_serving_size_affords_no_hyperband(tiny_data, tiny_preset_file,
                                                              tmp_path, monkeypatch, capsys):
    slow_machine(monkeypatch)
    plan(tiny_data, tiny_preset_file, tmp_path / "run", 90)
    out = capsys.readouterr().out
    assert "fidelity: at 48px the search affords no Hyperband pass" in out
    assert "at 32px it does: every epoch but a schedule's last 1 trains at 32px" in out
    assert "Hyperband plan:" in out and "continue the portfolio survivors" not in out

    plan(tiny_data, tiny_preset_file, tmp_path / "run", 90, fidelity="full")
    out = capsys.readouterr().out
    assert "at 32px it does" not in out and "fidelity: full throughout (--fidelity full)" in out
    assert "continue the portfolio survivors" in out      # at 48 px: no brackets


def test_no_tail_where_the_serving_size_has_brackets(tiny_data, tiny_preset_file, tmp_path,
                                                     monkeypatch, capsys):
    slow_machine(monkeypatch, ips=200.0)
    plan(tiny_data, tiny_preset_file, tmp_path / "run", 90)
    out = capsys.readouterr().out
    assert "Hyperband plan:" in out and "trains at 32px" not in out


def test_the_presets_search_after_the_portfolio_is_in_the_plan(tiny_data, tiny_preset_file,
                                                                tmp_path, monkeypatch, capsys):
    import json

    doc = json.loads(tiny_preset_file.read_text())
    doc["hyperband"]["inner"] = "curve_stopping"
    preset = tmp_path / "cs.json"
    preset.write_text(json.dumps(doc))
    slow_machine(monkeypatch, ips=200.0)
    plan(tiny_data, preset, tmp_path / "run", 90)
    out = capsys.readouterr().out
    assert "after the portfolio: curve stopping with random proposals" in out
    plan(tiny_data, tiny_preset_file, tmp_path / "run", 90)
    assert "after the portfolio:" not in capsys.readouterr().out
