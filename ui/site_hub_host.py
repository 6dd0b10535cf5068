"""The window's side of "this laptop is the site hub" (Admin → Site hub; docs/site-hub.md).

:class:`SiteHubHost` owns the site hub child process while the window runs: turned on in
Admin (enroll with the relay code the first time, start, point this desk at it), started
again at each start of the window while the setting is on, stopped when the window quits,
stopped and the desk's previous route given back when turned off. The site hub's own data
(``DATA/site-hub``: its database, the ops it holds for the province) stays on disk either
way. Every method but :meth:`running` blocks (the window calls them in tasks); nothing here
touches a widget.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import FieldIssue, StationError, StoreError, ValidationError
from station.store import Station
from sync import site_hub_serve as shs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostState:
    """What the Admin tab shows (counts, addresses, times: no personal data)."""

    on: bool  # the setting: the window starts the site hub
    running: bool
    enrolled: bool
    port: int
    addresses: tuple[str, ...] = ()  # where the other desks reach it
    fingerprint: str = ""
    site_code: str = ""
    province_reachable: bool | None = None  # None: not asked (not running, or no answer)
    province_contact_at: str | None = None
    waiting_ops: int | None = None
    error_code: str = ""  # the last start failure, if any


def lan_addresses() -> tuple[str, ...]:
    """This laptop's IPv4 addresses other desks may reach (loopback left out)."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    try:  # the address of the default route (no packet is sent)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            found.add(str(s.getsockname()[0]))
    except OSError:
        pass
    return tuple(sorted(a for a in found if not a.startswith("127.")))


def check_port(port: int) -> int:
    if not 1024 <= port <= 65535:
        raise ValidationError([FieldIssue("port", "port.out_of_range", {"min": 1024, "max": 65535})])
    return port


class SiteHubHost:
    def __init__(self, st: Station, data_dir: Path, *, host: str = "0.0.0.0", announce: bool = True) -> None:
        self.st = st
        self.data_dir = Path(data_dir)
        self.host = host
        self.announce = announce
        self._lock = threading.Lock()
        self._proc: shs.SiteHubProcess | None = None
        self._error = ""
        self._closed = False

    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.running()

    def setting_on(self) -> bool:
        value = shs.serve_setting(self.st)
        return bool(value and value.get("app"))

    def port(self) -> int:
        value = shs.serve_setting(self.st)
        port = value.get("port") if value else None
        return port if isinstance(port, int) else shs.DEFAULT_PORT

    def _start(self, port: int) -> shs.SiteHubProcess:
        if self._closed:
            raise StoreError("site_hub.start_failed", reason="closing")
        proc = shs.SiteHubProcess(self.data_dir, port=port, host=self.host, announce=self.announce)
        self._proc = proc  # stop() from another thread (the window quits) ends a start too
        try:
            proc.start()
        except StationError as exc:
            self._error = exc.code
            self._proc = None
            raise
        self._error = ""
        return proc

    def turn_on(self, code: str, port: int) -> HostState:
        """Enroll (first time: ``code`` is needed), start, point this desk at it; the setting is on."""
        check_port(port)
        with self._lock:
            if self.running():
                return self.state()
            shs.enroll(self.data_dir, self.st, code)
            try:
                proc = self._start(port)
            except StoreError as exc:
                if exc.code != "site_hub.port_in_use":
                    raise
                # Enrolled all the same: another port (or the other program stopped) and on again.
                raise ValidationError([FieldIssue("port", exc.code, {"port": port})]) from None
            shs.point_desk(self.st, proc, app=True)
        return self.state()

    def resume(self) -> bool:
        """At the window's start: start it again if the setting is on (True if it runs)."""
        with self._lock:
            if self.running() or not self.setting_on():
                return self.running()
            proc = self._start(self.port())
            shs.point_desk(self.st, proc)
            return True

    def turn_off(self) -> HostState:
        """Stop it and give the desk its previous route; its data stays in ``DATA/site-hub``."""
        with self._lock:
            self.stop()
            shs.unpoint_desk(self.st)
        return self.state()

    def stop(self) -> None:
        """Stop the child process; the setting is kept."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.stop()

    def close(self) -> None:
        """The window quits: stop it, and start nothing any more (a start under way ends)."""
        self._closed = True
        self.stop()

    def state(self) -> HostState:
        info = shs.SiteHubInfo.load(self.data_dir)
        running, port = self.running(), self.port()
        base = HostState(
            on=self.setting_on(), running=running, enrolled=info is not None, port=port,
            addresses=tuple(f"https://{a}:{port}" for a in lan_addresses()) if running else (),
            fingerprint=info.fingerprint if info else "", site_code=info.site_code if info else "",
            error_code=self._error,
        )
        if not running:
            return base
        try:
            from dataclasses import replace

            from sync.cli import site_hub_factory

            with site_hub_factory(self.st, connect_timeout_s=2.0, read_timeout_s=5.0)() as client:
                seen = client.site_hub_status()
            return replace(base, province_reachable=seen.province_reachable,
                           province_contact_at=seen.province_contact_at, waiting_ops=seen.waiting_ops)
        except Exception as exc:  # the state is shown anyway; the link is "not known"
            log.info("site hub status not read: %s", type(exc).__name__)
            return base


__all__ = ["HostState", "SiteHubHost", "check_port", "lan_addresses"]
