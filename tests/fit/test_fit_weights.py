"""fit --weights: the fine-tuning recipes go first for the backbones with weights, the plan and
the records say which trials start pretrained, and without --weights every backbone is random."""
from __future__ import annotations

import csv
import json

import pytest
import timm
import torch
from safetensors.torch import save_file

import autopreset
from autopreset.errors import InputError
from autopreset.pipeline import Budget, with_finetuning
from autopreset.portfolio import load_preset
from autopreset.space import validate


def write_weights(folder, name="test_resnet"):
    folder.mkdir(exist_ok=True)
    torch.manual_seed(3)
    model = timm.create_model(name, num_classes=10)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / f"{name}.safetensors"))
    return folder


def test_the_finetuning_recipes_come_first_on_each_backbone_with_weights(tiny_preset_file):
    preset, finetune = load_preset(str(tiny_preset_file)), load_preset("finetune")
    merged = with_finetuning(preset, finetune, {"test_resnet", "test_efficientnet"})
    n = len(finetune.portfolio)
    head = [e.config for e in merged.portfolio[: 2 * n]]
    # recipe by recipe, each on every backbone with weights, in the preset's order of them
    assert [c["backbone"] for c in head[:4]] == ["test_resnet", "test_efficientnet"] * 2
    assert head[0]["backbone_lr_scale"] == finetune.portfolio[0].config["backbone_lr_scale"]
    assert all("finetune" in e.tags for e in merged.portfolio[: 2 * n])
    rest = [e.config for e in merged.portfolio[2 * n:]]
    assert [{k: v for k, v in c.items() if k in preset.space} for c in rest] == \
        [e.config for e in preset.portfolio]
    assert all(c["backbone_lr_scale"] == 1.0 and c["lp_epochs"] == 0 for c in rest)
    assert {"backbone_lr_scale", "warmup_epochs", "lp_epochs"} <= set(merged.space)
    assert merged.space["lr"].low <= min(e.config["lr"] for e in finetune.portfolio)
    for entry in merged.portfolio:
        validate(merged.space, entry.config)
    assert merged.tiers == preset.tiers


def test_the_plan_says_every_backbone_starts_random_without_weights(tiny_data, tiny_preset_file,
                                                                    tmp_path, capsys):
    kw = dict(budget=Budget(60, counts_setup=False), prefer="accuracy", preset=str(tiny_preset_file),
              resolution=16, progress=False, out=str(tmp_path / "run"))
    assert autopreset.fit(str(tiny_data), plan_only=True, **kw) is None
    assert "every backbone starts from random init" in capsys.readouterr().out
    folder = write_weights(tmp_path / "w", name="test_convnext")
    (folder / "test_resnet.safetensors").write_bytes((folder / "test_convnext.safetensors").read_bytes())
    with pytest.raises(InputError, match=r"test_resnet\.safetensors' does not fit this backbone"):
        autopreset.fit(str(tiny_data), plan_only=True, weights=str(folder), **kw)
    with pytest.raises(InputError, match="no weights for any backbone of preset 'tiny-test'"):
        autopreset.fit(str(tiny_data), plan_only=True, weights=str(tmp_path), **kw)


@pytest.mark.slow
def test_fit_fine_tunes_from_the_weights_folder_and_records_it(tiny_data, tiny_preset_file,
                                                              tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="autopreset")
    folder = write_weights(tmp_path / "weights")
    run = tmp_path / "run"
    predictor = autopreset.fit(str(tiny_data), budget=Budget(30, counts_setup=False),
                               prefer="accuracy", preset=str(tiny_preset_file), resolution=16,
                               progress=False, out=str(run), weights=str(folder))
    file = str(folder / "test_resnet.safetensors")
    plan = json.loads((run / "run.json").read_text())["plan"]
    assert plan["weights"] == {"test_resnet": file} and plan["weights_from"] == str(folder)
    # the fine-tuning recipes come first, in the finetune preset's order, and some of them
    # train the backbone slower than the head
    tuned = [c for c in plan["portfolio"] if "warmup_epochs" in c]
    assert tuned and tuned[0] is plan["portfolio"][0]
    assert any(c["backbone_lr_scale"] < 1 for c in tuned)
    rows = list(csv.DictReader(open(run / "leaderboard.csv")))
    assert rows and all(r["weights"] == (f"file:{file}" if r["backbone"] == "test_resnet"
                                         else "random") for r in rows)
    card = json.loads((run / "model" / "model.json").read_text())
    assert card["metrics"]["trials_from_weights"] == sum(r["backbone"] == "test_resnet" for r in rows)
    assert card["pretrained"] == (f"file:{file}" if card["backbone"] == "test_resnet" else "random")
    started = {t["trial_id"]: t["results"][0]["pretrained"] for t in predictor.leaderboard
               if t["results"]}
    assert started and all(p == (t["config"]["backbone"] == "test_resnet")
                           for t in predictor.leaderboard if t["results"]
                           for p in [started[t["trial_id"]]])
    done = [r.getMessage() for r in caplog.records if r.getMessage().startswith("done in")]
    pre = card["metrics"]["trials_from_weights"]
    assert done and f"{len(rows)} trials ({pre} fine-tuned from weights" in done[0]
