"""The run folder: where a fit keeps its journal, trial checkpoints, model, leaderboard, report.

``out=None`` makes ``runs/<UTC timestamp>`` and points ``runs/latest`` at it (once the run
starts). A folder that already holds a run is only reused with ``resume=True``; ``resume=True``
needs one.

One fit per folder: :func:`open_run_folder` locks the folder for the process before anything in
it is read or written (an OS advisory lock, ``flock``, on ``.fit.lock``, which also names the
holder's pid, host and start for the message a second fit gets). The kernel drops the lock when
the process ends however it ends, SIGKILL included, so a killed run never leaves its folder
locked. The lock's file descriptor is not inherited by child processes: it is opened
close-on-exec (spawned workers, subprocesses) and closed in forked children (an ``os.fork``
hook), so a worker can neither release the lock nor keep it alive after the fit died. A start
that fails before the run is recorded (no ``run.json``) takes the lock file and the folders it
made away again, so a failed start leaves nothing behind.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import socket
from pathlib import Path

from autopreset._atomic import write_json_atomic
from autopreset.errors import InputError

__all__ = ["open_run_folder", "find_run", "create_run_folder", "discard_run",
           "RunLock", "write_json", "read_json", "journal_spent", "RUN_FILE", "LOCK_FILE"]

RUN_FILE = "run.json"
LOCK_FILE = ".fit.lock"
# what a fit writes in its folder: a restart on changed data removes exactly these
RUN_ENTRIES = (RUN_FILE, "journal.jsonl", "trials", "refit", "model", "leaderboard.csv",
               "report.html", "plots", "preset.json")

_HELD: set[int] = set()          # the lock file descriptors this process holds


def _close_in_child() -> None:
    """In a forked child: drop our copies of the lock descriptors. (The parent's copy keeps the
    lock; the child can then neither release it nor hold it past the parent's death.)"""
    for fd in list(_HELD):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


def write_json(path: Path, obj) -> None:
    """Write JSON atomically (temp file in the same folder, fsync, then rename)."""
    write_json_atomic(path, obj)


RUN_JSON_MAX_BYTES = 64 << 20


def read_json(path: Path):
    """A run folder's JSON file, read strictly (UTF-8, bounded size and nesting, no NaN): a
    damaged or tampered run.json is a one-line InputError naming it, never a traceback."""
    from autopreset.backbones._create import read_json_file

    return read_json_file(path, max_bytes=RUN_JSON_MAX_BYTES, what="run file")


def journal_spent(folder: Path) -> float:
    """Seconds of the budget a run's journal says its search has spent (0 without one)."""
    from autopreset.journal import read_journal
    from autopreset.tuner import JOURNAL_NAME

    path = Path(folder) / JOURNAL_NAME
    events = read_journal(path) if path.exists() else []
    return max((float(e.get("spent") or 0.0) for e in events), default=0.0)


# ---------------------------------------------------------------------------------- the lock
class RunLock:
    """This process's hold on a run folder (see the module docstring); :meth:`release` ends it."""

    def __init__(self, folder: Path, fd: int | None, made: list[Path]):
        self.folder, self._fd, self._made = folder, fd, made

    @classmethod
    def acquire(cls, folder: Path, made: list[Path] = ()) -> "RunLock":
        """Lock ``folder`` (which exists) or raise a one-line InputError naming its holder."""
        path = folder / LOCK_FILE
        try:
            import fcntl
        except ImportError:              # no flock on this platform: one fit per folder unchecked
            return cls(folder, None, list(made))
        for _ in range(5):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise InputError(f"{folder}: cannot create its lock file "
                                 f"({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise InputError(f"{folder} is in use by another autopreset fit ({holder}); "
                                 "wait for it to end or pass another --out") from None
            except OSError as exc:       # a filesystem without locks: go on, unchecked
                logging.getLogger("autopreset").warning(
                    "%s: cannot lock the run folder (%s); make sure no other fit uses it",
                    folder, exc.strerror)
                _HELD.add(fd)
                return cls(folder, fd, list(made))
            try:     # a failed start may have removed the file we opened: lock the one there now
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                _HELD.add(fd)
                _write_holder(fd)
                return cls(folder, fd, list(made))
            os.close(fd)
        raise InputError(f"{folder}: could not lock it (its lock file keeps changing)")

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let go of the folder. When no run was recorded in it (a failed start), the lock file
        and the folders this lock's call made go too, so that start leaves nothing behind."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        discard = not (self.folder / RUN_FILE).exists()
        if discard:          # (unlinked while still held: a waiting fit re-checks the inode)
            try:
                (self.folder / LOCK_FILE).unlink()
            except OSError:
                pass
        _HELD.discard(fd)
        os.close(fd)
        if discard:
            for d in reversed(self._made):
                try:
                    d.rmdir()
                except OSError:
                    break


def _write_holder(fd: int) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    except OSError:
        pass


def _holder(fd: int) -> str:
    """'pid 1234, started 2026-01-01 12:00:00 UTC' (the host too when it is another)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "its details are not written yet"
    host = info.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return f"pid {info['pid']}{where}, started {info.get('started', '?')}"


# ------------------------------------------------------------------------------ the folder
def open_run_folder(out, *, resume: bool) -> tuple[Path, RunLock]:
    """The run folder, found (``resume``) or made, and locked for this process: the first
    thing a fit does there, so two fits never share a folder (see the module docstring)."""
    if resume:
        folder = find_run(out)
        lock = RunLock.acquire(folder)
        if not (folder / RUN_FILE).is_file():        # (gone meanwhile: a restart that failed)
            lock.release()
            find_run(out)
        return folder, lock
    if out is None:
        folder, made = _new_default_folder()
    else:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--out {str(folder)!r} is a file, not a folder")
        _check_writable(folder)
        made = _make_dirs(folder)
    try:
        lock = RunLock.acquire(folder, made)
    except BaseException as exc:          # what this call made goes again
        if made and not isinstance(exc, InputError):    # (a signal; in use: the holder's file)
            (folder / LOCK_FILE).unlink(missing_ok=True)
        for d in reversed(made):
            try:
                d.rmdir()
            except OSError:
                break
        raise
    if (folder / RUN_FILE).is_file():
        lock.release()
        raise InputError(f"--out {str(folder)!r} already holds a run; use --resume to continue it "
                         "or choose another folder")
    return folder, lock


def find_run(out) -> Path:
    """The run folder ``--resume`` continues (``out``, or what runs/latest points at), checked
    to hold a run, without locking it (``fit --resume --plan`` only reads it)."""
    if out is None:
        latest = Path("runs") / "latest"
        if not latest.exists():
            raise InputError("--resume needs --out RUN_FOLDER (runs/latest does not exist)")
        return latest.resolve()
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {str(folder)!r} is a file, not a folder")
    if not (folder / RUN_FILE).is_file():
        raise InputError(f"--resume: {str(folder)!r} holds no run to continue (no {RUN_FILE})")
    return folder


def create_run_folder(folder: Path, *, default: bool) -> None:
    """Make the run folder (when :func:`open_run_folder` has not); a default one
    (runs/<timestamp>) also becomes runs/latest."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {str(folder)!r}: cannot create it ({exc.strerror})") from None
    if default:
        _point_latest(folder)


def discard_run(folder: Path) -> int:
    """Remove what a fit wrote in ``folder`` (run.json, journal, trials, model, report, ...),
    keeping anything else there and the lock; returns how many trial folders went."""
    import shutil

    n_trials = sum(1 for p in (folder / "trials").glob("trial_*") if p.is_dir())
    for name in RUN_ENTRIES[::-1]:          # run.json last: until then it is still a run
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    return n_trials


def _new_default_folder() -> tuple[Path, list[Path]]:
    """Make runs/<stamp> (runs/<stamp>-2, ... when taken: made exclusively, so two fits started
    in the same second get a folder each)."""
    while True:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        folder, n = Path("runs") / stamp, 1
        while folder.exists():
            n += 1
            folder = Path("runs") / f"{stamp}-{n}"
        _check_writable(folder)
        made = _make_dirs(folder.parent)
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"--out {str(folder)!r}: cannot create it ({exc.strerror})") from None
        return folder, made + [folder]


def _make_dirs(folder: Path) -> list[Path]:
    """mkdir -p; the folders it made, outermost first."""
    missing, p = [], folder
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {str(folder)!r}: cannot create it ({exc.strerror})") from None
    return missing[::-1]


def _check_writable(folder: Path) -> None:
    parent = folder
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {str(folder)!r}: cannot create or write it "
                         f"({str(parent)!r} is not a writable folder)")


def _point_latest(folder: Path) -> None:
    latest = folder.parent / "latest"
    tmp = folder.parent / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        os.symlink(folder.name, tmp)
        os.replace(tmp, latest)
    except OSError:
        pass                     # no symlinks here (some filesystems): runs/latest is optional
