"""How autopreset's log records reach the user: as text or as JSON lines, above a live display.

- :class:`ConsoleHandler` writes each record through a rich ``Console``. On a terminal it is
  ``console.print``, so a notice lands above a live display (``rich.live.Live`` on the same
  console), never inside it; otherwise each record is one plain line, as in a log file.
- :class:`JsonFormatter`: one JSON object per record: ``time``, ``level``, ``logger``,
  ``message`` and the record's structured fields (``logger.info(..., extra={"trial_id": 3})``).
- Worker processes: :class:`LineHandler`, in a local worker, sends each record to the main
  process (:class:`WorkerLogs`, a localhost listener with a random key; the records travel as
  JSON, nothing is unpickled), which logs it there: through its handler, so above the live
  display and in the chosen format. A worker without that address (a Dask worker on another
  machine) writes the record as a line on its own stderr.

The command line sets this up once per command (``autopreset.cli._logging``); ``fit`` called
from Python installs a :class:`ConsoleHandler` of its own while it runs.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import socket
import sys
import threading

__all__ = ["ConsoleHandler", "JsonFormatter", "LineHandler", "WorkerLogs", "console_handler",
           "fields_of"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_STYLES = {logging.DEBUG: "dim", logging.INFO: "", logging.WARNING: "yellow",
           logging.ERROR: "bold red"}


def fields_of(record: logging.LogRecord) -> dict:
    """The structured fields a record carries (what ``extra=`` added), JSON-safe."""
    return {k: _plain(v) for k, v in vars(record).items()
            if k not in _STANDARD and not k.startswith("_")}


def _plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None                      # JSON has no NaN or infinity
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (one line: newlines in a message are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        when = _dt.datetime.fromtimestamp(record.created, _dt.timezone.utc)
        obj = {"time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
               "level": record.levelname.lower(), "logger": record.name,
               "message": record.getMessage(), **fields_of(record)}
        if record.exc_info:
            obj["exception"] = self.formatException(record.exc_info)
        return json.dumps(obj, ensure_ascii=False)


class ConsoleHandler(logging.Handler):
    """Writes records through ``console`` (a ``rich.console.Console``): printed above a live
    display on a terminal, plain lines otherwise. ``structured``: JSON lines instead of text
    (a live display then stays off: see :class:`autopreset.pipeline.Progress`)."""

    def __init__(self, console, *, structured: bool = False, level: int = logging.NOTSET):
        super().__init__(level)
        self.console = console
        self.structured = bool(structured)
        self.setFormatter(JsonFormatter() if structured else logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if self.console.is_terminal:
                from rich.text import Text

                style = "" if self.structured else _STYLES.get(max(
                    (lv for lv in _STYLES if lv <= record.levelno), default=0), "")
                self.console.print(Text(text, style=style), soft_wrap=True, highlight=False)
            else:
                out = self.console.file
                out.write(text + "\n")
                out.flush()
        except Exception:                  # logging must never break a trial
            self.handleError(record)


def console_handler(logger: logging.Logger | None = None) -> ConsoleHandler | None:
    """The :class:`ConsoleHandler` the command line set on the ``autopreset`` logger, if any
    (not one a fit installed for itself: ``from_progress``)."""
    logger = logger or logging.getLogger("autopreset")
    return next((h for h in logger.handlers if isinstance(h, ConsoleHandler)
                 and not getattr(h, "from_progress", False)), None)


# ------------------------------------------------------------------ records of worker processes
_ENV = "AUTOPRESET_LOG_SINK"       # host:port:key:pid of the main process's WorkerLogs


class LineHandler(logging.Handler):
    """In a worker process: each record goes to the main process (``WorkerLogs``) when it
    listens, else onto a line of its own on ``stream`` (stderr)."""

    def __init__(self, stream=None):
        super().__init__(logging.INFO)
        self.stream = stream
        self._address = os.environ.get(_ENV)
        if self._address and self._address.rsplit(":", 1)[-1] == str(os.getpid()):
            self._address = None         # the main process itself (an in-process executor)
        self._conn = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._address is not None and self._send(record):
                return
            stream = self.stream or sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:                  # logging must never break a trial
            self.handleError(record)

    def _send(self, record: logging.LogRecord) -> bool:
        from multiprocessing.connection import Client

        try:
            if self._conn is None:
                host, port, key, _ = self._address.rsplit(":", 3)
                self._conn = Client((host, int(port)), authkey=bytes.fromhex(key))
            self._conn.send_bytes(json.dumps({
                "name": record.name, "levelno": record.levelno, "msg": record.getMessage(),
                "created": record.created, "worker_pid": os.getpid(),
                **fields_of(record)}).encode())
            return True
        except Exception:        # the main process is gone: write lines from now on
            self._address = self._conn = None
            return False


class WorkerLogs:
    """While it is open, local worker processes started from here (they inherit the
    environment) send their log records here, where they are logged again, under their own
    logger name and level, with a ``worker_pid`` field.

        sink = WorkerLogs(); ...start workers, run trials...; sink.close()
    """

    def __init__(self):
        from multiprocessing.connection import Listener

        self._key = os.urandom(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self.address = self._listener.address
        self._closed = False
        self._previous = os.environ.get(_ENV)
        os.environ[_ENV] = f"{self.address[0]}:{self.address[1]}:{self._key.hex()}:{os.getpid()}"
        threading.Thread(target=self._accept, name="autopreset-worker-logs", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:       # a failed handshake, or the wake-up of close()
                continue
            if self._closed:
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn) -> None:
        with conn:
            while True:
                try:
                    obj = json.loads(conn.recv_bytes(1 << 20))
                    level = int(obj.pop("levelno"))
                    name = str(obj.pop("name"))
                except (EOFError, OSError):
                    return
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
                logger = logging.getLogger(name)
                if logger.isEnabledFor(level):
                    obj["msg"] = str(obj.get("msg", ""))
                    logger.handle(logging.makeLogRecord(
                        {**obj, "name": name, "levelno": level,
                         "levelname": logging.getLevelName(level), "args": None}))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if os.environ.get(_ENV, "").startswith(f"{self.address[0]}:{self.address[1]}:"):
            if self._previous is None:
                os.environ.pop(_ENV, None)
            else:
                os.environ[_ENV] = self._previous
        try:                    # wake the accepting thread, which then sees it is closed
            socket.create_connection(self.address, timeout=1.0).close()
        except OSError:
            pass
        self._listener.close()
