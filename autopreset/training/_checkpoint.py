"""Trial checkpoints as safetensors (tensors) + JSON (everything else); never pickle.

A checkpoint folder holds ``checkpoint.json`` (the commit point, written last and
atomically), the tensor file it names (model, optimizer state, torch RNG state), and
optionally the best epoch's weights. Tensor files carry the epoch in their name and are
written before the JSON that points at them, so a crash mid-save leaves the previous
checkpoint intact.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np

from autopreset._atomic import atomic_path
from autopreset._faults import fault_point
from autopreset.errors import InputError
from autopreset._atomic import write_json_atomic as _write_json_atomic

__all__ = ["save_checkpoint", "read_checkpoint", "load_model_from_checkpoint", "drop_weights",
           "write_json_atomic", "save_tensors_atomic", "jsonable", "FORMAT"]

FORMAT = "autopreset.checkpoint/1"
META = "checkpoint.json"


def json_default(value):
    """JSON for numpy scalars and arrays (searchers may propose numpy values)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint: {value!r}")


def jsonable(obj):
    """``obj`` as it reads back from JSON (tuples become lists, numpy scalars plain)."""
    return json.loads(json.dumps(obj, default=json_default))


def write_json_atomic(path: Path, obj, *, sync: bool = True) -> None:
    _write_json_atomic(path, obj, indent=None, default=json_default, sync=sync)


def save_tensors_atomic(path: Path, tensors: dict, *, sync: bool = True) -> None:
    """Write ``tensors`` as safetensors to ``path`` atomically (fsync'ed unless ``sync=False``,
    the umask's mode)."""
    from safetensors.torch import save_file

    with atomic_path(path, sync=sync) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))


def _optimizer_split(optimizer) -> tuple[dict, dict]:
    """Optimizer state_dict -> (tensors, JSON-able rest)."""
    import torch

    sd = optimizer.state_dict()
    tensors, plain = {}, {}
    for pid, entry in sd["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{name}"] = value
            else:
                plain.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def _optimizer_join(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for pid, entry in meta.get("plain_state", {}).items():
        state.setdefault(int(pid), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}


def rng_states() -> tuple[dict, dict]:
    """Global RNG states (torch in tensors; python and numpy as JSON)."""
    import torch

    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    plain = {"python": [version, list(internal), gauss],
             "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}
    return tensors, plain


def restore_rng(tensors: dict, plain: dict) -> None:
    import torch

    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    version, internal, gauss = plain["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = plain["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


def save_checkpoint(directory: Path, *, model, optimizer, meta: dict,
                    best_state: dict | None = None, durable: bool = True) -> None:
    """Write model + optimizer + RNG state for ``meta["epoch"]``; ``best_state`` if new.

    The tensor files carry the epoch in their name and checkpoint.json is replaced last, so a
    kill at any moment leaves the previous checkpoint whole. ``durable=False`` skips the fsyncs
    (the checkpoints between epochs: a killed process loses nothing; a machine crash may)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    epoch = int(meta["epoch"])
    opt_tensors, opt_meta = _optimizer_split(optimizer)
    rng_tensors, rng_plain = rng_states()
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(opt_tensors)
    tensors.update(rng_tensors)
    name = f"state-{epoch:05d}.safetensors"
    save_tensors_atomic(directory / name, tensors, sync=durable)
    meta = dict(meta, format=FORMAT, tensors=name, optimizer=opt_meta, rng=rng_plain)
    if best_state is not None:
        best_name = f"best-{int(meta['best']['epoch']):05d}.safetensors"
        save_tensors_atomic(directory / best_name, best_state, sync=durable)
        meta["best_tensors"] = best_name
    fault_point("checkpoint")
    write_json_atomic(directory / META, meta, sync=durable)
    _remove_tensor_files(directory, keep={name, meta.get("best_tensors")})


def _remove_tensor_files(directory: Path, keep=frozenset()) -> int:
    """Delete the checkpoint tensor files in ``directory`` not named in ``keep``; bytes freed."""
    freed = 0
    for old in directory.glob("*.safetensors"):
        if old.name not in keep and old.name.startswith(("state-", "best-")):
            freed += old.stat().st_size
            old.unlink(missing_ok=True)
    return freed


def read_checkpoint(directory: Path) -> tuple[dict, dict] | None:
    """(meta, tensors) of the checkpoint in ``directory``, or None when there is none."""
    from safetensors.torch import load_file

    path = Path(directory) / META
    if not path.is_file():
        return None
    meta = _read_meta(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not an autopreset checkpoint "
                         f"(format {meta.get('format')!r})")
    if not meta.get("tensors"):          # weights dropped after the fit: only the record is left
        return None
    return meta, load_file(str(Path(directory) / meta["tensors"]))


def _read_meta(path: Path) -> dict:
    """checkpoint.json, read strictly (UTF-8, bounded size and nesting): a damaged one is a
    one-line InputError naming it."""
    from autopreset.backbones._create import read_json_file

    meta = read_json_file(path, max_bytes=64 << 20, what="checkpoint record")
    if not isinstance(meta, dict):
        raise InputError(f"{path}: not a checkpoint record (a JSON object)")
    return meta


def drop_weights(directory: Path) -> int:
    """Delete a checkpoint's tensor files, keeping ``checkpoint.json`` as the trial's record
    (history, best epoch, config) with ``tensors`` set to null; returns the bytes freed. A
    checkpoint without weights reads as no checkpoint (a resumed trial would start afresh)."""
    directory = Path(directory)
    path = directory / META
    if not path.is_file():
        return 0
    meta = _read_meta(path)
    if meta.get("format") != FORMAT or not meta.get("tensors"):
        return 0
    meta.update(tensors=None, best_tensors=None, weights_dropped=True)
    write_json_atomic(path, meta)              # the commit point first: never a dangling name
    return _remove_tensor_files(directory)


def restore_training(meta: dict, tensors: dict, model, optimizer) -> None:
    """Load model, optimizer and RNG states saved by :func:`save_checkpoint`."""
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    optimizer.load_state_dict(_optimizer_join(tensors, meta["optimizer"]))
    restore_rng(tensors, meta["rng"])


def load_model_from_checkpoint(directory: str | os.PathLike, which: str = "best"):
    """Rebuild the trained network from a trial checkpoint: ``(model, meta)``.

    ``which="best"`` takes the weights of the epoch with the best validation accuracy
    (falling back to the last epoch), ``"last"`` the last one. ``meta`` holds backbone,
    classes, input_size, mean, std, epoch, metric, config and weights_source. The model
    is on the CPU, in eval mode.
    """
    from safetensors.torch import load_file

    from ..backbones import create_backbone

    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last', got {which!r}")
    found = read_checkpoint(Path(directory))
    if found is None:
        if (Path(directory) / META).is_file():
            raise ValueError(f"the weights in {str(directory)!r} were deleted when its fit finished "
                             "(fit --keep-checkpoints keeps every trial's weights)")
        raise ValueError(f"no checkpoint in {str(directory)!r}")
    meta, tensors = found
    model, _ = create_backbone(meta["backbone"], len(meta["classes"]), pretrained=False)
    if which == "best" and meta.get("best_tensors"):
        state = load_file(str(Path(directory) / meta["best_tensors"]))
        epoch, metric = meta["best"]["epoch"], meta["best"]["metric"]
    else:
        state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        epoch, metric = meta["epoch"], (meta["history"][-1]["metric"]
                                        if meta.get("history") else None)
    model.load_state_dict(state)
    model.eval()
    keys = ("backbone", "classes", "input_size", "mean", "std", "config", "weights_source",
            "history")
    out = {k: meta.get(k) for k in keys}
    out.update(epoch=epoch, metric=metric)
    return model, out
