"""The Sync workspace's site hub box: the desk's two links and the site hub's own view.

Shown only when the desk has a site hub address (``tramtiem site-hub set URL``, or found
on the LAN). From the desk's own database (``station.sync_status.links``): the address and
how it was found, whether this desk reaches it and when it last did, what has not reached
it yet and what it holds that the province has not answered. From the site hub itself
(``GET /sync/v1/site/hub-status``, asked off the GUI thread when the box is shown and on
Ctrl+R): whether *its* line to the province works, when the province last answered it,
and how many ops of all the site's desks wait there.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from station import sync_status
from station.store import Station
from sync import cli as sync_cli
from sync.site_hub_status import SiteHubStatus
from ui import labels
from ui.context import AppContext
from ui.status_bar import age_text

log = logging.getLogger(__name__)

# The window asks the site hub on a LAN: a short wait, never the sync engine's long one.
ASK_CONNECT_S = 3.0
ASK_READ_S = 5.0
ASK_EVERY_MS = 30_000


def ask_site_hub(st: Station, url: str) -> SiteHubStatus:
    """The site hub's view of its province link (a worker thread: it is a network call)."""
    factory = sync_cli.client_factory_for(st, url, connect_timeout_s=ASK_CONNECT_S, read_timeout_s=ASK_READ_S)
    with factory() as client:
        return client.site_hub_status()


class SiteHubPanel(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Site hub (this site's LAN)"), parent)
        self.ctx = ctx
        self._asking = False
        self._again = False  # asked (Ctrl+R) while an answer was on its way: ask once more
        self._asked_url: str | None = None
        self.remote: SiteHubStatus | None = None
        self.remote_error: str | None = None
        self.address = QLabel(self)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.found_by = QLabel(self)
        self.link = QLabel(self)
        self.last_contact = QLabel(self)
        self.to_site_hub = QLabel(self)
        self.held = QLabel(self)
        self.province = QLabel(self)
        self.province.setWordWrap(True)
        self.province_contact = QLabel(self)
        self.site_waiting = QLabel(self)
        grid = QGridLayout(self)
        rows = [
            (self.tr("Address"), self.address, self.tr("Found"), self.found_by),
            (self.tr("This desk → site hub"), self.link, self.tr("Last contact"), self.last_contact),
            (self.tr("Not yet at the site hub"), self.to_site_hub,
             self.tr("At the site hub, not yet at the province"), self.held),
            (self.tr("Site hub → province"), self.province, self.tr("Province last answered"),
             self.province_contact),
            (self.tr("Waiting at the site hub (all desks)"), self.site_waiting, "", None),
        ]
        for r, (t1, w1, t2, w2) in enumerate(rows):
            grid.addWidget(QLabel(t1, self), r, 0)
            grid.addWidget(w1, r, 1)
            if w2 is not None:
                grid.addWidget(QLabel(t2, self), r, 2)
                grid.addWidget(w2, r, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(ASK_EVERY_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.hide()

    def _tick(self) -> None:
        if self.isVisible():
            self.ask()

    # ---- what the desk knows -------------------------------------------------------------

    def refresh(self) -> None:
        snap = self.ctx.bridge.snapshot
        if snap.status is None or not snap.status.site_hub_url:
            self.hide()
            return
        links = sync_status.links(snap.status, province_line=snap.line.state,
                                  site_hub_line=snap.site_hub_line.state)
        site = links.site_hub
        assert site is not None
        self.show()
        now = self.ctx.now()
        self.address.setText(links.site_hub_url or "")
        self.found_by.setText(self.tr("found on the LAN") if links.site_hub_found_by == "discovered"
                              else self.tr("typed by IT staff"))
        self.link.setText("?" if site.line == "unknown" else labels.tr(labels.LINE, site.line))
        self.last_contact.setText(self._when(site.last_ok, now))
        self.to_site_hub.setText(str(site.waiting))
        self.held.setText(str(links.province.waiting))
        self._show_remote(now)
        if self._asked_url != links.site_hub_url:
            self.ask()

    def _when(self, iso: str | None, now: datetime) -> str:
        if not iso:
            return self.tr("never")
        text = labels.site_time(iso, "%d/%m %H:%M")
        age = age_text(iso, now)
        return self.tr("{time} ({age} ago)").format(time=text, age=age) if age else text

    # ---- what the site hub says --------------------------------------------------------

    def ask(self) -> None:
        """Ask the site hub for its province link (a read task: a network call)."""
        snap = self.ctx.bridge.snapshot
        url = snap.status.site_hub_url if snap.status is not None else None
        if not url:
            return
        if self._asking:
            self._again = True  # the running ask may predate what prompted this one
            return
        self._asking = True
        self._asked_url = url
        st = self.ctx.station
        self.ctx.tasks.read(lambda: ask_site_hub(st, url), owner=self, on_ok=self._answered,
                            on_err=self._failed, label="site-hub-status")

    def _answered(self, status: SiteHubStatus) -> None:
        self._asking = False
        self.remote, self.remote_error = status, None
        self._show_remote(self.ctx.now())
        self._ask_again()

    def _failed(self, exc: BaseException) -> None:
        self._asking = False
        code = getattr(exc, "code", None)
        log.info("site hub status not available: %s", code or type(exc).__name__)
        self.remote, self.remote_error = None, str(code or "hub.unreachable")
        self._show_remote(self.ctx.now())
        self._ask_again()

    def _ask_again(self) -> None:
        if self._again:
            self._again = False
            self.ask()

    def _show_remote(self, now: datetime) -> None:
        r = self.remote
        if r is None:
            self.province.setText(self.tr("not known (the site hub did not answer)") if self.remote_error
                                  else self.tr("asking the site hub…"))
            self.province_contact.setText("—")
            self.site_waiting.setText("—")
            return
        self.province.setText(self.tr("reachable") if r.province_reachable else self.tr("not reachable"))
        self.province.setProperty("state", "online" if r.province_reachable else "offline")
        self.province_contact.setText(self._when(r.province_contact_at, now))
        self.site_waiting.setText(self.tr("{n} (this desk: {mine})").format(n=r.waiting_ops, mine=r.waiting_for_you))


__all__ = ["SiteHubPanel", "ask_site_hub"]
