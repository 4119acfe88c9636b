"""Create a timm backbone from random init, from a weights file, or from timm's hub.

Where weights come from is always asked for, never guessed (``pretrained``):

- ``False`` (the default): random init;
- a path to a ``.safetensors`` file: its tensors fill the backbone, the classifier head is
  re-initialised for this model's classes (:func:`load_weights_file`); a file that does not fit
  the backbone (tensors missing, unexpected or of another shape beyond the head) is a one-line
  error naming the file;
- ``"hub"`` (or ``"auto"``): timm's pretrained weights, from the Hugging Face cache
  (``huggingface_hub``'s local files), else from the network when the Hub answers a 2-second
  connection probe (timm's own download retries for most of a minute when offline); when
  neither works, random init with a one-line notice; ``True``: the same, but an error instead
  of random init.

The source used is returned, so runs can record it.

    model, source = create_backbone("resnet18", num_classes=10)   # source: "random"
    model, source = create_backbone("resnet18", 10, pretrained="w/resnet18.safetensors")

Names and files that come from shared data (presets, model folders) are checked here before
timm sees them, so loading them never runs code, reads a file or contacts a repository:

- a backbone name is a model of timm's registry (``timm.list_models()``, or a pretrained tag
  of ``timm.list_pretrained()`` such as ``resnet18.a1_in1k``) or, for presets, a backbone of
  the catalog; hub names (``hf-hub:...``, ``local-dir:...``), paths and URLs are refused
  (:func:`backbone_problem`);
- the only keyword arguments passed on to ``timm.create_model`` are :data:`MODEL_KWARGS`
  (dropout rates and the pooling type); anything that could load weights or a file
  (``pretrained``, ``pretrained_cfg``, ``pretrained_cfg_overlay``, ``checkpoint_path``, ...)
  is refused (:func:`check_model_kwargs`);
- weights are read from safetensors only, after the header has been checked against the
  file (:func:`read_safetensors_header`): a pickle or a ``torch.save`` archive is refused,
  never unpickled;
- JSON (a safetensors header, model.json, preset files) is read with :func:`read_json`:
  UTF-8 only, no NaN or Infinity, no repeated key, a bounded nesting depth and file size.

Every refusal is a one-line :class:`~autopreset.errors.InputError` naming the file or name.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any

from autopreset.errors import InputError

__all__ = ["create_backbone", "load_weights_file", "check_weights_file", "weights_problem",
           "backbone_problem", "check_model_kwargs",
           "MODEL_KWARGS", "read_json", "read_json_file", "read_safetensors_header",
           "load_safetensors", "classifier_prefixes", "show_name", "MAX_JSON_DEPTH"]

log = logging.getLogger("autopreset")

#: Keyword arguments of ``timm.create_model`` a saved model (model.json's ``model_kwargs``) or
#: a caller may set, with what each accepts. They change the architecture only; none reads a
#: file. ``in_chans`` is not one of them: saved models take RGB (create_backbone's own
#: ``in_chans`` argument is for code).
MODEL_KWARGS = {
    "drop_rate": "a number in [0, 1)",
    "drop_path_rate": "a number in [0, 1)",
    "global_pool": "one of avg, max, avgmax, catavgmax",
}
_POOLS = ("avg", "max", "avgmax", "catavgmax")
#: Keyword arguments that would make timm fetch or read weights or files: named in the error.
_LOADING_KWARGS = ("pretrained", "pretrained_cfg", "pretrained_cfg_overlay", "checkpoint_path",
                   "cache_dir", "pretrained_strict")

#: How deep JSON may nest (a preset needs 5 levels, model.json 4, a safetensors header 3).
MAX_JSON_DEPTH = 32
#: The largest safetensors header read (the safetensors library's own limit).
MAX_HEADER_BYTES = 100 * 1024 * 1024
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "C64": 8, "F8_E4M3": 1,
                "F8_E4M3FNUZ": 1, "F8_E5M2": 1, "F8_E5M2FNUZ": 1}
_NAME_CHARS = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")   # catalog names
_TIMM_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)?$")              # timm names, tag optional


def backbone_problem(name: Any, *, catalog: bool = True) -> str | None:
    """Why ``name`` may not be used as a backbone (a phrase to follow the name), or None.

    Allowed: a backbone of the catalog (``autopreset.backbones.catalog()``, when ``catalog``)
    or a model of timm's registry. Refused: anything else, in particular hub names
    (``hf-hub:org/repo``), paths (``../x``, ``/tmp/m``) and URLs, which would make timm
    contact a repository or read a file. Imports timm only for names outside the catalog.

        backbone_problem("resnet18")               # None
        backbone_problem("hf-hub:someone/repo")    # "is not a model name: ..."
    """
    if not isinstance(name, str):
        return "is not a model name (a backbone is named by a string)"
    if not _NAME_CHARS.match(name) or ".." in name:
        return ("is not a model name: a backbone must be a model of the backbone catalog or of "
                "timm's registry (hub names such as 'hf-hub:...', paths and URLs are refused, "
                "so that no file is read and no repository contacted)")
    if catalog:
        from ._catalog import catalog as _catalog

        if any(s.name == name for s in _catalog()):
            return None
    if _TIMM_NAME.match(name) and _in_timm_registry(name):
        return None
    registry = "timm's registry (timm.list_models(), or a pretrained tag of timm.list_pretrained())"
    if catalog:
        return ("is not a known backbone: it is in neither the backbone catalog "
                f"(autopreset.backbones.catalog()) nor {registry}")
    return f"is not a model in {registry}"


def show_name(name: Any, limit: int = 80) -> str:
    """``repr(name)``, shortened to ``limit`` characters, for error messages."""
    text = repr(name)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _in_timm_registry(name: str) -> bool:
    import timm

    arch, _, tag = name.partition(".")
    if not tag:
        return bool(timm.is_model(arch))
    return name in _pretrained_tags()


@lru_cache(maxsize=1)
def _pretrained_tags() -> frozenset[str]:
    import timm

    return frozenset(timm.list_pretrained())


def check_model_kwargs(kwargs: Any, *, where: str = "model_kwargs") -> dict[str, Any]:
    """``kwargs`` if every key is in :data:`MODEL_KWARGS` with a value it accepts; else a one-line
    InputError naming ``where`` and the key. Nothing that loads files reaches timm."""
    if not isinstance(kwargs, dict):
        raise InputError(f"{where}: expected an object of timm keyword arguments, got "
                         f"{type(kwargs).__name__}")
    allowed = ", ".join(sorted(MODEL_KWARGS))
    for key, value in kwargs.items():
        shown = str(key) if len(str(key)) <= 60 else str(key)[:57] + "..."
        if key not in MODEL_KWARGS:
            why = (" (it could make timm load weights or a file)" if key in _LOADING_KWARGS
                   else "")
            raise InputError(f"{where}.{shown}: not an allowed timm keyword argument{why}; "
                             f"allowed: {allowed}")
        if key == "global_pool":
            ok = isinstance(value, str) and value in _POOLS
        else:
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value) and 0 <= value < 1)
        if not ok:
            raise InputError(f"{where}.{key}: {show_name(value, 60)} is not {MODEL_KWARGS[key]}")
    return dict(kwargs)


# ---- strict JSON ----------------------------------------------------------------------------
def read_json(data: bytes, *, source: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON ``data`` strictly; a one-line InputError ``source: why`` otherwise.

    UTF-8 only; NaN, Infinity and numbers that overflow to infinity are refused, and so is a
    key repeated in one object; nesting deeper than ``max_depth`` is refused (a document
    nested deeper than Python's recursion limit stops the parser; the depth of what parsed is
    then measured without recursion)."""
    def no_constants(name: str) -> Any:
        raise InputError(f"{name} is not allowed (JSON has no NaN or Infinity)")

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise InputError(f"{text[:30]} is not a finite number")
        return value

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise InputError(f"key {k[:60]!r} appears twice in one object")
            out[k] = v
        return out

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        doc = json.loads(text, parse_constant=no_constants, parse_float=finite,
                         object_pairs_hook=no_duplicates)
    except RecursionError:
        raise InputError(f"{source}: not valid JSON: nested too deeply (at most {max_depth} "
                         "levels are allowed)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: {exc.msg} (line {exc.lineno} column "
                         f"{exc.colno})") from None
    except ValueError as exc:   # the hooks' InputError, an integer too long to convert
        message = " ".join(str(exc).split())[:200]
        raise InputError(f"{source}: not valid JSON: {message}") from None
    if _deeper_than(doc, max_depth):
        raise InputError(f"{source}: not valid JSON: nested more than {max_depth} levels deep")
    return doc


def _deeper_than(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items if isinstance(item, (dict, list)))
    return False


def read_json_file(path: str | os.PathLike, *, max_bytes: int, source: str | None = None,
                   what: str = "JSON file", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """:func:`read_json` of a file, refused before reading when it is larger than ``max_bytes``.

    FileNotFoundError when ``path`` is not a regular file (a folder, a device, a pipe)."""
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise FileNotFoundError(f"{source}: not found (or not a regular file)")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"{source}: {_mib(size)} is too large for a {what} (at most "
                         f"{_mib(max_bytes)})")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:   # grew while being read
        raise InputError(f"{source}: too large for a {what} (at most {_mib(max_bytes)})")
    return read_json(data, source=source, max_depth=max_depth)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


# ---- safetensors ----------------------------------------------------------------------------
def read_safetensors_header(path: str | os.PathLike, *, source: str | None = None
                            ) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{tensor name: (dtype, shape)}`` of a safetensors file, checked against the file.

    A one-line InputError naming the file when it is not one: a pickle or a ``torch.save``
    archive (refused, never unpickled), too short, a header larger than the file or than
    100 MiB, a header that is not the safetensors JSON, or tensors whose byte ranges do not
    match their shapes or lie outside the file."""
    path = Path(path)
    source = source or str(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        bad = _not_safetensors(head, size)
        if bad:
            raise InputError(f"{source}: not a safetensors file ({bad})")
        n = int.from_bytes(head, "little")
        raw = f.read(n)
    if len(raw) != n:
        raise InputError(f"{source}: not a safetensors file (truncated header)")
    header = read_json(raw, source=f"{source}: safetensors header", max_depth=4)
    if not isinstance(header, dict):
        raise InputError(f"{source}: not a safetensors file (its header is not a JSON object)")
    data_bytes = size - 8 - n
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise InputError(f"{source}: safetensors header: __metadata__ must map names to "
                                 "strings")
            continue
        shown = name if len(name) <= 60 else name[:57] + "..."
        problem = _tensor_problem(entry, data_bytes)
        if problem:
            raise InputError(f"{source}: tensor {shown!r}: {problem}")
        out[name] = (entry["dtype"], tuple(entry["shape"]))
        spans.append(tuple(entry["data_offsets"]))
    spans.sort()
    end = 0
    for begin, stop in spans:
        if begin != end:
            raise InputError(f"{source}: not a safetensors file (tensor data overlap or leave "
                             "gaps)")
        end = stop
    if end != data_bytes:
        raise InputError(f"{source}: not a safetensors file (the header describes {end} bytes "
                         f"of tensor data, the file holds {data_bytes})")
    return out


def _not_safetensors(head: bytes, size: int) -> str | None:
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "it is a Python pickle; autopreset reads weights from safetensors only and never unpickles"
    if head[:4] == b"PK\x03\x04":
        return ("it is a zip archive, as torch.save writes; autopreset reads weights from "
                "safetensors only and never unpickles")
    if size < 8 or len(head) < 8:
        return f"{size} bytes is too short"
    n = int.from_bytes(head, "little")
    if n > MAX_HEADER_BYTES:
        return f"its header would be {n} bytes, more than {MAX_HEADER_BYTES}"
    if 8 + n > size:
        return (f"its header claims {n} bytes but only {size - 8} follow its 8-byte length: "
                "truncated or damaged")
    return None


def _tensor_problem(entry: Any, data_bytes: int) -> str | None:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        return "a header entry needs exactly dtype, shape and data_offsets"
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPE_BYTES:
        return f"unknown dtype {str(dtype)[:20]!r}"
    ints = lambda xs, k: (isinstance(xs, list) and len(xs) <= k   # noqa: E731
                          and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0
                                  for x in xs))
    if not ints(shape, 16):
        return "shape must be a list of at most 16 non-negative integers"
    if not ints(offsets, 2) or len(offsets) != 2 or offsets[0] > offsets[1]:
        return "data_offsets must be [begin, end] with begin <= end"
    if offsets[1] > data_bytes:
        return (f"its data ends at byte {offsets[1]} but the file holds {data_bytes} bytes of "
                "tensor data: truncated or damaged")
    if offsets[1] - offsets[0] != math.prod(shape) * _DTYPE_BYTES[dtype]:
        return f"shape {shape} of {dtype} does not match its {offsets[1] - offsets[0]} bytes"
    return None


def load_safetensors(path: str | os.PathLike, *, source: str | None = None) -> dict:
    """The tensors of a safetensors file (after :func:`read_safetensors_header`); InputError
    naming the file otherwise. Never unpickles."""
    from safetensors.torch import load_file

    source = source or str(path)
    read_safetensors_header(path, source=source)
    try:
        return load_file(str(path))
    except Exception as err:  # noqa: BLE001 - safetensors raises its own error type
        reason = " ".join(str(err).split())[:200]
        raise InputError(f"{source}: not a readable safetensors file ({reason})") from None


def create_backbone(name: str, num_classes: int, *, pretrained: bool | str | os.PathLike = False,
                    in_chans: int = 3, **model_kwargs):
    """Return ``(model, source)``; ``source`` is "random", "file:<path>", "hf-cache" or "network".

    ``pretrained``: False (random init), a path to a safetensors weights file (the head is
    re-initialised), "hub" or "auto" (timm's weights from the Hugging Face cache or the network,
    else random with a notice), True (the same, or ValueError). See the module docstring.
    ``model_kwargs``: only :data:`MODEL_KWARGS` (dropout rates, pooling), passed to timm.
    ``name`` must be a model of timm's registry (:func:`backbone_problem`): hub names and
    paths are refused with an InputError (a ValueError), so timm never fetches them.
    """
    problem = backbone_problem(name, catalog=False)
    if problem:
        raise InputError(f"unknown timm backbone {show_name(name)}: {problem}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, float)) \
            or int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    kwargs = dict(check_model_kwargs(model_kwargs, where="create_backbone"),
                  num_classes=int(num_classes), in_chans=int(in_chans))
    import timm

    if pretrained is False or pretrained is None:
        return timm.create_model(name, pretrained=False, **kwargs), "random"
    if not isinstance(pretrained, bool) and pretrained not in ("auto", "hub"):
        model = timm.create_model(name, pretrained=False, **kwargs)
        load_weights_file(model, pretrained, name=name)
        return model, f"file:{Path(pretrained)}"
    cached = _hf_cached_file(name)
    if cached is not None:
        model = timm.create_model(name, pretrained=False, **kwargs)
        load_weights_file(model, cached, name=name)
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


def load_weights_file(model, path: str | os.PathLike, *, name: str | None = None) -> dict:
    """Fill ``model`` from a safetensors weights file; its classifier head is re-initialised.

    Every tensor of the model outside the classifier head (:func:`classifier_prefixes`) must be
    in the file with the same shape (BatchNorm's ``num_batches_tracked`` counters may be left
    out), and the file may hold nothing else beyond the head: the head's tensors are dropped
    whatever their shape (the file's classes are not this model's), so the head keeps its fresh
    init. Returns ``{"loaded": n, "head_dropped": [names]}``.

    Raises InputError (a ValueError), one line naming the file, when it is missing, not a
    safetensors file (a pickle is refused, never unpickled), or does not fit the backbone.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"weights file not found: {str(path)!r}")
    try:
        state = load_safetensors(path)
    except InputError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise InputError(f"cannot read weights file {str(path)!r}: {reason}") from None
    own = model.state_dict()
    head = classifier_prefixes(model)
    problem = weights_problem({k: tuple(v.shape) for k, v in own.items()},
                              {k: tuple(v.shape) for k, v in state.items()}, head)
    if problem:
        label = name or _architecture(model)
        raise InputError(f"weights file {str(path)!r} does not fit this backbone ({label}): "
                         f"{problem}")
    body = {k: v for k, v in state.items() if not k.startswith(head)}
    model.load_state_dict(body, strict=False)
    return {"loaded": len(body), "head_dropped": sorted(k for k in state if k.startswith(head))}


def check_weights_file(name: str, path: str | os.PathLike) -> None:
    """Check, from its header alone, that the safetensors file at ``path`` fits backbone ``name``
    (as :func:`load_weights_file` will load it); a one-line InputError naming the file if not.
    Builds the backbone once on the CPU to know its tensors."""
    import timm

    path = Path(path)
    if not path.is_file():
        raise InputError(f"weights file not found: {str(path)!r}")
    try:
        header = read_safetensors_header(path)
    except InputError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise InputError(f"cannot read weights file {str(path)!r}: {reason}") from None
    model = timm.create_model(name, pretrained=False, num_classes=2)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    problem = weights_problem(own, {k: shape for k, (_, shape) in header.items()},
                              classifier_prefixes(model))
    if problem:
        raise InputError(f"weights file {str(path)!r} does not fit this backbone ({name}): "
                         f"{problem}")


def weights_problem(own: dict[str, tuple], given: dict[str, tuple],
                    head: tuple[str, ...]) -> str | None:
    """Why tensors of shapes ``given`` cannot fill a model of shapes ``own`` (one phrase), or
    None. Tensors under ``head`` (the classifier) are ignored on both sides."""
    body = {k: s for k, s in own.items() if not k.startswith(head)}
    missing = [k for k in body if k not in given and not k.endswith("num_batches_tracked")]
    other = [k for k in body if k in given and tuple(given[k]) != tuple(body[k])]
    unexpected = [k for k in given if k not in own and not k.startswith(head)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} tensors missing (e.g. {_short(missing[0])})")
    if other:
        k = other[0]
        parts.append(f"{len(other)} of another shape (e.g. {_short(k)}: "
                     f"{list(given[k])} in the file, {list(body[k])} here)")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (e.g. {_short(unexpected[0])})")
    if not parts and not any(k in given for k in body):
        parts.append("it holds none of the backbone's tensors")
    return ", ".join(parts) or None


def _short(key: str) -> str:
    return repr(key if len(key) <= 60 else key[:57] + "...")


def _architecture(model) -> str:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return str(cfg.get("architecture") or type(model).__name__)


def classifier_prefixes(model) -> tuple[str, ...]:
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
