"""What ``report.html`` shows of the chosen model and the data (:class:`RunDiagnostics`),
gathered at the finish.

The chosen model makes one pass over the validation split, read from the decoded cache (the
images at the resolution it was trained on; nothing is decoded again), in a seeded random order
and within half of what the budget leaves beyond the report's own 6 seconds: a validation split
too large for that is scored on a random part of it, and the report says how many. After a
refit on train+validation the saved model has seen these images, so they are scored by the
picked trial's own checkpoint instead, the one the search chose on them.
"""
from __future__ import annotations

from importlib import metadata

import numpy as np

__all__ = ["run_diagnostics", "for_report", "REPORT_MIN_S"]

REPORT_MIN_S = 6.0        # the report is skipped with less left than this
MAX_MISTAKES = 24         # thumbnails of the most confident mistakes
BATCH = 128


def run_diagnostics(run, predictor, best, which: str):
    """The :class:`autopreset.report.RunDiagnostics` of ``run``'s chosen model (``predictor``,
    saved from trial ``best`` at its ``which`` epoch)."""
    from autopreset.report import RunDiagnostics

    data = run.data
    evaluation, evaluated_on, mistakes = _validation(run, predictor, best, which)
    idx = {"train": np.asarray(data.train_idx), "validation": np.asarray(data.val_idx)}
    labels = np.asarray(data.dataset.labels)
    counts = {name: {k: int(np.sum(labels[v] == i)) for k, v in idx.items()}
              for i, name in enumerate(data.dataset.classes)}
    return RunDiagnostics(
        evaluation=evaluation, evaluated_on=evaluated_on, mistakes=mistakes, class_counts=counts,
        skipped=[(s.path, s.reason) for s in data.dataset.skipped],
        decisions=decisions(run, predictor, best, which),
        versions=versions(predictor.card.versions))


def _validation(run, predictor, best, which):
    """(classification summary, what it was computed on, worst mistakes) of one pass over the
    validation split, or (None, why not, ()) when no time was left for it."""
    from autopreset.report import Mistake, classification_summary, rank_mistakes

    data, budget = run.data, run.budget
    scorer, who = predictor, f"the chosen model (trial {best.trial_id}, {which} epoch)"
    if run.refit_dir is not None:
        from autopreset.model import Predictor
        from autopreset.training import load_model_from_checkpoint

        module, _ = load_model_from_checkpoint(best.checkpoint_dir, which=which)
        scorer = Predictor(module, predictor.card)
        who = (f"trial {best.trial_id}'s checkpoint ({which} epoch): the saved model was refit "
               "on train+validation, so it has seen these images")
    deadline = budget.now() + max(0.0, budget.left() - REPORT_MIN_S) / 2
    order = np.random.default_rng(run.state.seed).permutation(np.asarray(data.val_idx))
    images = data.cache.open()
    done, probs = [], []
    for start in range(0, len(order), BATCH):
        if budget.now() >= deadline:
            break
        batch = np.sort(order[start:start + BATCH])        # memory-map reads in file order
        probs.append(scorer.predict_proba(list(images[batch]), batch_size=BATCH))
        done.append(batch)
    if not done:
        return None, "no time was left in the budget to score the validation split", ()
    idx, p = np.concatenate(done), np.concatenate(probs)
    truth = np.asarray(data.dataset.labels)[idx]
    predicted, confidence = p.argmax(axis=1), p.max(axis=1)
    classes = predictor.classes
    summary = classification_summary(truth, predicted, classes)
    part = ("" if len(idx) == len(order) else
            f" (a random {len(idx)} of the {len(order)}: the budget left no time for all)")
    mistakes = [Mistake(image=np.asarray(images[idx[i]]), path=data.dataset.paths[idx[i]],
                        label=classes[truth[i]], predicted=classes[predicted[i]],
                        confidence=float(confidence[i]))
                for i in rank_mistakes(truth, predicted, confidence)[:MAX_MISTAKES]]
    return summary, f"{who} on {len(idx)} validation images{part}", mistakes


def decisions(run, predictor, best, which) -> dict[str, str]:
    """What the run decided before and after its search, and why, one phrase each."""
    from ._data import MirrorCheck

    st, card = run.state, predictor.card
    config = card.config
    out = {"resolution": _resolution(run)}
    if "crop" in str(config.get("augment", "")):
        why = ("the preset's configs set their own crop_scale" if st.plan.crop_in_configs else
               f"set from the schedule's length ({st.plan.max_resource} epochs): shorter "
               "schedules crop more mildly")
        out["random crops"] = (f"{float(config.get('crop_scale', st.plan.crop_scale)):.0%} to 100% "
                               f"of the image area; {why}")
    else:
        out["random crops"] = "none (the chosen config trains on whole images)"
    if st.mirror_check:
        check = MirrorCheck(**st.mirror_check)
        out["horizontal flips"] = check.describe().removeprefix("augmentation: ")
    out["weights"] = _weights(card.pretrained, card.backbone)
    pref = st.preference
    out["backbone"] = (f"{card.backbone}, batch-1 latency p50 {card.latency_ms.get('p50', 0):.2f} ms "
                       f"on {pref.device}; {pref.describe()}")
    out["kept"] = (f"trial {best.trial_id} of {len(run.result.trials)}, its {which} epoch "
                   f"(validation accuracy {card.metrics.get('val_accuracy', float('nan')):.4f})")
    out["refit"] = ("trained again on train+validation for the final model" if run.refit_dir
                    else "none: the saved model is the search's checkpoint"
                    + ("" if st.plan.refit_s > 0 else " (a refit did not fit the budget beside the search)"))
    return out


def _resolution(run) -> str:
    res, sizes = run.data.resolution, run.data.dataset.sizes
    median = f"the images' median shorter side is {int(np.median([min(s) for s in sizes]))} px" \
        if sizes else "the images' sizes are not recorded"
    if run.resumed:
        return f"{res} px, the run's own (kept on --resume); {median}"
    if run.options.resolution is not None:
        return f"{res} px, set with --resolution; {median}"
    choice = getattr(run, "resolution_choice", None)
    if choice is not None:
        return (f"{res} px, chosen from the images and the budget: {choice.reason} (the largest "
                "size within the images' own at which the search still affords a full "
                "Hyperband bracket)")
    return f"{res} px; {median}"


def _weights(source: str, backbone: str) -> str:
    """'pretrained: ...' or 'random init: ...' from the trainer's record of where the chosen
    backbone's starting weights came from (``create_backbone``'s source)."""
    if source in ("random", "none", ""):      # "none": a checkpoint that did not record it
        return (f"random init: {backbone} was trained from scratch (no pretrained weights were "
                "found or asked for)")
    known = {"hf-cache": "timm's weights from the local Hugging Face cache",
             "network": "timm's weights downloaded from the Hugging Face Hub"}
    if source.startswith("file:"):
        return f"pretrained: weights from {source.removeprefix('file:')}"
    return f"pretrained: {known.get(source, source)}"


def versions(card_versions: dict[str, str]) -> dict[str, str]:
    """The model's library versions and those the report was made with."""
    out = dict(card_versions)
    for name in ("scikit-learn", "matplotlib", "pillow", "safetensors"):
        try:
            out.setdefault(name, metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    return out


def for_report(run, predictor, best, which):
    """:func:`run_diagnostics`, or None with a line saying why when gathering them failed: the
    model is saved by now, and the report's extra sections are not worth failing the fit for."""
    try:
        return run_diagnostics(run, predictor, best, which)
    except (ValueError, OSError, RuntimeError) as exc:
        run.say(f"report: the chosen model's diagnostics left out ({exc})")
        return None
