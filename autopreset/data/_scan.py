"""Scan a class folder (or a CSV of ``path,label``) into a validated :class:`Dataset`.

Every file is fully decoded, in chunks on every core, so bad files are found before training
starts, each with a one-line reason in ``Dataset.skipped`` instead of a crash mid-run; memory
stays flat however many files there are (autopreset/data/_chunks.py).
Directory walking follows symlinks but remembers every directory it entered (by device and
inode), so a symlink loop ends the walk instead of hanging it.

    ds = scan("photos/")            # photos/cat/*.jpg, photos/dog/*.png, ...
    ds.classes                      # ['cat', 'dog'] (sorted)
    ds.skipped                      # [SkippedFile(path='photos/cat/x.jpg', reason='...')]
"""
from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autopreset.errors import InputError

from ._cache import RowWriter, _cached, _check_resolution, cache_dir
from ._chunks import check_files
from ._decode import MAX_PIXELS
from ._record import ScanRecord

__all__ = ["Dataset", "SkippedFile", "scan", "fingerprint"]


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the dataset, and why."""

    path: str
    reason: str


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated image-classification dataset.

    ``paths[i]`` has label ``labels[i]``, an index into ``classes`` (sorted class names),
    and ``sizes[i]`` = (width, height) after EXIF orientation.
    ``fingerprint`` hashes the multiset of (class name, file content) pairs: equal
    fingerprints mean equal data wherever it lives and however files are named, so a saved
    model can be matched to the data it was trained on. ``cache_key`` also depends on the
    order of ``paths``, and names the decoded-image cache (which is stored in that order).
    """

    root: str
    paths: tuple[str, ...]
    labels: np.ndarray
    classes: tuple[str, ...]
    skipped: tuple[SkippedFile, ...] = ()
    fingerprint: str = ""
    file_hashes: tuple[str, ...] = field(default=(), repr=False)
    sizes: tuple[tuple[int, int], ...] = field(default=(), repr=False)   # (width, height)

    @property
    def cache_key(self) -> str:
        text = "\n".join(self.file_hashes) + "\n" + self.fingerprint
        return hashlib.sha256(text.encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.paths)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {name: int(n) for name, n in zip(self.classes, counts)}

    def to_dict(self) -> dict:
        """A JSON-ready description (class names kept exactly, unicode included)."""
        return {
            "root": self.root, "paths": list(self.paths), "labels": self.labels.tolist(),
            "classes": list(self.classes), "fingerprint": self.fingerprint,
            "file_hashes": list(self.file_hashes), "sizes": [list(s) for s in self.sizes],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }

    @classmethod
    def from_dict(cls, obj: dict) -> "Dataset":
        return cls(root=obj["root"], paths=tuple(obj["paths"]),
                   labels=np.asarray(obj["labels"], dtype=np.int64),
                   classes=tuple(obj["classes"]), fingerprint=obj["fingerprint"],
                   file_hashes=tuple(obj.get("file_hashes", ())),
                   sizes=tuple(tuple(s) for s in obj.get("sizes", ())),
                   skipped=tuple(SkippedFile(**s) for s in obj.get("skipped", ())))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Dataset":
        return cls.from_dict(json.loads(text))


def scan(path: str | os.PathLike, *, n_jobs: int = -1, max_pixels: int = MAX_PIXELS,
         min_per_class: int = 2, progress=None, cache_resolution=None,
         cache_directory=None) -> Dataset:
    """Read a class folder or a ``path,label`` CSV, decode every image, and validate it.

    ``progress(stage, done, total)`` (stage ``"scan"``) is called as chunks of files are done
    (see :class:`~autopreset.data.ProgressDisplay`). With ``cache_resolution`` (an int, or a
    function of the candidate paths that returns one) the decoded images also go into the
    cache at that resolution, so each image is decoded once: ``build_cache(dataset, S)``
    then finds it (``cache_directory`` as ``build_cache``'s ``directory``).

    What a scan finds is recorded per file under ``cache_dir()/scans/``: the next scan of the
    same folder decodes only the files whose ``stat`` changed, and none when the cache it
    asks for is already there (autopreset/data/_record.py).

    Raises InputError (a ValueError; one line, naming the folder or class) for a missing or
    empty folder, fewer than 2 classes, or a class with fewer than ``min_per_class`` usable
    images.
    """
    root = Path(os.path.abspath(path))
    if not root.exists():
        raise InputError(f"data path does not exist: {str(root)!r}")
    if root.is_file():
        candidates, skipped = _from_csv(root)
        class_names = {label for _, label in candidates}
    elif root.is_dir():
        candidates, skipped, class_names = _from_folder(root)
    else:
        raise InputError(f"data path is neither a folder nor a CSV file: {str(root)!r}")
    if not class_names:
        raise InputError(f"no class folders in {str(root)!r}: expected one sub-folder per class")
    paths = [p for p, _ in candidates]
    record = ScanRecord(str(root), max_pixels, cache_dir(cache_directory))
    known = record.known(paths)
    resolution = cache_resolution(paths) if callable(cache_resolution) else cache_resolution
    if resolution is not None:
        return _scan_into_cache(root, candidates, skipped, class_names, min_per_class, known,
                                record, _check_resolution(resolution), n_jobs=n_jobs,
                                max_pixels=max_pixels, progress=progress,
                                directory=cache_directory)
    todo = [i for i, k in enumerate(known) if k is None]
    base = len(paths) - len(todo)
    if progress is not None and base:
        progress("scan", 0, len(paths))
    fresh = check_files([paths[i] for i in todo], n_jobs=n_jobs, max_pixels=max_pixels,
                        progress=None if progress is None else
                        (lambda stage, done, total: progress(stage, base + done, base + total)))
    results = list(known)
    for i, r in zip(todo, fresh):
        results[i] = r
    if todo:
        record.save(paths, results)
    return _dataset(root, candidates, skipped, class_names, min_per_class, results)


def _scan_into_cache(root, candidates, skipped, class_names, min_per_class, known, record,
                     resolution: int, *, n_jobs, max_pixels, progress, directory) -> Dataset:
    """Every file decoded once, into the cache at ``resolution`` as it is checked; nothing
    decoded when no file changed since the last scan and that cache is there."""
    paths = [p for p, _ in candidates]
    if all(k is not None for k in known):
        dataset = _dataset(root, candidates, skipped, class_names, min_per_class, known)
        if _cached(dataset, resolution, directory) is not None:
            if progress is not None:
                progress("scan", 0, len(paths))
                progress("scan", len(paths), len(paths))
            return dataset
    with RowWriter(directory, len(paths), resolution) as writer:
        results = check_files(paths, n_jobs=n_jobs, max_pixels=max_pixels, rows=writer.rows,
                              progress=progress)
        record.save(paths, results)
        dataset = _dataset(root, candidates, skipped, class_names, min_per_class, results)
        writer.keep([i for i, (_, reason, _) in enumerate(results) if reason is None])
        writer.commit(dataset)
    return dataset


def _dataset(root: Path, candidates, skipped, class_names, min_per_class, results) -> Dataset:
    skipped = list(skipped)
    good_paths, good_labels, hashes, sizes = [], [], [], []
    for (p, label), (digest, reason, size) in zip(candidates, results):
        if reason is None:
            good_paths.append(p)
            good_labels.append(label)
            hashes.append(digest)
            sizes.append(size)
        else:
            skipped.append(SkippedFile(p, reason))
    classes = sorted(class_names)
    _check_classes(root, classes, good_labels, min_per_class)
    index = {name: i for i, name in enumerate(classes)}
    labels = np.asarray([index[lab] for lab in good_labels], dtype=np.int64)
    return Dataset(root=str(root), paths=tuple(good_paths), labels=labels,
                   classes=tuple(classes), skipped=tuple(skipped),
                   fingerprint=fingerprint(good_labels, hashes),
                   file_hashes=tuple(hashes), sizes=tuple(sizes))


def fingerprint(labels, file_hashes) -> str:
    """SHA-256 over sorted (class name, content hash) lines: independent of paths and order."""
    lines = sorted(f"{lab}\t{h}" for lab, h in zip(labels, file_hashes))
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def _check_classes(root: Path, classes: list[str], labels: list[str], min_per_class: int):
    if len(classes) < 2:
        found = f"only {classes[0]!r}" if classes else "none"
        raise InputError(f"need at least 2 classes in {str(root)!r}, found {found}")
    counts = {name: 0 for name in classes}
    for lab in labels:
        counts[lab] += 1
    for name in classes:
        if counts[name] < min_per_class:
            raise InputError(
                f"class {name!r} in {str(root)!r} has {counts[name]} usable image(s); "
                f"at least {min_per_class} are needed to split it into train and validation")


def _from_folder(root: Path) -> tuple[list[tuple[str, str]], list[SkippedFile], set[str]]:
    candidates: list[tuple[str, str]] = []
    class_names: set[str] = set()
    skipped: list[SkippedFile] = []
    visited: set[tuple[int, int]] = set()
    try:
        st = root.stat()
    except OSError as err:
        raise InputError(f"cannot read data folder {str(root)!r}: {err.strerror}") from None
    visited.add((st.st_dev, st.st_ino))
    class_dirs = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        full = os.path.join(root, entry.name)
        if _is_dir(entry):
            class_dirs.append((entry.name, full))
        else:
            skipped.append(SkippedFile(full, _not_a_class_reason(full)))
    owned = {}
    for name, full in class_dirs:   # a link to another class folder must not steal its files
        st = os.stat(full)
        owned[(st.st_dev, st.st_ino)] = name
    visited.update(owned)
    for name, full in class_dirs:
        class_names.add(name)
        for p in _walk(full, visited, skipped, is_class_root=True):
            candidates.append((p, name))
    return candidates, skipped, class_names


def _is_dir(entry: os.DirEntry) -> bool:
    """True when ``entry`` is (or links to) a directory; loops and broken links are not."""
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _not_a_class_reason(path: str) -> str:
    try:
        os.stat(path)
    except OSError as err:
        return "symlink loop" if err.errno == errno.ELOOP else "broken symlink"
    return "file at top level (not in a class folder)"


def _walk(top: str, visited: set, skipped: list[SkippedFile], is_class_root: bool = False):
    """Yield files under ``top`` (sorted), following symlinks, never re-entering a directory."""
    if not is_class_root:
        try:
            st = os.stat(top)
        except OSError as err:
            skipped.append(SkippedFile(top, "symlink loop" if err.errno == errno.ELOOP
                                       else f"cannot read folder: {err.strerror or err}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in visited:
            skipped.append(SkippedFile(top, "symlink loop (directory already scanned)"))
            return
        visited.add(key)
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as err:
        skipped.append(SkippedFile(top, f"cannot list folder: {err.strerror or err}"))
        return
    for entry in entries:
        full = os.path.join(top, entry.name)
        if entry.name.startswith("."):
            skipped.append(SkippedFile(full, "hidden file"))
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(full, visited, skipped)
        else:
            yield full


def _csv_rows(path: Path, what: str) -> list[list[str]]:
    """The non-empty rows of a UTF-8 CSV; a one-line InputError naming ``what`` it should hold."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{str(path)!r} is not a UTF-8 CSV of {what}: "
                         f"{type(err).__name__}") from None


def _relative_to(base: Path, p: str) -> str:
    p = p.strip()
    return p if os.path.isabs(p) else str(base / p)


def csv_paths(path: str | os.PathLike) -> list[str]:
    """The image paths of a CSV as ``fit`` reads it (``path,label`` rows, a ``path,label`` header
    optional); the label column may be left out (``path`` rows, to predict). Relative paths are
    relative to the CSV's folder."""
    path = Path(path)
    rows = _csv_rows(path, "path[,label] rows")
    if rows and rows[0][0].strip().lower() == "path":
        rows = rows[1:]
    if not rows:
        raise InputError(f"{str(path)!r} has no path rows")
    return [_relative_to(path.parent, row[0]) for row in rows]


def _from_csv(path: Path) -> tuple[list[tuple[str, str]], list[SkippedFile]]:
    rows = _csv_rows(path, "path,label rows (expected a class folder or a CSV)")
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["path", "label"]:
        rows = rows[1:]
    if not rows:
        raise InputError(f"{str(path)!r} has no path,label rows")
    candidates = []
    for i, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[1].strip():
            raise InputError(f"{str(path)!r} row {i}: expected 'path,label', got {row!r}")
        candidates.append((_relative_to(path.parent, row[0]), row[1].strip()))
    return candidates, []
