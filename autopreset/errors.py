"""The errors autopreset raises on purpose, and what the command line does with each.

    from autopreset.errors import InputError
    try:
        autopreset.fit("photos/", budget="10m")
    except InputError as exc:         # bad argument, missing or invalid file or folder
        print(exc)

============================  ===============================================  =========
class                         meaning                                          CLI exit
============================  ===============================================  =========
``InputError``                bad user input: an argument value, a missing or  2
                              invalid file, a folder that cannot be used
``RunError``                  the run itself failed (e.g. no trial finished    1
                              within the budget)
``Interrupted``               stopped by Ctrl-C or SIGTERM at a safe point;    130 / 143
                              ``resume_hint`` says how to continue             (128 + the
                                                                               signal)
============================  ===============================================  =========

``InputError`` is also a ``ValueError`` and ``RunError`` a ``RuntimeError``, so code that
catches those keeps working. Any other exception is a bug: the command line shows its traceback.
"""
from __future__ import annotations

import os

from autopreset._signals import exit_status

__all__ = ["AutopresetError", "InputError", "RunError", "DiskFull", "Interrupted", "is_disk_full",
           "DISK_FULL"]

#: How a job's failure reason starts when the disk (or quota) was full: not the trial's fault.
DISK_FULL = "disk full"


class AutopresetError(Exception):
    """Base class of the errors autopreset raises on purpose (messages are one line)."""


class InputError(AutopresetError, ValueError):
    """Bad user input: an argument value, a missing or invalid file, an unusable folder."""


class RunError(AutopresetError, RuntimeError):
    """A run failed for a reason other than its input (no trial finished within the budget)."""


class DiskFull(RunError):
    """The disk (or the user's quota) filled up while the run wrote its files. The run stopped
    at once; nothing that was written whole is lost, and ``--resume`` continues it once space
    is freed (the trial that was writing starts again from its last checkpoint)."""


def is_disk_full(exc: BaseException) -> bool:
    """An OSError for a full disk or quota, or a library's error that wraps one (safetensors
    says "No space left on device (os error 28)")."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


class Interrupted(AutopresetError):
    """A run stopped at a safe point on SIGINT or SIGTERM; its run folder can be resumed.

        raise Interrupted(run_dir="runs/r1",
                          resume_hint="autopreset fit data/ --out runs/r1 --resume")

    ``str(exc)`` is the one line the command line prints; ``signal_name`` ("SIGINT",
    "SIGTERM" or None) the signal, and :attr:`exit_status` the command's exit status.
    """

    def __init__(self, message: str | None = None, *, run_dir: str | os.PathLike | None = None,
                 resume_hint: str | None = None, signal_name: str | None = None):
        self.run_dir = None if run_dir is None else os.fspath(run_dir)
        self.resume_hint = resume_hint
        self.signal_name = signal_name
        if message is None:
            message = "interrupted" + (f" by {signal_name}" if signal_name not in (None, "SIGINT")
                                       else "")
            if resume_hint:
                quote = '"' if "'" in resume_hint else "'"   # (shlex quotes paths with ')
                message += f": {quote}{resume_hint}{quote} continues this run"
            elif self.run_dir:
                message += f": the run in '{self.run_dir}' can be resumed with --resume"
        super().__init__(message)

    @property
    def exit_status(self) -> int:
        """128 + the signal's number: 130 for Ctrl-C (or no signal named), 143 for SIGTERM."""
        return exit_status(self.signal_name)
