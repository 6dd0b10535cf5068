"""A second launch brings the first window forward instead of opening a second station.

The first process holds ``station.instance.InstanceLock`` on the data
directory and listens on a ``QLocalServer`` (a named pipe on Windows, a Unix
socket elsewhere) whose name is derived from the data directory and the OS
user. A later launch on the same data directory cannot take the lock; it
connects, says ``raise``, waits for ``ok`` and exits: the first process
shows, raises and activates its window. One station per data directory, so
never two sync engines or backup schedulers on one database file.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from station.instance import InstanceLock

log = logging.getLogger(__name__)

RAISE = b"raise\n"
OK = b"ok\n"
# A first instance that is still starting (lock taken, server not yet listening) is
# retried a few times; the whole wait stays short and bounded.
CONNECT_ATTEMPTS = 20
CONNECT_WAIT_MS = 500
RETRY_PAUSE_S = 0.1


def server_name(data_dir: Path) -> str:
    """Per data directory and per OS user (named pipes are visible to the whole machine)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment: the directory alone still separates
        user = ""
    key = f"{user}\0{Path(data_dir).resolve()}".encode()
    return "tramtiem-" + hashlib.sha256(key).hexdigest()[:24]


class InstanceGuard(QObject):
    """``claim()``: True for the first instance (then it listens); False: another one was asked to show itself."""

    sig_raise_requested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.name = server_name(self.data_dir)
        self.lock = InstanceLock(self.data_dir)
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        if self.lock.acquire():
            self._listen()
            return True
        return False

    def _listen(self) -> None:
        # We hold the lock, so any leftover socket (a crashed first instance on Unix) is stale.
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # The lock alone still keeps a second station away; only the bring-forward is lost.
            log.warning("single-instance server could not listen: %s", server.errorString())
            return
        server.newConnection.connect(self._connection)
        self.server = server

    def _connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if RAISE.strip() in data:
            sock.write(OK)
            sock.flush()
            self.sig_raise_requested.emit()
        sock.disconnectFromServer()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.lock.release()


def ask_first_to_show(name: str, *, sleep: Callable[[float], None] = time.sleep) -> bool:
    """The second launch: ask the running instance to show its window. True when it answered."""
    _allow_foreground()
    for _ in range(CONNECT_ATTEMPTS):
        sock = QLocalSocket()
        sock.connectToServer(name)
        if sock.waitForConnected(CONNECT_WAIT_MS):
            sock.write(RAISE)
            sock.flush()
            sock.waitForBytesWritten(CONNECT_WAIT_MS)
            answered = sock.waitForReadyRead(CONNECT_WAIT_MS * 4) and OK.strip() in bytes(sock.readAll().data())
            sock.disconnectFromServer()
            if answered:
                return True
        sock.abort()
        sleep(RETRY_PAUSE_S)
    return False


def _allow_foreground() -> None:
    """Windows gives the foreground only to the process the user last used: pass it on."""
    if sys.platform != "win32":
        return
    try:
        import ctypes

        ASFW_ANY = -1
        ctypes.windll.user32.AllowSetForegroundWindow(ASFW_ANY)
    except Exception:  # best effort: the first window still raises, maybe without focus
        pass


__all__ = ["InstanceGuard", "ask_first_to_show", "server_name"]
