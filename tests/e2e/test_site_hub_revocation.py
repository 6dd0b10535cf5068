"""A site hub certificate the province revoked is refused by the desks (issue 14, Trust).

Real parts on 127.0.0.1: the province hub (SQLite, and PostgreSQL where the fixtures start
it), a site hub serving HTTPS with the certificate the province issued it
(``tests/e2e/site_lan.py``), and a real encrypted desk enrolled the product's way
(``tramtiem enroll``: the province's relay CA in its data) reaching the site hub through the
product's route (``sync.cli.site_hub_factory``: the pinned context). The desk learns the
site's revoked certificates on its direct route to the province; from its next connection
the site hub is refused inside the handshake, before any request reaches it, and the desk's
records go to the province directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from hub import cli as hub_cli
from hub import relay, relay_pki, service, site_hub
from hub.db import Database
from hub.ingest import utc_now
from station import replica
from station.dto import UserInput
from station.services import admin
from station.store import Actor, Station, open_station
from sync import cli as sync_cli
from sync import revocations
from sync.engine import SyncEngine, SyncSettings
from tests.e2e.site_lan import Lan, run_site_hub, site_lan
from tests.pg import PgCluster, migrated_hub_url, migrated_sqlite_url


class Counting:
    """An ASGI middleware counting the HTTP requests that reached the site hub's app."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(str(scope.get("path", "")))
        await self.app(scope, receive, send)


def _counted(seen: list[str]) -> Any:
    def on_app(app: FastAPI) -> None:
        app.add_middleware(Counting, seen=seen)

    return on_app


def _desk(lan: Lan, name: str) -> Station:
    """A desk enrolled with ``tramtiem enroll`` (token in the keyring, the relay CA kept)."""
    code = service.new_enrollment_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
    sync_cli.enroll_station(lan.tmp / name, lan.province.url, code)
    return open_station(lan.tmp / name)


def _engines(st: Station) -> tuple[SyncEngine, SyncEngine]:
    settings = SyncSettings(seed=1, long_poll_s=0)
    direct = SyncEngine(st, sync_cli.client_factory_for(st), settings=settings)
    via = SyncEngine(st, sync_cli.site_hub_factory(st), settings=settings, route="site_hub")
    return direct, via


def _write(st: Station, login: str) -> None:
    """One record at the desk: a user account (an op in the outbox, nothing personal)."""
    admin.create_user(st, Actor.system(st.site_code), UserInput(login, "Người dùng", "clerk", "mat-khau-123"))


def _states(st: Station) -> dict[str, int]:
    from sqlalchemy import text

    with st.read() as conn:
        return {str(k): int(v) for k, v in conn.execute(
            text("SELECT state, count(*) FROM sync_outbox GROUP BY state"))}


@contextmanager
def _province(tmp_path: Path, backend: str, pg: PgCluster | None) -> Iterator[Lan]:
    url = migrated_hub_url(backend, tmp_path, pg, "province")
    with site_lan(tmp_path, province_url=url) as lan:
        yield lan


def test_a_revoked_site_hub_is_refused_before_a_request_and_nothing_is_lost(
    tmp_path: Path, backend: str, pg: PgCluster | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    with _province(tmp_path, backend, pg) as lan, \
            run_site_hub(lan, tls_dir=tmp_path / "sh", on_app=_counted(seen)) as sh:
        st = _desk(lan, "a")
        try:
            st.close()
            port = sh.url.rsplit(":", 1)[1]
            assert _site_hub_set(lan.tmp / "a", f"127.0.0.1:{port}") == 0
            st = open_station(lan.tmp / "a")
            direct, via = _engines(st)
            _write(st, "thuky1")
            report = via.run_once()
            assert report.ok, report.error
            # The site hub holds it (its forwarder may already have had the province's answer).
            assert sum(_states(st).values()) == 1 and set(_states(st)) <= {"relay_accepted", "acked"}
            assert sh.scalar("SELECT count(*) FROM relay_op") == 1
            with sync_cli.site_hub_factory(st)() as lan_client:  # never from a site hub
                assert revocations.refresh(st, lan_client) is None
            assert revocations.last_read(st) is None
            assert direct.run_once().ok  # the direct route reads the (empty) list
            assert revocations.last_read(st) is not None
            assert revocations.revoked_fingerprints(st) == frozenset()

            # The province revokes the site hub (stolen laptop): its token and certificate.
            relay_id = str(sh.scalar("SELECT value FROM hub_meta WHERE key = 'relay.id'"))
            served_fp = relay_pki.fingerprint((tmp_path / "sh" / "relay.crt").read_text())
            assert relay.revoke_relay(lan.pdb, relay_id, actor="it", reason="stolen", now=utc_now()) == 1

            _write(st, "thuky2")
            monkeypatch.setattr(revocations, "REFRESH_S", 0.0)  # the next direct cycle reads it
            assert direct.run_once().ok
            assert revocations.revoked_fingerprints(st) == {served_fp}
            _write(st, "thuky3")

            before = len(seen)
            ops_before = sh.scalar("SELECT count(*) FROM relay_op")
            report = via.run_once()  # the same running engine: the revocation holds at once
            assert not report.ok and report.error == "hub.tls_site_hub_revoked"
            assert len(seen) == before, seen[before:]  # no request reached the site hub
            assert sh.scalar("SELECT count(*) FROM relay_op") == ops_before
            assert _states(st).get("pending") == 1  # thuky3 waits, nothing lost

            assert direct.run_once().ok  # the desk's own line: everything reaches the province
            assert _states(st) == {"acked": 3}
            assert lan.pscalar(
                "SELECT count(*) FROM app_user WHERE username IN ('thuky1', 'thuky2', 'thuky3')") == 3
        finally:
            st.close()


def _site_hub_set(ddir: Path, address: str) -> int:
    import argparse

    p = argparse.ArgumentParser()
    sync_cli.register(p.add_subparsers(dest="cmd"))
    args = p.parse_args(["site-hub", "set", address, "--data-dir", str(ddir)])
    return int(args.func(args))


def test_a_site_hub_enrolled_again_leaves_its_old_certificate_refused(tmp_path: Path) -> None:
    """A replaced site hub (its data restored on a new laptop, a new key) or a renewal: the
    province revokes the relay's older certificate; the new one is trusted."""
    seen: list[str] = []
    data = tmp_path / "site-hub.db"
    with site_lan(tmp_path) as lan:
        with run_site_hub(lan, data=data, tls_dir=tmp_path / "old", on_app=_counted(seen)) as old:
            st = _desk(lan, "a")
            st.close()
            assert _site_hub_set(lan.tmp / "a", old.url.removeprefix("https://")) == 0
            st = open_station(lan.tmp / "a")
            try:
                direct, via = _engines(st)
                _write(st, "thuky1")
                assert via.run_once().ok
                old_fp = relay_pki.fingerprint((tmp_path / "old" / "relay.crt").read_text())

                # IT enrolls the site hub again with a new key (the replacement laptop).
                again = Database(migrated_sqlite_url(data))
                try:
                    code = relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
                    site_hub.enroll(again, lan.province.url, code, data_dir=tmp_path / "new")
                finally:
                    again.dispose()
                new_fp = relay_pki.fingerprint((tmp_path / "new" / "relay.crt").read_text())
                assert new_fp != old_fp
                assert direct.run_once().ok  # first read of the list on this desk
                assert revocations.revoked_fingerprints(st) == {old_fp}

                _write(st, "thuky2")
                before = len(seen)
                report = via.run_once()  # the old laptop, still on the Wi-Fi
                assert report.error == "hub.tls_site_hub_revoked" and len(seen) == before
            finally:
                st.close()
        with run_site_hub(lan, data=data, tls_dir=tmp_path / "new") as new:
            st = open_station(lan.tmp / "a")
            try:
                replica.set_site_hub_url(st, new.url)
                _, via = _engines(st)
                report = via.run_once()  # the new certificate is the site's hub
                assert report.ok, report.error
                assert _states(st).get("pending", 0) == 0
            finally:
                st.close()


def test_a_new_laptop_enrolled_to_replace_the_old_one_revokes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """IT sets up a new machine (a new relay id) with ``relay code --replaces OLD``: when it
    enrolls, the old site hub's token and certificate are revoked; the desks refuse the old
    one once they have reached the province, and use the new one."""
    seen: list[str] = []
    with site_lan(tmp_path) as lan:
        with run_site_hub(lan, data=tmp_path / "old.db", tls_dir=tmp_path / "old", on_app=_counted(seen)) as old:
            st = _desk(lan, "a")
            st.close()
            assert _site_hub_set(lan.tmp / "a", old.url.removeprefix("https://")) == 0
            st = open_station(lan.tmp / "a")
            try:
                direct, via = _engines(st)
                _write(st, "thuky1")
                assert via.run_once().ok
                old_id = str(old.scalar("SELECT value FROM hub_meta WHERE key = 'relay.id'"))
                old_fp = relay_pki.fingerprint((tmp_path / "old" / "relay.crt").read_text())
                capsys.readouterr()
                assert hub_cli.main(["relay", "code", "--site", lan.site, "--replaces", old_id,
                                     "--database-url", lan.pdb.url]) == 0
                code = capsys.readouterr().out.strip().splitlines()[-1]
                assert lan.pscalar("SELECT revoked FROM relay WHERE id = :i", i=old_id) == 0  # not yet
                new_db = Database(migrated_sqlite_url(tmp_path / "new.db"))
                try:
                    resp = site_hub.enroll(new_db, lan.province.url, code, data_dir=tmp_path / "new")
                finally:
                    new_db.dispose()
                assert resp.relay_id != old_id
                assert lan.pscalar("SELECT revoked FROM relay WHERE id = :i", i=old_id) == 1
                assert direct.run_once().ok
                assert revocations.revoked_fingerprints(st) == {old_fp}
                _write(st, "thuky2")
                before = len(seen)
                assert via.run_once().error == "hub.tls_site_hub_revoked"
                assert len(seen) == before
            finally:
                st.close()
        with run_site_hub(lan, data=tmp_path / "new.db", tls_dir=tmp_path / "new") as new:
            st = open_station(lan.tmp / "a")
            try:
                replica.set_site_hub_url(st, new.url)
                _, via = _engines(st)
                report = via.run_once()
                assert report.ok, report.error
                assert _states(st).get("pending", 0) == 0
            finally:
                st.close()
