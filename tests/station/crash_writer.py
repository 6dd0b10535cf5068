"""Writer subprocess for the crash-durability tests (run as a script, killed with SIGKILL).

Usage::

    python crash_writer.py DATA_DIR --seed N --id-base N [--mode mix|batch] [--batch-size N]

It opens the station (the key comes from the keyring chosen through
``PYTHON_KEYRING_BACKEND``), logs in as the supervisor made by
:func:`station.demo.ensure_users`, prints ``READY`` and then writes through the
services in an endless loop. After a service call *returns* (its transaction
is committed) it prints one line and flushes stdout::

    COMMITTED <kind> <entity_id> <op_id> [<extra>]

Only ids are printed, never names, phone numbers or ID numbers. In ``batch``
mode it prints ``BEGIN <import_ref>`` just before each big ``add_expected`` call
and ``COMMITTED batch <import_ref> <rows> <first_op_id> <last_op_id>`` after it.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from kernel import refdata
from kernel.errors import NeedsConfirmation
from station.demo import DEMO_PASSWORD, fake_person
from station.dto import DoseInput, PersonInput
from station.services import admin, clinical, people
from station.store import Actor, Station, open_station

# Unique 6-digit ID-number suffixes: each run gets its own block (``--id-base``).
ID_BLOCK = 40_000


def emit(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


class Writer:
    def __init__(self, st: Station, actor: Actor, seed: int, id_base: int) -> None:
        self.st = st
        self.actor = actor
        self.rng = random.Random(seed)
        self.seed = seed
        self.id_base = id_base
        self.n_ids = 0
        self.n_refs = 0
        self.lot_id = next(
            lot.id
            for lot in admin.list_lots(st)
            if lot.vaccine_code == "PFIZER" and lot.site_code == st.site_code
        )

    def person(self, today: date) -> PersonInput:
        """A fake person whose ID number is unique across all runs on this directory."""
        data = fake_person(self.rng, today)
        if self.n_ids >= ID_BLOCK:
            raise SystemExit("id block exhausted")
        suffix = self.id_base * ID_BLOCK + self.n_ids
        self.n_ids += 1
        assert data.id_number is not None
        return replace(data, id_number=f"{data.id_number[:6]}{suffix:06d}", consent=True)

    def import_ref(self) -> str:
        self.n_refs += 1
        return f"kill-{self.seed}-{self.n_refs}"

    def op_of(self, op_type: str, entity_id: str) -> str:
        with self.st.read() as conn:
            return str(
                conn.execute(
                    text("SELECT op_id FROM sync_outbox WHERE op_type = :t AND entity_id = :e"),
                    {"t": op_type, "e": entity_id},
                ).scalar_one()
            )

    def walk_in(self, *, vaccinate: bool) -> None:
        res = people.register_walk_in(self.st, self.actor, self.person(self.st.today()))
        assert res.registration is not None
        emit("COMMITTED walk_in", res.person.id, res.op_id, res.registration.id)
        if not vaccinate:
            return
        # The form the station chooses for this person (a random birth year alone may
        # make them 17 or 18: the children's checklist, with a guardian).
        form = refdata.screening_forms()[
            clinical.screening_form_for(self.st, res.person.id).form_id or ""
        ]
        guardian = (
            {"guardian_name": "Nguyễn Văn Ba", "guardian_phone": "0912000111"}
            if form.guardian
            else {}
        )
        scr = clinical.record_screening(
            self.st, self.actor, res.person.id, answers={i.id: False for i in form.items},
            outcome="eligible", **guardian,  # type: ignore[arg-type]
        )
        emit("COMMITTED screening", scr.id, self.op_of("record_screening", scr.id))
        data = DoseInput(person_id=res.person.id, lot_id=self.lot_id)
        try:
            dose = clinical.record_dose(self.st, self.actor, data)
        except NeedsConfirmation as exc:
            confirm = frozenset(w.code for w in exc.warnings)
            dose = clinical.record_dose(self.st, self.actor, replace(data, confirm=confirm))
        emit("COMMITTED dose", dose.id, self.op_of("record_dose", dose.id))

    def expected(self, n: int) -> None:
        day = self.st.today() + timedelta(days=self.rng.randint(1, 7))
        rows = [self.person(day) for _ in range(n)]
        ref = self.import_ref()
        results = people.add_expected(self.st, self.actor, rows, day=day, import_ref=ref)
        for r in results:
            assert r.registration is not None
            emit("COMMITTED expected", r.person.id, r.op_id, r.registration.id, ref)

    def mix_forever(self) -> None:
        while True:
            roll = self.rng.random()
            if roll < 0.4:
                self.walk_in(vaccinate=False)
            elif roll < 0.75:
                self.walk_in(vaccinate=True)
            else:
                self.expected(self.rng.randint(2, 6))

    def batches_forever(self, size: int) -> None:
        while True:
            day = self.st.today() + timedelta(days=1)
            rows = [self.person(day) for _ in range(size)]
            ref = self.import_ref()
            emit("BEGIN", ref)
            results = people.add_expected(self.st, self.actor, rows, day=day, import_ref=ref)
            emit("COMMITTED batch", ref, len(results), results[0].op_id, results[-1].op_id)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("data_dir", type=Path)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--id-base", type=int, required=True)
    p.add_argument("--mode", choices=("mix", "batch"), default="mix")
    p.add_argument("--batch-size", type=int, default=500)
    args = p.parse_args(argv)
    st = open_station(args.data_dir, migrate=False)
    actor = admin.login(st, "giamsat", DEMO_PASSWORD)  # supervisor: registers, screens, doses
    writer = Writer(st, actor, args.seed, args.id_base)
    emit("READY")
    if args.mode == "mix":
        writer.mix_forever()
    else:
        writer.batches_forever(args.batch_size)
    return 0  # pragma: no cover - the loops end only by SIGKILL


if __name__ == "__main__":
    sys.exit(main())
