"""What the last scan of a folder found, per file, so the next scan decodes only what changed.

A file's entry is reused when its ``stat`` is unchanged: size, modification and change times
(nanoseconds), inode and device, as git's index trusts them. Writing a file's content always
moves its change time (``ctime``, which no tool can set back), so a changed file is decoded
again. A file whose times lie within ``RACY_S`` of the earlier scan could have been rewritten
within one tick of the file system's clock without its ``stat`` changing (git's "racy clean"
case): its content hash is computed again and compared instead. Entries record the content
hash, the size and the reason a file is unusable, for one Pillow version and one pixel limit; a
record from another is ignored. Records are JSON (data, never code), one per scanned folder or
CSV, under ``cache_dir()/scans/``; a missing, damaged or unwritable record only costs a full
scan.
"""
from __future__ import annotations

import hashlib
import json
import os
import time

import PIL

from autopreset._atomic import write_bytes_atomic

from ._chunks import sha256_file as _sha256

__all__ = ["ScanRecord"]

FORMAT = "autopreset.scan-record/1"
DECODE_RULES = 1        # bump when decode_image's accept / reject rules change
RACY_S = 2.0            # coarser than any file system clock tick (FAT's is 2 s)


def _stat_key(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None                         # (decode_image says why)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _same_content(path: str, digest: str | None) -> bool:
    try:
        return digest is not None and _sha256(path) == digest
    except OSError:
        return False


class ScanRecord:
    """``record = ScanRecord(root, max_pixels, folder)``; ``record.known(paths)`` gives each
    path's earlier result (or None); ``record.save(paths, results)`` stores this scan's."""

    def __init__(self, root: str, max_pixels: int, folder):
        self.max_pixels = int(max_pixels)
        name = hashlib.sha256(f"{root}\0{self.max_pixels}".encode("utf-8", "surrogateescape"))
        self.path = folder / "scans" / f"{name.hexdigest()[:24]}.json"
        self.stats: list[tuple | None] = []
        self.scanned_ns = 0                 # when the earlier scan took its stats
        self.now_ns = time.time_ns()        # when this one took them
        self._entries = self._load()

    def _load(self) -> dict:
        try:
            obj = json.loads(self.path.read_text(encoding="ascii"))
            if (obj.get("format"), obj.get("pillow"), obj.get("rules"), obj.get("max_pixels")) != (
                    FORMAT, PIL.__version__, DECODE_RULES, self.max_pixels):
                return {}
            self.scanned_ns = int(obj["scanned_ns"])
            return {row[0]: row[1:] for row in obj["files"]}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return {}

    def known(self, paths: list[str]) -> list[tuple | None]:
        """(digest, reason, size) per path as the last scan found it, None where unknown or
        changed since; stats every path (kept for :meth:`save`)."""
        self.now_ns = time.time_ns()
        self.stats = [_stat_key(p) for p in paths]
        racy = self.scanned_ns - int(RACY_S * 1e9)
        out = []
        for p, key in zip(paths, self.stats):
            row = self._entries.get(p)
            if key is None or row is None or tuple(row[:5]) != key:
                out.append(None)
                continue
            digest, reason, w, h = row[5:9]
            if max(key[1], key[2]) >= racy and not _same_content(p, digest):
                out.append(None)            # maybe rewritten in the same clock tick
                continue
            out.append((digest, reason, (w, h) if reason is None else None))
        return out

    def save(self, paths: list[str], results: list[tuple]) -> None:
        """Store ``results`` (digest, reason, size per path; the stats :meth:`known` took)."""
        rows = []
        for p, key, (digest, reason, size) in zip(paths, self.stats, results):
            if key is not None:
                w, h = size if size is not None else (None, None)
                rows.append([p, *key, digest, reason, w, h])
        obj = {"format": FORMAT, "pillow": PIL.__version__, "rules": DECODE_RULES,
               "max_pixels": self.max_pixels, "scanned_ns": self.now_ns, "files": rows}
        try:
            write_bytes_atomic(self.path, json.dumps(obj, separators=(",", ":")).encode("ascii"),
                               sync=False)
        except OSError:
            pass                            # a read-only cache: the next scan decodes again
