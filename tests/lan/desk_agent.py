"""A desk of the site, run inside its own network namespace (``python -m tests.lan.desk_agent``).

A real encrypted station (SQLCipher, its key in a process-local keyring) enrolled with
the province over the LAN, whose site hub route is the product's own
(``sync.cli.site_hub_factory``: the address typed or found by DNS-SD, the certificate
pinned to the province's relay CA and this site). The test drives it by JSON lines on
stdin; each answer is one line ``ok {json}`` or ``err {json}``. It stops by itself after
:data:`MAX_LIFE_S` seconds.

    python -m tests.lan.desk_agent DIR PROVINCE_URL CODE LETTER [--installer]
    -> "ready {install_id}"
    {"cmd": "sync_province"} | {"cmd": "site_hub", "address": "auto"} | {"cmd": "start"}
    {"cmd": "walk_in", "person": {...}} -> person id      {"cmd": "find", "text": T} -> [person ids]
    {"cmd": "screen", "pid": P}          {"cmd": "dose", "pid": P} -> dose id
    {"cmd": "observe", "dose": D}        {"cmd": "void", "dose": D}
    {"cmd": "dose_row", "dose": D}       {"cmd": "sync"} (one site hub cycle)
    {"cmd": "states"} {"cmd": "op_ids"} {"cmd": "dump"} {"cmd": "stop"}
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

MAX_LIFE_S = 600.0
PASSWORD = "mat-khau-123"
ROLES = {"tnv": "volunteer", "thuky": "clerk", "bacsi": "screener", "giamsat": "supervisor"}


def _say(kind: str, value: object) -> None:
    print(kind, json.dumps(value), flush=True)


class DeskAgent:
    def __init__(self, ddir: Path, province: str, code: str, letter: str, installer: bool) -> None:
        import keyring

        from station.dto import LotInput, UserInput
        from station.memkeyring import ProcessKeyring
        from station.services import admin
        from station.store import Actor, open_station
        from sync import cli as sync_cli

        keyring.set_keyring(ProcessKeyring())
        enrolled = sync_cli.enroll_station(ddir, province, code, site_letter=letter, name=f"desk {letter}")
        self.st = open_station(ddir)
        if installer:
            system = Actor.system(enrolled.site_code)
            for user, role in ROLES.items():
                admin.create_user(self.st, system, UserInput(user, f"Người dùng {role}", role, PASSWORD))
            sup = admin.login(self.st, "giamsat", PASSWORD)
            admin.upsert_lot(self.st, sup, LotInput("PFIZER", "FK0891", "30/06/2027", 500))
        self.engine: Any = None

    def staff(self, role: str) -> Any:
        from station.services import admin

        user = next(u for u, r in ROLES.items() if r == role)
        return admin.login(self.st, user, PASSWORD)

    def _engine(self) -> Any:
        from sync import cli as sync_cli
        from sync.engine import SyncEngine, SyncSettings

        factory = sync_cli.site_hub_factory(self.st, connect_timeout_s=2.0, read_timeout_s=15.0)
        return SyncEngine(self.st, factory, settings=SyncSettings(seed=1, long_poll_s=5.0), route="site_hub")

    def handle(self, msg: dict[str, Any]) -> object:
        from sqlalchemy import text

        from station import replica, search
        from station.dto import DoseInput
        from station.services import clinical, people
        from sync import cli as sync_cli
        from sync.engine import SyncEngine, SyncSettings
        from sync.site_route import normalise_address
        from tests.station.helpers import ELIGIBLE_4355, person

        cmd = msg["cmd"]
        if cmd == "sync_province":
            report = SyncEngine(self.st, sync_cli.client_factory_for(self.st),
                                settings=SyncSettings(seed=1, long_poll_s=0)).run_once()
            return {"ok": report.ok, "error": report.error}
        if cmd == "site_hub":
            replica.set_site_hub_url(self.st, normalise_address(msg["address"], self.st.site_code))
            return replica.site_hub_url(self.st)
        if cmd == "start":
            self.engine = self._engine()
            self.engine.start()
            return True
        if cmd == "sync":
            report = (self.engine or self._engine()).run_once()
            return {"ok": report.ok, "error": report.error}
        if cmd == "walk_in":
            data = person(**msg.get("person", {}))
            return people.register_walk_in(self.st, self.staff("volunteer"), data).person.id
        if cmd == "find":
            return [h.person_id for h in search.search(self.st, msg["text"])]
        if cmd == "screen":
            clinical.record_screening(self.st, self.staff("screener"), msg["pid"], answers=ELIGIBLE_4355,
                                      outcome="eligible")
            return True
        if cmd == "dose":
            with self.st.read() as conn:
                lot = str(conn.execute(text("SELECT id FROM vaccine_lot LIMIT 1")).scalar())
            return clinical.record_dose(self.st, self.staff("clerk"), DoseInput(msg["pid"], lot)).id
        if cmd == "observe":
            reason = sorted(clinical.EARLY_END_REASONS)[0]
            clinical.end_observation(self.st, self.staff("clerk"), msg["dose"], early_reason=reason)
            return True
        if cmd == "void":
            clinical.void_dose(self.st, self.staff("supervisor"), msg["dose"], "nhập nhầm liều")
            return True
        if cmd == "dose_row":
            with self.st.read() as conn:
                row = conn.execute(text("SELECT voided, observed_at FROM dose WHERE id = :i"),
                                   {"i": msg["dose"]}).mappings().first()
            return None if row is None else {"voided": bool(row["voided"]), "observed": bool(row["observed_at"])}
        if cmd == "states":
            with self.st.read() as conn:
                return {str(k): int(v) for k, v in conn.execute(
                    text("SELECT state, count(*) FROM sync_outbox GROUP BY state"))}
        if cmd == "op_ids":
            with self.st.read() as conn:
                return sorted(str(r) for r in conn.execute(text("SELECT op_id FROM sync_outbox")).scalars())
        if cmd == "dump":
            from tests.e2e.test_site_hub import dump

            return dump(self)  # type: ignore[arg-type]
        raise ValueError(f"unknown command {cmd}")

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop(timeout=10.0)
        self.st.close()


def main(argv: list[str] | None = None) -> int:
    t = threading.Timer(MAX_LIFE_S, lambda: signal.raise_signal(signal.SIGTERM))
    t.daemon = True
    t.start()
    p = argparse.ArgumentParser(prog="tests.lan.desk_agent")
    p.add_argument("dir")
    p.add_argument("province")
    p.add_argument("code")
    p.add_argument("letter")
    p.add_argument("--installer", action="store_true")
    args = p.parse_args(argv)
    agent = DeskAgent(Path(args.dir), args.province, args.code, args.letter, args.installer)
    _say("ready", agent.st.install_id)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "stop":
            agent.stop()
            _say("ok", True)
            return 0
        try:
            _say("ok", agent.handle(msg))
        except Exception as exc:  # the test reads the code, never personal data (none is raised)
            _say("err", {"type": type(exc).__name__, "code": getattr(exc, "code", None)})
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
