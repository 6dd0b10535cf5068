"""The push phase of a sync cycle: send the outbox in ``op_seq`` order until it is empty.

Up to two batches are in flight (issue 15), each on a connection of its own, once
a clean answer of the hub said it takes them (``PUSH_WINDOW_HEADER``; an older hub
never does: one at a time). The second is sent marked as following the first and
the hub applies it after the first (``hub.push_turns``), or answers a gap if the
first failed. While the hub works, this thread records the previous batch's
answers and prepares (reads and encodes) the next batch: once a batch came back
clean (every op answered, no gap) the next is sent before those answers are
committed. Answers are read and recorded oldest first; a crash between a send
and the record leaves those ops unanswered, and the ledger answers ``duplicate``
when they go again. Any other outcome drops the prepared batch, waits for the
batches still in flight and records what the hub answered them, and goes on one
at a time from the first unanswered op.

The parts, each with one concern:

* :class:`BatchSizer` — how big the next batch may be (bytes and ops): halved
  after a timeout or a refused request, grown back after answers;
* :func:`classify` — what a failed send calls for (:data:`Remedy`);
* :class:`GapRecovery` — where to resend from when the hub expects an earlier
  ``op_seq`` (a restored hub), and when resending is stuck;
* :class:`EpochRotation` — becoming a new replica (``409 replica.regressed``,
  ops the hub can never read, a gap we can no longer fill);
* :class:`Pusher` — the loop holding them together, with the pipeline state
  (the batch prepared ahead, the clean batch's answers held back).

Every loop is bounded in count and time; logs carry counts and codes only.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from kernel.clock import iso
from kernel.ids import uuid7
from station import outbox
from station.ack import ACK_STATE, Ack, AckSummary
from station.store import HEAD_REVISION, Station
from sync import preload, push_body
from sync.client import (
    GZIP_MIN_BYTES,
    Encoded,
    HubClient,
    HubError,
    HubRejected,
    HubTimeout,
    HubUnreachable,
    ReplicaRegressed,
)
from sync.protocol import MAX_BODY_BYTES, MAX_OPS_PER_PUSH, OpResult, PushRequest, PushResponse
from sync.push_body import wire_ops
from sync.report import CycleAbort, SyncReport

log = logging.getLogger(__name__)

# 400s that mean the bytes were damaged in transit, not that the ops are bad.
GARBLED_CODES = frozenset({"request.bad_encoding", "request.malformed_json"})
# Refusals of the whole request that splitting cannot fix.
FATAL_CODES = frozenset(
    {"auth.invalid_token", "auth.missing_token", "auth.no_token", "protocol.unsupported_version",
     "station.unknown", "station.mismatch"}
)
MAX_SILENT_ROUNDS = 3  # answers that answered nothing, in a row, before the cycle gives up
MAX_SAME_GAP = 3  # resends from the same op_seq before the cycle gives up
MAX_REGRESSED = 2  # epoch rotations for ``replica.regressed`` in one cycle


# ---- reading the hub's answer ------------------------------------------------------------


def ack_of(r: OpResult, op_seq: int | None = None) -> Ack:
    """The station's record of one per-op answer: the only reader of its detail fields.

    The effect seq is kept only when the op changed its own entity (see
    ``station.answers.settle``): a losing edit's seq is its review item's. ``op_seq``:
    the op's, when the station sent it (its row is then found by primary key).
    """
    ack = r.ack()
    return Ack(
        r.op_id,
        r.status,
        r.server_seq if ack.entity_changed else None,
        r.reason,
        no_echo=ack.no_echo,
        op_seq=op_seq,
    )


def encode_push(st: Station, client: HubClient, epoch: str, ops_json: list[str]) -> Encoded[PushRequest]:
    """The request body as ``HubClient.encode`` would write it for these ops.

    Its ``model`` is the request's header (``ops`` empty): the ops are in ``data`` only.
    """
    header = PushRequest(
        station_id=st.install_id,
        replica_epoch=epoch,
        schema_version=HEAD_REVISION,
        sent_at=iso(st.clock()),
        ops=[],
    )
    data = push_body.body_json(header, ops_json).encode("utf-8")
    gzipped = client.gzip_requests and len(data) >= GZIP_MIN_BYTES
    if gzipped:
        # As HubClient.encode: mtime=0, the same batch compresses to the same bytes; the
        # client's level (6, or 1 on a link the engine measured as fast: sync.fastlink).
        data = gzip.compress(data, compresslevel=client.gzip_level, mtime=0)
    return Encoded(header, data, gzipped)


# ---- batch sizing ------------------------------------------------------------------------


@dataclass(slots=True)
class BatchSizer:
    """Limits of the next batch: bytes × 1.5 and ops × 2 after answers, halved after trouble."""

    bytes: int
    ops: int
    bytes_min: int
    bytes_max: int
    ops_max: int

    @classmethod
    def start(cls, bytes_now: int, *, bytes_min: int, bytes_max: int, ops_max: int) -> BatchSizer:
        """A cycle starts with the byte size the last one ended with and the full op count."""
        return cls(bytes_now, min(ops_max, MAX_OPS_PER_PUSH), bytes_min, bytes_max, ops_max)

    def grown(self) -> tuple[int, int]:
        """The limits once the batch in flight got through (bounded)."""
        return (
            min(self.bytes_max, MAX_BODY_BYTES // 2, int(self.bytes * 1.5) + 1),
            min(self.ops_max, MAX_OPS_PER_PUSH, max(self.ops, 1) * 2),
        )

    def grow(self) -> None:
        self.bytes, self.ops = self.grown()

    def after_timeout(self, sent: int) -> None:
        """Smaller batches get through a line that cannot carry the big one in time."""
        self.bytes = max(self.bytes_min, self.bytes // 2)
        self.ops = max(1, min(self.ops, sent) // 2) if sent > 1 else 1

    def split(self, sent: int) -> None:
        """The request as a whole was refused: halve it to find the op the hub cannot take."""
        self.ops = max(1, sent // 2)
        self.bytes = max(self.bytes_min, self.bytes // 2)


# ---- what a failed send calls for -------------------------------------------------------

Remedy = Literal["rotate_epoch", "smaller", "again", "split", "reject_op", "give_up"]


def classify(exc: HubError, sent: int) -> Remedy:
    """The remedy for a send of ``sent`` ops that ended in ``exc``.

    ``rotate_epoch``: we were restored (409 replica.regressed): new replica, same
    op_ids. ``smaller``: a timeout, maybe applied (lost ack): the same op_ids go
    again in smaller batches. ``again``: no answer, or the body arrived damaged:
    resend as is. ``split``/``reject_op``: the request was refused as a whole
    (413/422): halve it; a single op refused so is recorded as rejected so the
    queue moves. ``give_up``: a refusal that resending cannot change.
    """
    if isinstance(exc, ReplicaRegressed):
        return "rotate_epoch"
    if isinstance(exc, HubTimeout):
        return "smaller"
    if isinstance(exc, HubUnreachable):
        return "again"
    if isinstance(exc, HubRejected):
        if exc.code in GARBLED_CODES:
            return "again"
        if exc.status in (413, 422) and exc.code not in FATAL_CODES:
            return "reject_op" if sent == 1 else "split"
    return "give_up"


# ---- epoch rotation and gap recovery -------------------------------------------------------


@dataclass(slots=True)
class EpochRotation:
    """Continue as a new replica: the hub starts one at the first op_seq it sees."""

    st: Station
    report: SyncReport
    regressed: int = 0

    def rotate(self) -> None:
        from station import replica  # SQLAlchemy: not on the way to the first batch

        replica.rotate_replica_epoch(self.st, uuid7())
        self.report.epoch_rotated = True

    def after_regressed(self) -> None:
        """The hub saw our op_seq go backwards (a restored backup): the same ops go again."""
        self.regressed += 1
        if self.regressed > MAX_REGRESSED:
            raise CycleAbort("push.replica_regressed_loop") from None
        self.rotate()


@dataclass(slots=True)
class GapRecovery:
    """Where to resend from when the hub expects an op_seq below our first unanswered one."""

    st: Station
    rotation: EpochRotation
    route: str = "province"
    resend_from: int | None = None
    _last_gap: int | None = None
    _same_gap: int = 0

    def after_answer(self, expected: int) -> None:
        """Note the hub's ``expected_next_op_seq``; give up if resending does not move it."""
        self.resend_from = self._gap(expected)
        if self.resend_from is None:
            return
        self._same_gap = self._same_gap + 1 if self.resend_from == self._last_gap else 1
        self._last_gap = self.resend_from
        if self._same_gap > MAX_SAME_GAP:
            # Resending did not move the hub past this op_seq: stop, say so.
            raise CycleAbort("push.gap_stuck")

    def _gap(self, expected: int) -> int | None:
        first = outbox.first_unanswered_seq(self.st, self.route)
        if first is None or expected >= first:
            return None
        held = outbox.min_seq(self.st)
        if held is not None and expected >= held:
            log.warning("hub expects op_seq %d, before our first unanswered %d: resending", expected, first)
            return expected
        # The hub lost ops we no longer hold (purged after retention): continue as a
        # new replica so the hub takes the remaining ops; the lost ones are in its
        # backups or gone — say so loudly.
        log.error("hub expects op_seq %d, which this station purged; rotating replica epoch", expected)
        self.rotation.rotate()
        self.rotation.report.errors.append("push.gap_unrecoverable")
        return None

# ---- the loop ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Batch:
    """Ops to send and their JSON, with the request when it was encoded ahead (while the
    last batch was in flight) for ``epoch``."""

    ops: list[outbox.OutboxOp]
    json: list[str]
    wire: Encoded[PushRequest] | None = None
    epoch: str | None = None

    def fits(self, epoch: str) -> Encoded[PushRequest] | None:
        """The encoded request, if it still says what would be sent now."""
        return self.wire if self.wire is not None and self.epoch == epoch else None


@dataclass(frozen=True, slots=True)
class _Sent:
    """A batch on its way: its ops, the epoch it went under, the answer to come."""

    ops: list[outbox.OutboxOp]
    epoch: str
    answer: Future[PushResponse]
    lane: HubClient


_Answers = tuple[PushResponse, list[outbox.OutboxOp]]  # a clean batch's answer and its ops
MAX_IN_FLIGHT = 2  # batches in flight at most, whatever the hub allows
SEND_START_S = 0.05  # at most this long for the send's thread to start before going on


class Pusher:
    """One cycle's push phase (see the module docstring); :meth:`run` until the outbox is empty."""

    def __init__(
        self,
        st: Station,
        client: HubClient,
        report: SyncReport,
        sizer: BatchSizer,
        *,
        max_batches: int,
        max_transient: int,
        go_on: Callable[[], bool],
        progress: Callable[[], None],
        hook: Callable[[str], None],
        route: str = "province",
    ) -> None:
        self.st, self.client, self.report, self.sizer = st, client, report, sizer
        # "site_hub": the answers are the site hub's, so the ops become relay_accepted,
        # not acked (station.answers.record_relay_accepts); the province answers later.
        self.route = route
        self.max_batches, self.max_transient = max_batches, max_transient
        self.go_on, self.progress, self.hook = go_on, progress, hook
        self.rotation = EpochRotation(st, report)
        self.gaps = GapRecovery(st, self.rotation, route)
        self.prepared: _Batch | None = None  # the next batch, prepared while one was in flight
        self.held: _Answers | None = None  # a clean batch's answers, recorded once the next is sent
        self.flight: deque[_Sent] = deque()  # sent, answer not read yet (oldest first)
        self.window = 1  # batches to keep in flight: more once the hub's clean answer allows
        self.lanes = [client]  # one connection per batch in flight (the second made when needed)
        self.transient = 0  # failed sends in a row (no answer, damaged body)
        self.silent_rounds = 0  # answers in a row that answered nothing
        self.empty = False

    def run(self) -> None:
        pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="tramtiem-push")
        try:
            for _ in range(self.max_batches):
                if not self.go_on():
                    return
                self._round(pool)
                if self.empty:
                    return
        except BaseException:
            # Something broke between a send and its record: the batches still in flight
            # are left unrecorded, as a crash would leave them (they go again: duplicates).
            for sent in self.flight:
                sent.answer.exception()
            self.flight.clear()
            raise
        finally:
            # Answers the hub gave are never dropped, whatever ends the loop: the held
            # ones (the oldest), then those of the batches still in flight, in order.
            try:
                self._flush_held()
                self._settle_flight()
            finally:
                pool.shutdown(wait=True)
                for lane in self.lanes[1:]:
                    lane.close()

    def _round(self, pool: ThreadPoolExecutor) -> None:
        epoch = str(self.st.sync_state()["replica_epoch"])
        if not self._fill(pool, epoch):
            return
        # The hub works on the batches in flight meanwhile: the last batch's answers, the next batch.
        # The ops in flight are not marked (issue 15, phase 5: the "inflight" mark wrote
        # every outbox row a second time): they stay "pending" until their answer is
        # recorded, which counts the attempt in the same UPDATE (or ``mark_error`` does,
        # when no answer comes). If the process dies meanwhile they go again and the
        # hub's ledger answers "duplicate" with the stored result — what a power cut
        # taking the mark did before.
        self.progress()
        self._flush_held()
        if self.gaps.resend_from is None and self.prepared is None:
            self.prepared = self._prepare_after(self.flight[-1].ops[-1].op_seq, epoch)
        sent = self.flight.popleft()
        try:
            resp = sent.answer.result()
        except HubError as exc:
            self.prepared = None
            self.window = 1
            self._settle_flight()  # what the hub made of the later ones, before the remedy
            self._failed(exc, sent.ops)
            return
        self.hook("after_push_send_before_ack_commit")
        self._answered(resp, sent)

    def _fill(self, pool: ThreadPoolExecutor, epoch: str) -> bool:
        """Send until the window is full; False: nothing in flight (nothing to send now)."""
        if not self.flight:
            batch = self._take_batch()
            if batch is None:
                return False
            self._send(pool, batch, epoch)
        while len(self.flight) < self.window and self.gaps.resend_from is None:
            batch = self.prepared or self._prepare_after(self.flight[-1].ops[-1].op_seq, epoch)
            self.prepared = None
            if batch is None:
                break
            self._send(pool, batch, epoch)
        return True

    def _send(self, pool: ThreadPoolExecutor, batch: _Batch, epoch: str) -> None:
        """Send ``batch`` on a connection of its own; ``follows`` when one is in flight before it."""
        body = batch.fits(epoch) or encode_push(self.st, self.client, epoch, batch.json)
        follows = bool(self.flight)
        busy = {id(s.lane) for s in self.flight}
        lane = next((c for c in self.lanes if id(c) not in busy), None)
        if lane is None:
            lane = self.client.twin()
            self.lanes.append(lane)
        going = threading.Event()

        def send() -> PushResponse:  # the mark only when it says something (other clients lack it)
            going.set()
            return lane.push(body, follows=True) if follows else lane.push(body)

        answer = pool.submit(send)
        # This thread records answers next (CPU): the send's thread starts first (hand-over).
        going.wait(SEND_START_S)
        self.flight.append(_Sent(batch.ops, epoch, answer, lane))
        preload.batch_sent()  # the record modules load while the hub works (sync.preload)

    def _take_batch(self) -> _Batch | None:
        """The batch to send now (None: nothing this round; ``empty`` once the queue is)."""
        if self.prepared is not None:
            batch, self.prepared = self.prepared, None
            return batch
        rows = outbox.next_batch(
            self.st, max_bytes=self.sizer.bytes, max_ops=self.sizer.ops, from_seq=self.gaps.resend_from,
            route=self.route,
        )
        if not rows:
            # After a resend from a gap: back to the unanswered ops, else done.
            self.empty = self.gaps.resend_from is None
            self.gaps.resend_from = None
            return None
        ops, texts, bad = wire_ops(rows)
        if bad:
            self._flush_held()
            self._reject_locally(bad)
            self.gaps.resend_from = None
            return None
        return _Batch(ops, texts) if ops else None

    def _prepare_after(self, last_seq: int, epoch: str) -> _Batch | None:
        """The batch after ``last_seq``, read and encoded while the current one is in flight.

        Sized as if the batch in flight gets through: only then is it used (None:
        none, or one with an op the wire cannot carry). Encoding now (JSON, gzip:
        ~9 ms a 500-op batch) lets a clean answer be followed by the next send at
        once; its sent_at is earlier by at most the hub's time for one batch,
        nothing next to the 5-minute skew tolerance.
        """
        max_bytes, max_ops = self.sizer.grown()
        rows = outbox.next_batch(
            self.st, max_bytes=max_bytes, max_ops=max_ops, after_seq=last_seq, route=self.route
        )
        if not rows:
            return None
        ops, texts, bad = wire_ops(rows)
        if not ops or bad:
            return None
        return _Batch(ops, texts, encode_push(self.st, self.client, epoch, texts), epoch)

    def _failed(self, exc: HubError, ops: list[outbox.OutboxOp]) -> None:
        """A send without an answer: apply the remedy, or raise ``exc`` to end the cycle."""
        remedy = classify(exc, len(ops))
        if remedy == "rotate_epoch":
            self.rotation.after_regressed()
            self.gaps.resend_from = None
            return
        outbox.mark_error(self.st, [o.op_id for o in ops], exc.code)
        if remedy == "smaller":
            self.report.timeouts += 1
            self.sizer.after_timeout(len(ops))
        if remedy in ("smaller", "again"):
            self.transient += 1
            if self.transient >= self.max_transient:
                raise exc
        elif remedy == "split":
            self.sizer.split(len(ops))
        elif remedy == "reject_op":
            self._reject_locally([Ack(ops[0].op_id, "rejected", None, exc.code)])
            self.gaps.resend_from = None
        else:
            raise exc

    def _answered(self, resp: PushResponse, sent: _Sent) -> None:
        ops = sent.ops
        op_ids = [o.op_id for o in ops]
        self.transient = 0
        # Whether the batch came back clean, from the results as they are: the answers
        # are turned into the station's records (``ack_of``) only after the next batch
        # is on its way, in :meth:`_flush_held` (issue 15: the hand-over between batches).
        clean = (
            resp.expected_next_op_seq == ops[-1].op_seq + 1
            and all(r.status in ACK_STATE for r in resp.results)
            and {r.op_id for r in resp.results}.issuperset(op_ids)
        )
        if clean and (self.flight or self.prepared is not None):
            # Recorded once the next batch is on its way (see _round).
            self.held = (resp, ops)
            self.sizer.grow()
            self.silent_rounds = 0
            self.window = min(MAX_IN_FLIGHT, getattr(sent.lane, "push_window", 1))
            return
        got = self._acks(resp, ops)
        answered_ids = {a.op_id for a in got}
        self.prepared = None
        self.window = 1
        res = self._record(got, resp.clock_skew_ms)
        # Put back sent ops the hub did not answer (it stopped at a gap).
        unanswered = [o for o in op_ids if o not in answered_ids]
        if unanswered:
            outbox.mark_error(self.st, unanswered, "push.not_answered")
        self._settle_flight()  # the later batches: applied after this one, or a gap
        if res.acked + res.duplicate + res.rejected + res.conflict:
            self.sizer.grow()
            self.silent_rounds = 0
        else:
            self.silent_rounds += 1
            if self.silent_rounds >= MAX_SILENT_ROUNDS:
                raise CycleAbort("push.no_progress")
        self.gaps.after_answer(resp.expected_next_op_seq)
        self.progress()

    @staticmethod
    def _acks(resp: PushResponse, ops: list[outbox.OutboxOp]) -> list[Ack]:
        seqs = {o.op_id: o.op_seq for o in ops}
        return [ack_of(r, seqs.get(r.op_id)) for r in resp.results]

    def _settle_flight(self) -> None:
        """Wait for the batches still in flight and record what the hub answered, in order.

        Called when the batch before them did not come back clean, and at the end: the
        hub applied each after it (``hub.push_turns``) or answered a gap. Ops without an
        answer are put back; the outbox's first unanswered op is where sending resumes.
        """
        while self.flight:
            sent = self.flight.popleft()
            try:
                resp = sent.answer.result()
            except HubError as exc:
                outbox.mark_error(self.st, [o.op_id for o in sent.ops], exc.code)
                continue
            self.hook("after_push_send_before_ack_commit")
            got = self._acks(resp, sent.ops)
            if got:
                self._record(got, resp.clock_skew_ms)
            answered = {a.op_id for a in got}
            unanswered = [o.op_id for o in sent.ops if o.op_id not in answered]
            if unanswered:
                outbox.mark_error(self.st, unanswered, "push.not_answered")

    def _record(self, got: list[Ack], skew_ms: int) -> AckSummary:
        from station import answers  # SQLAlchemy: after the first send (sync.preload)

        if self.route == "site_hub":
            res = answers.record_relay_accepts(self.st, got, now=self.st.clock())
        else:
            res = answers.record_acks(
                self.st, got, now=self.st.clock(), clock_skew_ms=skew_ms, count_attempt=True
            )
        self.hook("after_ack_commit")
        r = self.report
        r.batches += 1
        r.pushed += res.acked
        r.duplicate += res.duplicate
        r.rejected += res.rejected
        r.conflict += res.conflict
        return res

    def _flush_held(self) -> None:
        if self.held is not None:
            resp, ops = self.held
            self._record(self._acks(resp, ops), resp.clock_skew_ms)
            self.held = None

    def _reject_locally(self, refused: list[Ack]) -> None:
        """Record ops as rejected that the hub never ledgered (it could not even read them).

        The hub would wait for their op_seq for ever (a gap), so this replica
        continues under a new epoch: the hub starts a new replica at the first
        op_seq it sees, and the refused ops stay visible to the supervisor.
        """
        from station import answers

        res = answers.record_acks(self.st, refused, now=self.st.clock())
        self.report.rejected += res.rejected
        self.rotation.rotate()
        log.warning("%d op(s) refused before the hub could read them; replica epoch rotated", len(refused))


__all__ = [
    "FATAL_CODES",
    "GARBLED_CODES",
    "BatchSizer",
    "EpochRotation",
    "GapRecovery",
    "Pusher",
    "Remedy",
    "ack_of",
    "classify",
    "encode_push",
    "wire_ops",
]
