"""Log files in the station's data directory, with a last line of defence against personal data.

Every entry point calls :func:`setup` once: the app (``ui/app.py``), ``tramtiem
sync`` and the other ``tramtiem`` commands (``ui/cli.py``). Each kind of
process writes its own rotating file under ``<data dir>/logs/`` (``app.log``,
``cli.log``...): two processes rotating one file would collide on Windows,
where an open file cannot be renamed.

The real protection is that the code never logs names, ID numbers, phones or
addresses: log calls carry codes, counts, ids (UUIDs) and exception *types*.
:class:`RedactingFilter` is the safety net behind that rule:

* anything that looks like a 12-digit CCCD, a 9-digit CMND, a passport number
  or a Vietnamese phone number is replaced by ``[id]``/``[phone]``;
* tracebacks keep their frames but drop the exception *messages* (which may
  quote the data that failed), except for the station's own errors, whose
  messages are codes and parameters by design;
* SQLAlchemy's statement logging, which would print bound parameters, is held
  at WARNING whatever the root level.

Names cannot be recognised reliably, so nothing here pretends to.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import traceback
from io import TextIOWrapper
from pathlib import Path
from types import TracebackType
from typing import TextIO

from kernel.errors import StationError

LOG_DIR = "logs"
LEVEL_ENV = "TRAMTIEM_LOG_LEVEL"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(process)d %(threadName)s %(name)s: %(message)s"
_MARK = "_tramtiem_log_handler"
_level_before: int | None = None  # the root level before the first setup(), for teardown()

# Lookarounds instead of \b: a digit run glued to letters or hyphens is part of
# an identifier (a UUID's last group may be all digits), not an ID number.
_EDGE_L = r"(?<![\w-])"
_EDGE_R = r"(?![\w-])"
_PHONE = re.compile(
    _EDGE_L + r"(?:\+?84[\s.]?|0)(?:[35789]|[12]\d)(?:[\s.-]?\d){8}" + _EDGE_R
)
_ID_12_9 = re.compile(_EDGE_L + r"(?:\d{12}|\d{9})" + _EDGE_R)
_PASSPORT = re.compile(_EDGE_L + r"[A-Z]\d{7}" + _EDGE_R)

# Third-party loggers that print data (SQL parameters, request bodies) at
# INFO/DEBUG; they stay at WARNING even when the root logger is at DEBUG.
QUIET_LOGGERS = ("sqlalchemy", "httpcore", "hpack", "multipart", "python_multipart")


def redact(text: str) -> str:
    """Replace what looks like a phone number or an ID number."""
    text = _PHONE.sub("[phone]", text)
    text = _ID_12_9.sub("[id]", text)
    return _PASSPORT.sub("[id]", text)


def safe_traceback(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """A traceback with every frame but without exception messages (station errors excepted)."""
    if exc is None:
        return ""
    te = traceback.TracebackException(type(exc), exc, tb, capture_locals=False)
    chain: list[tuple[traceback.TracebackException, str]] = []
    current: traceback.TracebackException | None = te
    note = ""
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, note))
        if current.__cause__ is not None:
            current, note = current.__cause__, (
                "\nThe above exception was the direct cause of the following exception:\n\n")
        elif current.__context__ is not None and not current.__suppress_context__:
            current, note = current.__context__, (
                "\nDuring handling of the above exception, another exception occurred:\n\n")
        else:
            current = None
    parts: list[str] = []
    # Oldest first, as Python prints them; each note belongs before the newer one.
    for i in range(len(chain) - 1, -1, -1):
        link, relation = chain[i]
        parts.append("Traceback (most recent call last):\n")
        parts.extend(link.stack.format())
        name = link.exc_type.__qualname__ if link.exc_type is not None else "Exception"
        module = link.exc_type.__module__ if link.exc_type is not None else ""
        full = name if module in ("builtins", "__main__", "") else f"{module}.{name}"
        if link.exc_type is not None and issubclass(link.exc_type, StationError):
            parts.append(f"{full}: {''.join(link.format_exception_only()).split(': ', 1)[-1]}")
        else:
            parts.append(f"{full} (message withheld: it may quote personal data)\n")
        if i > 0:
            parts.append(relation)  # how this one led to the newer one printed next
    return "".join(parts).rstrip("\n")


class RedactingFilter(logging.Filter):
    """Rewrites each record before any handler formats it (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must not lose the line (or leak the args)
            message = f"{record.msg!s} (unformattable arguments withheld)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(safe_traceback(*record.exc_info))
            record.exc_info = None  # formatters would otherwise render the messages again
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def env_level() -> int:
    name = os.environ.get(LEVEL_ENV, "").strip().upper()
    value = logging.getLevelName(name) if name else logging.INFO
    return value if isinstance(value, int) else logging.INFO


def log_dir(data_dir: Path) -> Path:
    return Path(data_dir) / LOG_DIR


def _ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, _MARK, False))


class _LazyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates ``logs/`` at the first line written, not at start-up.

    A command that fails before logging anything ("no station here") leaves
    no folder behind, and ``restore``/``init`` find their target as they
    expect it (empty or absent).
    """

    def _open(self) -> TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (as Python's last-resort handler does).

    A stream bound at start-up goes stale when something replaces ``sys.stderr``
    (test capture, a GUI without a console).
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # StreamHandler.__init__ assigns one; the live sys.stderr is used instead


def setup(
    data_dir: Path | None,
    kind: str,
    *,
    level: int | None = None,
    stderr_level: int | None = logging.WARNING,
) -> Path | None:
    """Route the root logger to ``<data_dir>/logs/<kind>.log`` (rotating) and stderr.

    ``kind`` names the entry point (``app``, ``cli``, ``sync``...). Nothing is
    created until the first line is logged. Returns the log file, or None when
    only stderr is used. Calling it again replaces the handlers it installed
    before (tests, a second command in one process). The file's level is
    ``level``, else ``TRAMTIEM_LOG_LEVEL`` (e.g. ``DEBUG`` when IT staff chase a
    problem), else INFO.
    """
    if level is None:
        level = env_level()
    root = logging.getLogger()
    global _level_before
    if _level_before is None:
        _level_before = root.level
    for old in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(old)
        old.close()
    redactor = RedactingFilter()
    formatter = logging.Formatter(FORMAT)
    path: Path | None = None
    if data_dir is not None:
        path = log_dir(Path(data_dir)) / f"{kind}.log"
        handler = _LazyRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
        handler.setLevel(level)
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if stderr_level is not None:
        # What Python's last-resort handler printed before: the bare message.
        err = _StderrHandler()
        err.setLevel(stderr_level)
        err.setFormatter(logging.Formatter("%(message)s"))
        err.addFilter(redactor)
        setattr(err, _MARK, True)
        root.addHandler(err)
    root.setLevel(min(level, stderr_level if stderr_level is not None else level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return path


def teardown() -> None:
    """Remove and close the handlers :func:`setup` installed, restore the root level (tests)."""
    global _level_before
    root = logging.getLogger()
    for h in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(h)
        h.close()
    if _level_before is not None:
        root.setLevel(_level_before)
        _level_before = None
