"""Create a timm backbone with pretrained weights when they can be had, random init otherwise.

Where weights come from, in order (``pretrained="auto"``): a local ``.safetensors`` file
passed as ``pretrained``; the Hugging Face cache (``huggingface_hub``'s local files); the
network, tried only when the Hub answers a 2-second connection probe (timm's own download
retries for most of a minute when offline). When none works, the model starts from random
init with a one-line notice. The source used is returned, so runs can record it.

    model, source = create_backbone("resnet18", num_classes=10)   # source: "random", ...
"""
from __future__ import annotations

import logging
import os
import socket
from functools import lru_cache
from pathlib import Path

__all__ = ["create_backbone", "load_weights_file"]

log = logging.getLogger("autopreset")


def create_backbone(name: str, num_classes: int, *, pretrained: bool | str | os.PathLike = "auto",
                    in_chans: int = 3):
    """Return ``(model, source)``; ``source`` is "random", "file:<path>", "hf-cache" or "network".

    ``pretrained``: "auto" (best available, else random with a notice), True (pretrained
    or ValueError), False (random init), or a path to a safetensors weights file.
    """
    import timm

    if not timm.is_model(name):
        raise ValueError(f"unknown timm backbone {name!r}")
    if int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    kwargs = dict(num_classes=int(num_classes), in_chans=int(in_chans))
    if pretrained is False:
        return timm.create_model(name, pretrained=False, **kwargs), "random"
    if not isinstance(pretrained, bool) and pretrained != "auto":
        model = timm.create_model(name, pretrained=False, **kwargs)
        load_weights_file(model, pretrained)
        return model, f"file:{Path(pretrained)}"
    cached = _hf_cached_file(name)
    if cached is not None:
        model = timm.create_model(name, pretrained=False, **kwargs)
        load_weights_file(model, cached)
        return model, "hf-cache"
    if _hub_reachable():
        try:
            return timm.create_model(name, pretrained=True, **kwargs), "network"
        except Exception as err:  # noqa: BLE001 - any download failure means "no weights"
            reason = str(err).splitlines()[0][:120]
        else:  # pragma: no cover
            reason = ""
    else:
        reason = "no local weights and the Hugging Face Hub is unreachable"
    if pretrained is True:
        raise ValueError(f"pretrained weights for {name!r} are not available: {reason}")
    log.warning("autopreset: %s starts from random init (%s)", name, reason)
    return timm.create_model(name, pretrained=False, **kwargs), "random"


def load_weights_file(model, path: str | os.PathLike) -> None:
    """Load a safetensors state dict into ``model``; the classifier is kept if shapes differ.

    Raises ValueError naming the file when it is missing, unreadable or matches too little.
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"weights file not found: {str(path)!r}")
    try:
        state = load_file(str(path))
    except Exception as err:  # noqa: BLE001 - safetensors raises several types
        raise ValueError(f"cannot read weights file {str(path)!r}: {err}") from None
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    head = _classifier_prefixes(model)
    missing = [k for k in own if k not in usable and not k.startswith(head)]
    if missing:
        raise ValueError(f"weights file {str(path)!r} does not fit this backbone: "
                         f"{len(missing)} tensors missing or mismatched, e.g. {missing[0]!r}")
    model.load_state_dict(usable, strict=False)


def _classifier_prefixes(model) -> tuple[str, ...]:
    names = model.pretrained_cfg.get("classifier", "head") if hasattr(model, "pretrained_cfg") \
        else "head"
    names = (names,) if isinstance(names, str) else tuple(names)
    return tuple(n + "." for n in names)


def _hf_cached_file(name: str) -> Path | None:
    try:
        import timm
        from huggingface_hub import try_to_load_from_cache

        cfg = timm.models.get_pretrained_cfg(name)
        repo = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
        if not repo:
            return None
        for filename in ("model.safetensors", "open_clip_model.safetensors"):
            found = try_to_load_from_cache(repo, filename,
                                           cache_dir=os.environ.get("HF_HUB_CACHE") or None)
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    except Exception:  # noqa: BLE001 - a broken cache just means "not cached"
        return None
    return None


def _hub_reachable() -> bool:
    """False when offline mode is set or huggingface.co does not answer in 2 s (cached)."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0") or \
            os.environ.get("AUTOPRESET_OFFLINE", "0") not in ("", "0"):
        return False
    return _probe_hub()


@lru_cache(maxsize=1)
def _probe_hub() -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=2.0):
            return True
    except OSError:
        return False
