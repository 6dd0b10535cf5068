"""Long-poll support: wake a waiting pull as soon as its site's scope has a new change.

``GET /pull?…&wait=N`` (hub/app.py) answers at once when there are changes;
otherwise it waits here until a change in the caller's scope is committed, or
N seconds pass. A desk then sees what another desk of its site registered
within about a second, without polling the hub every few seconds.

How changes are noticed, in every hub process (several workers, several app
servers behind a load balancer, the CLI importing lists):

* this process's own pushes call :meth:`ChangeWatch.poke` after they commit:
  the waiters are checked at once;
* while anyone waits, one poller per process reads the committed head
  (``hub_clock.seq``) every ``poll_s``; when it moved, one range query over the
  new change rows (``server_seq`` in (last head, head], the primary key) names
  the scopes that changed. A waiter that registers later than the last check is
  checked on its own with one indexed query on ``(scope, server_seq)``.

The database is never asked anything while nobody waits. A woken pull reads its
page again; if the change was only an echo of the caller's own ops, it waits
again until its deadline.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from hub.db import Database

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 0.25


@dataclass(eq=False)
class _Waiter:
    site: str
    after: int
    fut: asyncio.Future[bool]
    checked: bool = False  # checked on its own once; later only through new rows


@dataclass
class ChangeWatch:
    db: Database
    poll_s: float = DEFAULT_POLL_S
    _waiters: list[_Waiter] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _kick: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None
    _head: int | None = None
    _closing: bool = False

    async def wait(self, site: str, after: int, timeout: float) -> bool:
        """True once a change in ``site``'s scope above ``after`` is committed; False on timeout."""
        if timeout <= 0 or self._closing:
            return False
        self._ensure_running()
        assert self._loop is not None and self._kick is not None
        waiter = _Waiter(site, after, self._loop.create_future())
        self._waiters.append(waiter)
        self._kick.set()
        try:
            return await asyncio.wait_for(waiter.fut, timeout)
        except TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def poke(self) -> None:
        """Something was committed here: check the waiters now (callable from any thread)."""
        loop, kick = self._loop, self._kick
        if loop is None or kick is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(kick.set)
        except RuntimeError:  # the loop is shutting down
            pass

    def release(self) -> None:
        """The server is shutting down: answer every waiting pull now, and hold no new one.

        The server waits for in-flight requests before it stops; a pull held for
        up to ``long_poll_max_s`` would hold a restart that long. Callable from any
        thread.
        """
        self._closing = True
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def free() -> None:
            for w in list(self._waiters):
                if not w.fut.done():
                    w.fut.set_result(False)

        try:
            loop.call_soon_threadsafe(free)
        except RuntimeError:  # the loop is shutting down
            pass

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    # ---- the poller --------------------------------------------------------------------

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            self._loop = loop
            self._kick = asyncio.Event()
            self._task = loop.create_task(self._run(), name="tramtiem-change-watch")

    async def _run(self) -> None:
        assert self._kick is not None
        kick = self._kick
        while True:
            if not self._waiters:
                await kick.wait()
            else:
                try:
                    await asyncio.wait_for(kick.wait(), self.poll_s)
                except TimeoutError:
                    pass
            kick.clear()
            waiters = [w for w in self._waiters if not w.fut.done()]
            if not waiters:
                continue
            fresh = [(w.site, w.after) for w in waiters if not w.checked]
            for w in waiters:
                w.checked = True
            try:
                head, changed, hit = await run_in_threadpool(
                    self._check, self._head, sorted({w.site for w in waiters}), fresh
                )
            except Exception as exc:  # the database hiccuped: the pulls time out normally
                log.warning("change watch: check failed (%s)", type(exc).__name__)
                continue
            self._head = head
            for w in waiters:
                if w.fut.done():
                    continue
                if (w.site, w.after) in hit or (w.site in changed and changed[w.site] > w.after):
                    w.fut.set_result(True)

    def _check(
        self, last: int | None, sites: list[str], fresh: list[tuple[str, int]]
    ) -> tuple[int, dict[str, int], set[tuple[str, int]]]:
        with self.db.read() as s:
            head = int(s.execute(text("SELECT seq FROM hub_clock WHERE id = 1")).scalar_one())
            changed: dict[str, int] = {}
            if last is not None and head > last:
                wanted = set(sites)
                for scope, top in s.execute(
                    text(
                        "SELECT scope, max(server_seq) FROM change_log "
                        "WHERE server_seq > :a AND server_seq <= :b GROUP BY scope"
                    ),
                    {"a": last, "b": head},
                ):
                    if scope in wanted:
                        changed[str(scope)] = int(top)
            hit: set[tuple[str, int]] = set()
            for site, after in fresh:
                if after >= head:
                    continue
                found = s.execute(
                    text(
                        "SELECT 1 FROM change_log WHERE scope = :s AND server_seq > :a "
                        "AND server_seq <= :h LIMIT 1"
                    ),
                    {"s": site, "a": after, "h": head},
                ).first()
                if found is not None:
                    hit.add((site, after))
        return head, changed, hit


__all__ = ["DEFAULT_POLL_S", "ChangeWatch"]
