"""Deterministic, realistic demo data: Vietnamese names, Đồng Nai addresses, lots, users.

Everything goes through the services, so demo data is exactly what real use
would write (outbox ops included). The same seed gives the same people.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text

from kernel import refdata
from station.dto import LotInput, PastDoseInput, PersonInput, UserInput
from station.services import admin, clinical, people
from station.store import Actor, Station

FAMILY = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 5),
    ("Phan", 4), ("Vũ", 4), ("Võ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2),
    ("Ngô", 1), ("Dương", 1), ("Lý", 1), ("Đoàn", 1), ("Doãn", 1),
]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Hoàng", "Xuân", "Trọng"]
MIDDLE_F = ["Thị", "Ngọc", "Thanh", "Thu", "Kim", "Minh", "Thùy", "Bích", "Mỹ", "Hồng"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Minh", "Nam",
           "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Trung", "Tuấn", "Việt", "Vinh", "Lộc", "Hòa"]
GIVEN_F = ["Anh", "Châu", "Đào", "Giang", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga",
           "Ngọc", "Nhung", "Phương", "Thảo", "Thủy", "Trang", "Uyên", "Vy", "Xuân", "Yến", "Hoà"]
STREETS = ["Phạm Văn Thuận", "Đồng Khởi", "Võ Thị Sáu", "Nguyễn Ái Quốc", "Hà Huy Giáp",
           "Bùi Văn Hòa", "Trần Quốc Toản", "Huỳnh Văn Nghệ", "Lê Văn Duyệt", "Phan Trung"]
PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "089", "032", "033",
            "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081",
            "082", "083", "084", "085", "056", "058"]
DONG_NAI_2025 = "75"  # post-2025 province code of Đồng Nai
DONG_NAI_CCCD = "075"  # pre-2025 birth-registration code used in 12-digit IDs
DEMO_PASSWORD = "demo-1234"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    people: int
    expected_today: int
    past_doses: int
    lots: int
    users: dict[str, str]  # username -> role


def fake_person(rng: random.Random, today: date) -> PersonInput:
    female = rng.random() < 0.52
    family = rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    if rng.random() < 0.15:
        given = rng.choice(GIVEN_F if female else GIVEN_M) + " " + given  # two-syllable given name
    age = rng.randint(18, 85)
    birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    century = (birth.year // 100) - 19
    digit4 = century * 2 + (1 if female else 0)
    id_number = f"{DONG_NAI_CCCD}{digit4}{birth.year % 100:02d}{rng.randint(0, 999_999):06d}"
    phone = rng.choice(PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
    wards = refdata.wards(DONG_NAI_2025)
    ward = rng.choice(wards) if wards else None
    return PersonInput(
        full_name=f"{family} {middle} {given}",
        birth=birth.strftime("%d/%m/%Y") if rng.random() > 0.03 else str(birth.year),
        sex="F" if female else "M",
        id_type="cccd",
        id_number=id_number,
        phone=phone,
        province_code=DONG_NAI_2025 if ward else None,
        ward_code=ward.code if ward else None,
        address_line=f"Số {rng.randint(1, 300)}, đường {rng.choice(STREETS)}",
        priority_group=rng.choice([9, 9, 9, 13, 13, 15, 15, 10, 11, 8, 1, 2, 7]),
    )


def ensure_users(st: Station) -> dict[str, Actor]:
    """One user per role (password DEMO_PASSWORD); returns logged-in actors by role."""
    system = Actor.system(st.site_code)
    existing = {u.username for u in admin.list_users(st)}
    specs = [
        ("admin", "Quản trị viên", "admin"),
        ("giamsat", "Trần Thị Giám Sát", "supervisor"),
        ("thuky", "Lê Văn Thư Ký", "clerk"),
        ("bacsi", "BS. Phạm Minh Khám", "screener"),
        ("tinhnguyen", "Nguyễn Tình Nguyện", "volunteer"),
    ]
    for username, display, role in specs:
        if username not in existing:
            admin.create_user(st, system, UserInput(username, display, role, DEMO_PASSWORD))
    return {role: admin.login(st, username, DEMO_PASSWORD) for username, _d, role in specs}


def ensure_lots(st: Station, actor: Actor, today: date) -> int:
    have = {(lot.vaccine_code, lot.lot_number) for lot in admin.list_lots(st, include_inactive=True)}
    specs = [
        ("AZ", "ABV5300", 150, 400),
        ("PFIZER", "FK0891", 120, 600),
        ("MODERNA", "3002183", 90, 300),
        ("VEROCELL", "202108B2", 200, 500),
    ]
    n = 0
    for code, lot_no, days, count in specs:
        if code not in refdata.vaccines() or (code, lot_no) in have:
            continue
        admin.upsert_lot(
            st,
            actor,
            LotInput(code, lot_no, (today + timedelta(days=days)).isoformat(), count),
        )
        n += 1
    return n


def generate(
    st: Station,
    *,
    people_count: int,
    seed: int,
    expected_today: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    history_share: float = 0.3,
) -> DemoSummary:
    rng = random.Random(seed)
    today = st.today()
    actors = ensure_users(st)
    lots = ensure_lots(st, actors["supervisor"], today)
    want_today = min(people_count, 40) if expected_today is None else min(expected_today, people_count)
    batch = 2000
    done = 0
    past = 0
    people_made: list[str] = []
    while done < people_count:
        n = min(batch, people_count - done)
        rows = [fake_person(rng, today) for _ in range(n)]
        # The first people are today's pre-registrations; the rest are expected later.
        day_for = [today if done + i < want_today else today + timedelta(days=1 + (done + i) % 7)
                   for i in range(n)]
        for d in sorted(set(day_for)):
            chunk = [r for r, dd in zip(rows, day_for, strict=True) if dd == d]
            results = people.add_expected(st, actors["supervisor"], chunk, day=d, source="import")
            people_made += [r.person.id for r in results]
        done += n
        if progress:
            progress(done, people_count)
    # Some people bring a paper certificate of earlier doses given elsewhere.
    hist_rng = random.Random(seed + 1)
    with st.read() as conn:
        births: dict[str, str] = {str(r[0]): str(r[1]) for r in conn.execute(text("SELECT id, birth FROM person"))}
    for pid in people_made:
        if hist_rng.random() >= history_share:
            continue
        vaccine = hist_rng.choice(["AZ", "PFIZER", "VEROCELL", "MODERNA"])
        first = date(2021, hist_rng.randint(7, 10), hist_rng.randint(1, 28))
        if int(str(births.get(pid, "1900"))[:4]) > first.year - 19:
            continue  # a minor in 2021: these adult vaccines were not for them
        gaps = {"AZ": 70, "PFIZER": 21, "VEROCELL": 28, "MODERNA": 28}
        clinical.record_past_dose(
            st, actors["clerk"], PastDoseInput(pid, vaccine, 1, "primary", first.isoformat())
        )
        past += 1
        if hist_rng.random() < 0.7:
            second = first + timedelta(days=gaps[vaccine])
            clinical.record_past_dose(
                st, actors["clerk"], PastDoseInput(pid, vaccine, 2, "primary", second.isoformat())
            )
            past += 1
    users = {a.username: a.role for a in actors.values()}
    return DemoSummary(len(people_made), want_today, past, lots, users)
