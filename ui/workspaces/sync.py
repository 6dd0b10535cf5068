"""Sync: is the line up, what is waiting, what the hub refused, what a supervisor must decide.

Everything shown comes from :class:`~ui.bridge.SyncBridge` (fed by the sync
engine and by the local outbox poller). Review items are resolved here by a
supervisor; the decision is an op like any other and syncs to the hub.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from station.dto import PersonDTO
from station.services import people
from ui import labels, messages, reviews_api, theme
from ui.bridge import ReviewItemView, ReviewsChanged, SyncProgress
from ui.context import AppContext, Session
from ui.dialogs.reason import ReasonDialog
from ui.models.table import Column, RowsModel
from ui.status_bar import age_text
from ui.widgets.common import Banner, make_table, selected_row, shortcut
from ui.widgets.site_hub_panel import SiteHubPanel
from ui.workspaces.base import Workspace


class RejectedModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Entered"), lambda r: labels.site_time(r.recorded_at, "%d/%m %H:%M")),
                Column(self.tr("What"), lambda r: labels.tr(labels.OP_TYPE, r.op_type)),
                Column(self.tr("Reason"), lambda r: messages.text_for(r.reason_code, r.reason_params)),
            ],
            parent,
        )


class ReviewsModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Priority"), lambda r: labels.tr(labels.PRIORITY, r.priority), bold=True,
                       color=lambda r: "#b00020" if r.priority == "high" else None),
                Column(self.tr("Kind"), lambda r: labels.tr(labels.REVIEW_KIND, r.kind)),
                Column(self.tr("Since"), lambda r: labels.site_time(r.created_at, "%d/%m %H:%M")),
            ],
            parent,
        )


def _person_ids(item: ReviewItemView) -> list[str]:
    """Person ids a review item is about (its candidates, else its entity)."""
    ids: list[str] = []
    cands = item.candidates
    for key in ("person_ids", "persons", "people"):
        v = cands.get(key)
        if isinstance(v, list):
            ids += [str(x.get("id") if isinstance(x, dict) else x) for x in v]
    for key in ("from_id", "to_id", "person_id", "other_person_id"):
        one = cands.get(key)
        if isinstance(one, str):
            ids.append(one)
    if not ids and item.entity_type == "person":
        ids.append(item.entity_id)
    return list(dict.fromkeys(ids))


class SyncWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self.reason_dialog: ReasonDialog | None = None
        title = QLabel(self.tr("Sync with the hub"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)
        self.clock_banner = QLabel(self)
        self.clock_banner.setWordWrap(True)
        theme.set_role(self.clock_banner, "banner-warning")
        self.clock_banner.hide()
        # The hub's certificate is not trusted: a long text for IT staff, not the line label.
        self.tls_banner = QLabel(self)
        self.tls_banner.setWordWrap(True)
        theme.set_role(self.tls_banner, "banner-error")
        self.tls_banner.hide()

        top = self._build_status_pane()
        bottom = self._build_reviews_pane()

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.clock_banner)
        lay.addWidget(self.tls_banner)
        lay.addWidget(self.banner)
        lay.addWidget(split, 1)

        self._follow_bridge()
        shortcut("Ctrl+R", self, self.sync_now, local=True)

    def _build_status_pane(self) -> QWidget:
        """The line, the backlog, the progress and "Sync now" beside the list of refused ops."""
        self.line = QLabel(self)
        theme.set_role(self.line, "h2")
        self.pending = QLabel(self)
        self.oldest = QLabel(self)
        self.last = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.eta = QLabel(self)
        self.sync_btn = QPushButton(self.tr("Sync now (Ctrl+R)"), self)
        self.sync_btn.setProperty("role", "primary")
        self.sync_btn.clicked.connect(self.sync_now)
        grid = QGridLayout()
        # With a site hub this row is the province's line (the site hub's is in its box below).
        self.line_caption = QLabel(self.tr("Line"), self)
        rows: list[tuple[QLabel | str, QWidget]] = [
            (self.line_caption, self.line), (self.tr("Waiting to send"), self.pending),
            (self.tr("Oldest waiting"), self.oldest), (self.tr("Last successful sync"), self.last),
            (self.tr("Progress"), self.progress), (self.tr("Time left"), self.eta),
        ]
        for r, (caption, w) in enumerate(rows):
            grid.addWidget(caption if isinstance(caption, QLabel) else QLabel(caption, self), r, 0)
            grid.addWidget(w, r, 1)
        grid.setColumnStretch(1, 1)

        self.rejected_model = RejectedModel(self)
        self.rejected_view = make_table(self.rejected_model, self)
        top = QWidget(self)
        outer = QVBoxLayout(top)
        outer.setContentsMargins(0, 0, 0, 0)
        tl = QHBoxLayout()
        outer.addLayout(tl, 1)
        # Both links, the full width, when the desk has a site hub (hidden otherwise).
        self.site_hub = SiteHubPanel(self.ctx, top)
        outer.addWidget(self.site_hub)
        status_box = QVBoxLayout()
        status_box.addLayout(grid)
        status_box.addWidget(self.sync_btn)
        tl.addLayout(status_box, 2)
        rej = QVBoxLayout()
        rej_title = QLabel(self.tr("Refused by the hub"), self)
        theme.set_role(rej_title, "h2")
        rej.addWidget(rej_title)
        rej.addWidget(self.rejected_view)
        tl.addLayout(rej, 3)
        return top

    def _build_reviews_pane(self) -> QWidget:
        """The review items, the chosen one's details and the decisions a supervisor can take."""
        self.reviews_model = ReviewsModel(self)
        self.reviews_view = make_table(self.reviews_model, self)
        self.reviews_view.selectionModel().selectionChanged.connect(lambda *_a: self._review_selected())
        self.review_detail = QLabel(self)
        self.review_detail.setWordWrap(True)
        self.review_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.review_detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.action_buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for action in ("merge", "keep_both", "void_dose", "keep_current", "take_value", "unmerge"):
            b = QPushButton(labels.tr(labels.REVIEW_ACTION, action), self)
            b.clicked.connect(lambda _c=False, a=action: self.resolve_selected(a))
            b.hide()
            self.action_buttons[action] = b
            actions.addWidget(b)
        actions.addStretch(1)
        self.can_resolve = self.session.can("resolve_review")

        bottom = QWidget(self)
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        self.reviews_title = QLabel(self)
        theme.set_role(self.reviews_title, "h2")
        bl.addWidget(self.reviews_title)
        row = QHBoxLayout()
        row.addWidget(self.reviews_view, 2)
        detail = QVBoxLayout()
        detail.addWidget(self.review_detail, 1)
        detail.addLayout(actions)
        row.addLayout(detail, 3)
        bl.addLayout(row)
        return bottom

    def _follow_bridge(self) -> None:
        """Show the bridge's state now and on every change."""
        br = self.ctx.bridge
        for sig in (br.sig_line_state_changed, br.sig_pending_changed, br.sig_progress_changed,
                    br.sig_sync_succeeded, br.sig_clock_warning_changed, br.sig_controller_changed,
                    br.sig_links_changed):
            sig.connect(self.refresh_status)  # bound methods: dropped when this workspace is deleted
        br.sig_rejected_changed.connect(self.rejected_model.set_rows)
        br.sig_reviews_changed.connect(self._reviews_changed)
        self.rejected_model.set_rows(br.snapshot.rejected)
        self._reviews_changed(br.snapshot.reviews)
        self.refresh_status()

    def title(self) -> str:
        return self.tr("Sync")

    def shortcuts(self) -> list[tuple[str, str]]:
        out = [(self.tr("Ctrl+R"), self.tr("Sync now"))]
        if self.can_resolve:
            out.append((self.tr("↑ ↓ then a button"), self.tr("Choose a review item and decide")))
        return out

    def activate(self) -> None:
        self.refresh_status()
        self.site_hub.ask()
        self.reviews_view.setFocus()

    # ---- status ---------------------------------------------------------------------------

    def refresh_status(self) -> None:
        snap = self.ctx.bridge.snapshot
        certificate = snap.line.state == "certificate" and bool(snap.line.detail_code)
        self.line.setText(labels.tr(labels.LINE, snap.line.state) + (
            " — " + messages.text_for(snap.line.detail_code)
            if snap.line.detail_code and not certificate else ""))
        if certificate:
            self.tls_banner.setText("⚠ " + messages.text_for(str(snap.line.detail_code)))
            self.tls_banner.show()
        else:
            self.tls_banner.hide()
        self.pending.setText(str(snap.pending.count))
        now = self.ctx.now()
        self.oldest.setText(age_text(snap.pending.oldest_recorded_at, now) or "—")
        self.last.setText(labels.site_time(snap.last_success, "%d/%m/%Y %H:%M") if snap.last_success
                          else self.tr("never"))
        prog: SyncProgress | None = snap.progress
        if prog is not None and prog.total:
            self.progress.setRange(0, prog.total)
            self.progress.setValue(min(prog.done, prog.total))
            self.eta.setText(labels.duration(prog.eta_seconds) if prog.eta_seconds is not None else "…")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if snap.pending.count == 0 else 0)
            self.eta.setText("—")
        if snap.clock:
            self.clock_banner.setText("⚠ " + " ".join(messages.issue_text(i) for i in snap.clock))
            self.clock_banner.show()
        else:
            self.clock_banner.hide()
        self.site_hub.refresh()
        status = snap.status
        self.line_caption.setText(self.tr("Line to the province") if status is not None and status.site_hub_url
                                  else self.tr("Line"))
        has = self.ctx.bridge.has_controller
        self.sync_btn.setEnabled(has)
        self.sync_btn.setToolTip("" if has else messages.text_for("sync.not_running"))

    def sync_now(self) -> None:
        self.site_hub.ask()  # the site hub's own view, asked again
        if not self.sync_btn.isEnabled():
            self.banner.show_message(messages.text_for("sync.not_running"), "warning")
            return
        if self.ctx.bridge.request_sync():
            self.banner.show_message(self.tr("Sync started."), "ok")
        else:
            self.banner.show_message(messages.text_for("sync.not_running"), "warning")

    # ---- reviews ---------------------------------------------------------------------------

    def _reviews_changed(self, items: tuple[ReviewItemView, ...]) -> None:  # bridge.sig_reviews_changed
        current = selected_row(self.reviews_view)
        self.reviews_model.set_rows(items)
        self.reviews_title.setText(self.tr("To review: %n", "", len(items)))
        if isinstance(current, ReviewItemView):
            for r, it in enumerate(items):
                if it.id == current.id:
                    self.reviews_view.selectRow(r)
                    return
        if items and self.reviews_view.hasFocus():
            # Items that arrive while the (empty) list has focus: select the first, as focusing
            # a full list does; otherwise Enter and the buttons act on nothing until the user
            # leaves the list and comes back.
            self.reviews_view.selectRow(0)
            return  # selectionChanged shows it
        self._review_selected()

    def _review_selected(self) -> None:
        item = selected_row(self.reviews_view)
        for b in self.action_buttons.values():
            b.hide()
        if not isinstance(item, ReviewItemView):
            self.review_detail.setText(self.tr("Choose an item to see the details."))
            return
        allowed = reviews_api.ACTIONS_BY_KIND.get(item.kind, ())
        for action in allowed:
            btn = self.action_buttons[action]
            btn.setVisible(True)
            btn.setEnabled(self.can_resolve)
        header = labels.tr(labels.REVIEW_KIND, item.kind)
        if not self.can_resolve:
            header += "\n" + self.tr("A supervisor decides these items.")
        self.review_detail.setText(header)
        ids = _person_ids(item)
        if ids:
            st = self.ctx.station
            self.ctx.tasks.read(
                lambda: [people.get_person(st, pid) for pid in ids], owner=self,
                on_ok=lambda persons: self._show_people(item, header, persons),
                on_err=lambda _e: None, label="review-people",
            )

    def _show_people(self, item: ReviewItemView, header: str, persons: list[PersonDTO]) -> None:
        if selected_row(self.reviews_view) != item:
            return
        lines = [header]
        for p in persons:
            tail = "…" + p.id_number[-4:] if p.id_number else "—"
            phone = "…" + p.phone[-3:] if p.phone else "—"
            lines.append(self.tr("• {name} · born {birth} · ID {id} · phone {phone}").format(
                name=p.full_name, birth=p.birth_display, id=tail, phone=phone))
        self.review_detail.setText("\n".join(lines))

    def resolve_selected(self, action: str) -> None:
        item = selected_row(self.reviews_view)
        if not isinstance(item, ReviewItemView) or not self.can_resolve:
            return
        params: dict[str, str] = {}
        if action == "void_dose":
            dialog = ReasonDialog(self.tr("Void one dose"), self.tr("Why is this dose void?"),
                                  self.tr("Void the dose"), self, cancel=self.tr("Keep the dose (Esc)"))
            self.reason_dialog = dialog

            def done(code: int) -> None:
                self.reason_dialog = None
                dialog.deleteLater()
                if code == ReasonDialog.DialogCode.Accepted:
                    named = item.candidates.get("dose_id")
                    dose_id = named if isinstance(named, str) and named else item.entity_id
                    self._resolve(item, action, {"dose_id": dose_id, "reason": dialog.text()})

            dialog.finished.connect(done)
            dialog.open()
            return
        if action == "merge":
            ids = _person_ids(item)
            if len(ids) >= 2:
                params = {"from_id": ids[1], "to_id": ids[0]}
        self._resolve(item, action, params)

    def _resolve(self, item: ReviewItemView, action: str, params: dict[str, str]) -> None:
        st, actor = self.ctx.station, self.session.actor
        self.ctx.tasks.write(
            lambda: reviews_api.resolve(st, actor, item.id, action, **params), owner=self,
            on_ok=lambda _r: self._resolved(item), on_err=self.banner.show_error, label="resolve-review",
        )

    def _resolved(self, item: ReviewItemView) -> None:
        remaining = tuple(i for i in self.ctx.bridge.snapshot.reviews if i.id != item.id)
        # The decided item leaves this list now; the bridge (and the other screens) follow
        # when its queued event is delivered.
        self._reviews_changed(remaining)
        self.ctx.bridge.feed(ReviewsChanged(remaining))
        self.banner.show_message(self.tr("Decision saved; it will be sent to the hub."), "ok")
        self.sig_status.emit(self.tr("Review item resolved"))
