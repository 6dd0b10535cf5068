"""Seeded TCP fault-injection proxy for sync tests.

The CI hosts have neither ``tc netem`` nor toxiproxy, so sync tests need their
own way to put a bad network between a station and the hub.  ``FaultProxy``
listens on 127.0.0.1, forwards every accepted connection to one upstream
``(host, port)`` and injects faults chosen per connection from one seeded
``random.Random``.  It runs its own asyncio loop in a daemon thread so plain
synchronous tests (``requests``, ``http.client``) can use it.

Fault semantics
---------------
Exactly one *action* is chosen per accepted connection, in accept order:

``pass``
    Relay bytes both ways, applying latency/jitter/bandwidth.
``reset``
    Abort the client connection with an RST (``SO_LINGER`` 0) before anything
    is forwarded; the upstream is never contacted.
``blackhole``
    Accept and read (discard) client bytes, never answer; after
    ``blackhole_max_s`` (or when the client gives up) abort with an RST.
``truncate``
    Forward the request, read one complete HTTP response from upstream, send
    only a prefix of it and close gracefully (FIN).  When the response has a
    body the cut falls inside the body (client sees a status and an incomplete
    body); otherwise inside the header block.
``drop_response``
    The lost ACK: forward the whole request, read the whole upstream response
    (so the upstream *has* processed the request), then abort the client
    connection with an RST without sending a single response byte.

Latency/jitter are applied per direction per chunk, pipelined: a chunk read at
time *t* is delivered no earlier than ``t + latency ± jitter`` while order is
preserved, so latency does not divide throughput.  Bandwidth is a per
connection, per direction cap.  Latency, jitter and bandwidth are read live
(``set_faults`` affects open connections); probabilities and
``blackhole_max_s`` are sampled once, when a connection is accepted.

Limitations
-----------
* Decisions are per TCP connection, not per HTTP request: a keep-alive
  connection that drew ``pass`` passes every request on it.  Tests that want a
  fault per request should use a fresh connection per request (e.g.
  ``requests.get`` rather than a shared ``Session``, or ``Connection: close``).
* ``truncate``/``drop_response`` handle one HTTP/1.x exchange per connection;
  the connection is closed after the first response.  Framing understood:
  ``Content-Length``, ``chunked``, no-body statuses (1xx/204/304), responses to
  ``HEAD`` (detected from the first request bytes), and read-until-close.
  Interim ``1xx`` responses are held back with the final one (so a client
  waiting on ``Expect: 100-continue`` only proceeds after its own timeout).  Upgrades
  (``101``), pipelining and HTTP/2 are not supported.  If the response is not
  complete within ``response_timeout_s`` the fault is applied to what arrived.
* Only IPv4 loopback listening; TLS is relayed as opaque bytes (so only
  ``pass``/``reset``/``blackhole`` make sense for it).
* Determinism covers the action sequence (and per connection jitter and cut
  points); timing itself is, of course, not deterministic.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, cast

__all__ = ["ACTIONS", "Action", "FaultProxy", "Faults"]

Action = Literal["pass", "reset", "blackhole", "truncate", "drop_response"]
ACTIONS: tuple[Action, ...] = ("pass", "reset", "blackhole", "truncate", "drop_response")

# 64 KiB matches the default StreamReader limit: large enough for throughput,
# small enough that bandwidth shaping and latency stay fine-grained.
_CHUNK = 64 * 1024
# Bounded queue between reader and writer of a direction: gives backpressure
# (a slow, throttled writer stops the reader) instead of unbounded buffering.
_QUEUE_CHUNKS = 16
# Bandwidth is shaped in slices worth ~20 ms so that the cap is smooth even
# when one read returns a whole 64 KiB chunk.
_SLICES_PER_SECOND = 50
# Keep the decision log bounded for long soak runs; tests only look at the
# first few hundred.
_DECISION_LOG_MAX = 100_000


@dataclass(frozen=True)
class Faults:
    """Fault configuration; immutable so swapping it is atomic across threads."""

    latency_ms: float = 0
    jitter_ms: float = 0
    bandwidth_bps: int | None = None
    reset_prob: float = 0
    blackhole_prob: float = 0
    truncate_prob: float = 0
    drop_response_prob: float = 0
    blackhole_max_s: float = 30

    def __post_init__(self) -> None:
        # Fail fast in the test that built a bad config rather than deep inside
        # the proxy thread where the error would only show up as a hang.
        probs = (self.reset_prob, self.blackhole_prob, self.truncate_prob, self.drop_response_prob)
        if any(not 0 <= p <= 1 for p in probs):
            raise ValueError("fault probabilities must be within [0, 1]")
        if sum(probs) > 1 + 1e-9:
            raise ValueError("fault probabilities must sum to at most 1")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if self.bandwidth_bps is not None and self.bandwidth_bps <= 0:
            raise ValueError("bandwidth_bps must be positive or None")
        if self.blackhole_max_s < 0:
            raise ValueError("blackhole_max_s must be >= 0")


class _Throttle:
    """Per direction token clock: the earliest time the next byte may leave."""

    __slots__ = ("next_free",)

    def __init__(self) -> None:
        self.next_free = 0.0


@dataclass
class _Conn:
    """State of one proxied connection, owned by the loop thread."""

    action: Action
    faults: Faults
    rng: random.Random
    client_prefix: bytes = b""


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    """Close abruptly so the peer sees ECONNRESET, not a clean EOF."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            # SO_LINGER on with timeout 0 turns close() into an RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def _http_response_end(buf: bytes, *, head: bool = False) -> tuple[int, int] | None:
    """Locate the first final HTTP/1.x response in ``buf``.

    Returns ``(header_end, end)`` offsets (interim 1xx responses included in
    the span) or ``None`` while incomplete, including for responses framed by
    connection close, whose end is only known at EOF.
    """
    start = 0
    try:
        while True:
            hend = buf.find(b"\r\n\r\n", start)
            if hend < 0:
                return None
            hend += 4
            lines = buf[start:hend].decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            if 100 <= status < 200 and status != 101:
                # Interim response (e.g. 100 Continue): the real one follows.
                start = hend
                continue
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if head or status in (101, 204, 304):
                return hend, hend
            if "chunked" in headers.get("transfer-encoding", "").lower():
                end = _chunked_end(buf, hend)
                return None if end is None else (hend, end)
            if "content-length" in headers:
                end = hend + int(headers["content-length"])
                return (hend, end) if len(buf) >= end else None
            return None
    except (ValueError, IndexError):
        # Malformed: treat as read-until-close, bounded by response_timeout_s.
        return None


def _chunked_end(buf: bytes, pos: int) -> int | None:
    """End offset of a chunked body starting at ``pos``, or None if incomplete."""
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(buf[pos:eol].split(b";", 1)[0].strip(), 16)
        pos = eol + 2
        if size == 0:
            # Trailer section: header lines until an empty line.
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return eol + 2
                pos = eol + 2
        pos += size + 2
        if len(buf) < pos:
            return None


class FaultProxy:
    """Asyncio TCP proxy on 127.0.0.1 with seeded, per connection faults.

    Per accepted connection the proxy takes the next ``schedule`` entry if
    any remain, else draws from the probabilities in the current ``Faults``.
    Every connection consumes the same amount of the seeded RNG either way,
    so the action sequence depends only on ``seed``, the schedule, the faults
    and the number of connections accepted.

    ``stats_snapshot()`` keys: ``connections``, ``active`` (open right now),
    one per action (``pass``, ``reset``, ``blackhole``, ``truncate``,
    ``drop_response``), ``upstream_errors`` (upstream refused/timed out; the
    client is then reset), ``errors`` (peer vanished mid-relay, idle timeout),
    ``bytes_up``/``bytes_down`` (bytes delivered by the proxy).

    Timeouts keep every wait bounded: ``connect_timeout_s`` for the upstream
    connect, ``idle_timeout_s`` for any single read or drain in a relay,
    ``response_timeout_s`` for reading one whole response in
    ``truncate``/``drop_response`` and ``blackhole_max_s`` for blackholes.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        faults: Faults = Faults(),  # frozen, so a shared default is safe
        *,
        seed: int = 0,
        listen_port: int = 0,
        schedule: Sequence[str] | None = None,
        connect_timeout_s: float = 5.0,
        idle_timeout_s: float = 60.0,
        response_timeout_s: float = 30.0,
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listen_port = listen_port
        self._connect_timeout = connect_timeout_s
        self._idle_timeout = idle_timeout_s
        self._response_timeout = response_timeout_s
        # One lock guards everything touched from both the caller's thread and
        # the loop thread: faults, schedule, RNG, stats and the decision log.
        self._lock = threading.Lock()
        self._faults = faults
        self._rng = random.Random(seed)
        self._schedule: deque[Action] = deque()
        self.set_schedule(schedule or ())
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "connections",
                "active",
                *ACTIONS,
                "upstream_errors",
                "errors",
                "bytes_up",
                "bytes_down",
            ),
            0,
        )
        self._decisions: deque[Action] = deque(maxlen=_DECISION_LOG_MAX)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._closing = False
        self._port: int | None = None
        # The open connections' transports (client side, then upstream once connected),
        # for ``set_faults(..., drop_open=True)``; touched on the loop's thread only.
        self._open: dict[int, list[asyncio.WriteTransport]] = {}

    # ----------------------------------------------------------- public API

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FaultProxy is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(self, faults: Faults, *, drop_open: bool = False) -> None:
        """New faults for the connections accepted from now on. ``drop_open``: the
        connections already open are reset too (a cut cable: a keep-alive connection
        opened before the cut must not go on working), before this returns."""
        with self._lock:
            self._faults = faults
        if drop_open and self._loop is not None and not self._closing:
            asyncio.run_coroutine_threadsafe(self._drop_open(), self._loop).result(timeout=10)

    async def _drop_open(self) -> None:
        for transports in list(self._open.values()):
            for t in transports:
                if not t.is_closing():
                    t.abort()

    def set_schedule(self, schedule: Sequence[str]) -> None:
        """Replace the remaining scripted actions (validated up front)."""
        bad = [a for a in schedule if a not in ACTIONS]
        if bad:
            raise ValueError(f"unknown schedule actions {bad!r}; expected {ACTIONS}")
        with self._lock:
            self._schedule = deque(cast("Sequence[Action]", schedule))

    def stats_snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def decisions(self) -> list[Action]:
        """Actions taken so far, in accept order."""
        with self._lock:
            return list(self._decisions)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("FaultProxy already started")
        loop = asyncio.new_event_loop()
        self._closing = False
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", self._listen_port)
                )
                self._port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:  # surface bind errors in start()
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("FaultProxy did not start listening within 10 s")
        if errors:
            thread.join(timeout=5)
            raise errors[0]
        self._loop = loop
        self._thread = thread

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and every connection; idempotent and bounded."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(timeout / 2), loop)
            fut.result(timeout=timeout)
        except (TimeoutError, RuntimeError):
            pass  # fall through: stopping the loop still frees the thread
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=timeout)
        self._loop = None
        self._thread = None
        self._server = None

    def __enter__(self) -> FaultProxy:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ internals

    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._stats[key] += n

    def _decide(self) -> _Conn:
        with self._lock:
            faults = self._faults
            # Always draw the same amount of randomness per connection, whether
            # or not the schedule or probabilities are used, so that the
            # sequence depends only on the seed and the connection count.
            u = self._rng.random()
            conn_rng = random.Random(self._rng.getrandbits(64))
            action: Action = "pass"
            if self._schedule:
                action = self._schedule.popleft()
            else:
                acc = 0.0
                for name, p in (
                    ("reset", faults.reset_prob),
                    ("blackhole", faults.blackhole_prob),
                    ("truncate", faults.truncate_prob),
                    ("drop_response", faults.drop_response_prob),
                ):
                    acc += p
                    if u < acc:
                        action = cast("Action", name)
                        break
            self._decisions.append(action)
            self._stats["connections"] += 1
            self._stats["active"] += 1
            self._stats[action] += 1
        return _Conn(action=action, faults=faults, rng=conn_rng)

    def _delay_s(self, conn: _Conn) -> float:
        faults = self.faults
        ms = faults.latency_ms
        if faults.jitter_ms:
            ms += conn.rng.uniform(-faults.jitter_ms, faults.jitter_ms)
        return max(0.0, ms) / 1000

    async def _shutdown(self, timeout: float) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # A connection accepted just before close() only reaches _handle a few
        # loop iterations later; let it get there (it drops itself) instead of
        # cancelling a task that never ran and so never closes its socket.
        for _ in range(5):
            await asyncio.sleep(0)
        # Everything else on this private loop is ours: connection handlers,
        # their pumps and accept helpers.  Repeat until none are left because
        # cancelling one can, in principle, let another get scheduled.
        me = asyncio.current_task()
        while (others := [t for t in asyncio.all_tasks() if t is not me]) and (
            remaining := deadline - loop.time()
        ) > 0:
            for task in others:
                task.cancel()
            await asyncio.wait(others, timeout=remaining)

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        if self._closing:
            # Accepted in the instant before stop(): not a connection to count.
            _abort_with_rst(cwriter)
            return
        # Decide before the first await so decisions follow accept order.
        conn = self._decide()
        uwriter: asyncio.StreamWriter | None = None
        key = id(cwriter)
        self._open[key] = [cwriter.transport]
        try:
            if conn.action == "reset":
                _abort_with_rst(cwriter)
                return
            if conn.action == "blackhole":
                await self._blackhole(creader, cwriter, conn)
                return
            try:
                ureader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(*self._upstream), self._connect_timeout
                )
            except (OSError, TimeoutError):
                # Mirror what a client would see from a dead hub: a refused
                # connection, i.e. an abrupt close.
                self._bump("upstream_errors")
                _abort_with_rst(cwriter)
                return
            uwriter = up_writer  # for the finally clause
            self._open[key].append(up_writer.transport)
            if conn.action == "pass":
                await self._relay(creader, cwriter, ureader, up_writer, conn)
            else:
                await self._one_exchange(creader, cwriter, ureader, up_writer, conn)
        except (OSError, TimeoutError, EOFError):
            # Peers vanishing mid-relay is normal under fault injection.
            self._bump("errors")
        except asyncio.CancelledError:
            # Only stop() cancels handlers.  Ending normally instead of
            # re-raising avoids a Python 3.11 streams bug: its done-callback
            # calls task.exception() and logs the CancelledError as an error.
            pass
        finally:
            self._open.pop(key, None)
            for w in (cwriter, uwriter):
                if w is not None and not w.transport.is_closing():
                    w.transport.abort()
            self._bump("active", -1)

    async def _blackhole(
        self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter, conn: _Conn
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + conn.faults.blackhole_max_s
        # Keep reading so the client's send() never blocks: it must hang on
        # the response, exactly like a server that swallowed the request.
        while (remaining := deadline - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(creader.read(_CHUNK), remaining)
            except TimeoutError:
                break
            if not data:
                break  # client gave up first
        _abort_with_rst(cwriter)

    async def _relay(
        self,
        creader: asyncio.StreamReader,
        cwriter: asyncio.StreamWriter,
        ureader: asyncio.StreamReader,
        uwriter: asyncio.StreamWriter,
        conn: _Conn,
    ) -> None:
        up = asyncio.create_task(self._pump(creader, uwriter, conn, "bytes_up"))
        down = asyncio.create_task(self._pump(ureader, cwriter, conn, "bytes_down"))
        try:
            # A clean EOF in one direction only half-closes; an error in either
            # direction tears down the whole connection.
            done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_EXCEPTION)
            # Retrieve every exception (avoids "never retrieved" noise), raise one.
            excs = [e for t in done if (e := t.exception()) is not None]
            if excs:
                raise excs[0]
        finally:
            for t in (up, down):
                t.cancel()

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        conn: _Conn,
        counter: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes | BaseException]] = asyncio.Queue(_QUEUE_CHUNKS)

        async def read_side() -> None:
            last_due = 0.0
            while True:
                try:
                    data = await asyncio.wait_for(src.read(_CHUNK), self._idle_timeout)
                except (OSError, TimeoutError) as exc:
                    await queue.put((0.0, exc))
                    return
                if counter == "bytes_up" and len(conn.client_prefix) < 16:
                    conn.client_prefix += data[:16]
                # max() keeps chunks in order even when jitter would reorder.
                last_due = max(last_due, loop.time() + self._delay_s(conn))
                await queue.put((last_due, data))
                if not data:
                    return

        reader = asyncio.create_task(read_side())
        throttle = _Throttle()
        try:
            while True:
                due, item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not item:
                    if dst.can_write_eof() and not dst.transport.is_closing():
                        try:
                            dst.write_eof()
                        except OSError:
                            pass
                    return
                await self._send(dst, item, throttle, counter)
        finally:
            reader.cancel()

    async def _send(
        self, dst: asyncio.StreamWriter, data: bytes, throttle: _Throttle, counter: str
    ) -> None:
        loop = asyncio.get_running_loop()
        bps = self.faults.bandwidth_bps
        if bps is None:
            dst.write(data)
            await asyncio.wait_for(dst.drain(), self._idle_timeout)
            self._bump(counter, len(data))
            return
        step = max(1, bps // _SLICES_PER_SECOND)
        for i in range(0, len(data), step):
            part = data[i : i + step]
            now = loop.time()
            throttle.next_free = max(throttle.next_free, now)
            if (wait := throttle.next_free - now) > 0:
                await asyncio.sleep(wait)
            dst.write(part)
            await asyncio.wait_for(dst.drain(), self._idle_timeout)
            throttle.next_free += len(part) / bps
            self._bump(counter, len(part))

    async def _one_exchange(
        self,
        creader: asyncio.StreamReader,
        cwriter: asyncio.StreamWriter,
        ureader: asyncio.StreamReader,
        uwriter: asyncio.StreamWriter,
        conn: _Conn,
    ) -> None:
        up = asyncio.create_task(self._pump(creader, uwriter, conn, "bytes_up"))
        try:
            buf, header_end = await self._read_response(ureader, conn)
        finally:
            up.cancel()
        await asyncio.sleep(self._delay_s(conn))
        if conn.action == "drop_response":
            # The lost ACK: upstream committed, client learns nothing.
            _abort_with_rst(cwriter)
            return
        # truncate: cut inside the body if there is one so the client sees a
        # valid status line and then a short body; else inside the headers.
        if len(buf) > header_end:
            cut = header_end + int((len(buf) - header_end) * conn.rng.random())
        else:
            cut = int(len(buf) * conn.rng.random())
        if cut:
            await self._send(cwriter, buf[:cut], _Throttle(), "bytes_down")
        cwriter.close()
        try:
            await asyncio.wait_for(cwriter.wait_closed(), self._idle_timeout)
        except (OSError, TimeoutError):
            pass

    async def _read_response(self, ureader: asyncio.StreamReader, conn: _Conn) -> tuple[bytes, int]:
        """Read one HTTP response (bounded by response_timeout_s).

        Returns the bytes and the offset where its body starts.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._response_timeout
        buf = b""
        while (remaining := deadline - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(ureader.read(_CHUNK), remaining)
            except TimeoutError:
                break
            if not data:
                break
            buf += data
            span = _http_response_end(buf, head=conn.client_prefix.startswith(b"HEAD "))
            if span is not None:
                header_end, end = span
                return buf[:end], header_end
        # Close-delimited, malformed or timed out: use what arrived.
        hend = buf.find(b"\r\n\r\n")
        return buf, (hend + 4 if hend >= 0 else len(buf))
