"""Export through a column mapping, and pre-registration import: dry run, commit, idempotence."""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from kernel import refdata
from kernel.errors import PermissionDenied, ValidationError
from station import exchange
from station.services import people
from station.store import init_station
from tests.station.conftest import SITE
from tests.station.daydata import build_day

HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Loại giấy tờ", "Số CCCD/CMND/Hộ chiếu",
           "Số điện thoại", "Nhóm đối tượng", "Địa chỉ"]
PERSON_KEYS = ("full_name", "birth", "sex", "id_type", "id_number", "old_id_number", "phone",
               "province_code", "ward_code", "address_line", "priority_group", "occupation", "bhyt")


def counts(st) -> dict[str, int]:
    with st.read() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("person", "registration", "sync_outbox")}


def write_xlsx(path: Path, rows: list[list[object]], *, headers=HEADERS, sheet="DanhSach",
               header_row=3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for _ in range(header_row - 1):
        ws.append(["DANH SÁCH ĐĂNG KÝ"])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


GOOD = [
    [1, "Trần Văn Bình", "12/05/1980", "Nam", "CCCD", "075080001111", "0912000111", "9", "Biên Hòa"],
    [2, "Lê Thị Cúc", "1975", "Nữ", "CCCD", "075175002222", "0988000222", "13", ""],
    [3, "Phạm Minh Đức", "01/01/1990", "Nam", "CMND", "271234567", "0377000333", "15", None],
]


# cp1258 has precomposed â ê ô ă ơ ư đ but writes the five tones as combining marks.
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text_: str) -> bytes:
    out = []
    for ch in text_:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
            out.append((base + "".join(c for c in nfd if c in _TONES)).encode("cp1258"))
    return b"".join(out)


# ---- the mapping -----------------------------------------------------------------------


def test_default_mapping_is_a_documented_placeholder() -> None:
    m = exchange.load_mapping()
    assert m.placeholder and m.name == "tramtiem-default-v1"
    assert m.column("full_name") is not None and m.date_format == "%d/%m/%Y"
    assert m.encode("sex", "F") == "Nữ" and m.decoder("sex")["nu"] == "F"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"date_format": "%Q"}, "mapping.bad_date_format"),
        ({"header_row": 5, "start_row": 5}, "mapping.bad_rows"),
        ({"columns": [{"field": "nope", "header": "X"}]}, "mapping.unknown_field"),
        ({"codes": {"sex": {"M": "A", "F": "a"}}}, "mapping.ambiguous_codes"),
    ],
)
def test_bad_mappings_are_refused(tmp_path, change, code) -> None:
    raw = json.loads((Path(refdata.__file__).parent / "data" / "mapping_default.json").read_text("utf-8"))
    raw.update(change)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        exchange.load_mapping(path)
    assert err.value.codes() == {code}


# ---- export ----------------------------------------------------------------------------


def test_export_day_to_xlsx(st, staff, clock, tmp_path) -> None:
    day = build_day(st, staff, clock)
    out = tmp_path / "export.xlsx"
    res = exchange.export_records(st, staff.supervisor, st.today(), st.today(), out)
    assert res.rows == 6
    m = exchange.load_mapping()
    wb = openpyxl.load_workbook(out)
    ws = wb[m.sheet]
    header = [c.value for c in ws[m.header_row]]
    assert header == [c.header for c in m.columns]
    body = [r for r in ws.iter_rows(min_row=m.start_row, values_only=True)]
    col = {c.field: i for i, c in enumerate(m.columns)}
    with st.read() as conn:
        db = {r[0]: r for r in conn.execute(text(
            "SELECT d.id, p.id_number, d.lot_number, d.dose_number FROM dose d JOIN person p "
            "ON p.id = d.person_id WHERE d.voided = 0 AND d.source = 'site'")).all()}
    assert {r[col["record_ref"]] for r in body} == set(db) == {d.id for d in day.doses}
    for r in body:
        ref = r[col["record_ref"]]
        # ID numbers stay text with their leading zero; lot and dose number as in the DB.
        assert r[col["id_number"]] == db[ref][1] and str(r[col["id_number"]]).startswith("0")
        assert r[col["lot_number"]] == db[ref][2]
        assert r[col["dose_number"]] == db[ref][3]
        assert r[col["dose_date"]] == st.today().strftime("%d/%m/%Y")
    # The voided dose is not exported; the export is audited without contents.
    assert day.voided[0].id not in {r[col["record_ref"]] for r in body}
    with st.read() as conn:
        detail = conn.execute(text(
            "SELECT detail FROM audit_log WHERE action = 'export_records'")).scalar_one()
    assert json.loads(detail)["rows"] == 6


def test_export_needs_report_rights(st, staff, tmp_path) -> None:
    with pytest.raises(PermissionDenied):
        exchange.export_records(st, staff.clerk, st.today(), st.today(), tmp_path / "x.xlsx")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_yields_the_same_records(st, staff, clock, tmp_path, suffix, data_dir) -> None:
    build_day(st, staff, clock)
    out = tmp_path / f"export{suffix}"
    exchange.export_records(st, staff.supervisor, st.today(), st.today(), out)
    with st.read() as conn:
        originals = {r["id_number"]: dict(r) for r in conn.execute(text(
            f"SELECT {', '.join(PERSON_KEYS)} FROM person p WHERE EXISTS (SELECT 1 FROM dose d "
            "WHERE d.person_id = p.id AND d.voided = 0 AND d.source = 'site')")).mappings()}
    other = init_station(tmp_path / "other", SITE, clock=clock)
    try:
        from station.dto import UserInput
        from station.services import admin
        from station.store import Actor
        admin.create_user(other, Actor.system(SITE), UserInput("giamsat", "Giám sát", "supervisor", "mat-khau-123"))
        sup = admin.login(other, "giamsat", "mat-khau-123")
        plan = exchange.dry_run(other, out, other.today())
        assert not [i for i in plan.issues if i.severity == "error"], exchange.issue_lines(plan)
        assert plan.count("new") == 6
        res = exchange.commit_import(other, sup, plan)
        assert (res.people_added, res.registrations_added) == (6, 6)
        with other.read() as conn:
            imported = {r["id_number"]: dict(r) for r in conn.execute(text(
                f"SELECT {', '.join(PERSON_KEYS)} FROM person")).mappings()}
    finally:
        other.close()
    assert imported == originals


# ---- import: dry run, report, commit ---------------------------------------------------


def test_good_file_dry_run_then_commit_then_again(st, staff, tmp_path) -> None:
    path = write_xlsx(tmp_path / "list.xlsx", GOOD)
    before = counts(st)
    day = st.today() + timedelta(days=1)
    plan = exchange.dry_run(st, path, day)
    assert counts(st) == before  # a dry run writes nothing
    assert (plan.rows_read, plan.count("new"), plan.bad_rows) == (3, 3, ())
    res = exchange.commit_import(st, staff.supervisor, plan)
    assert (res.people_added, res.registrations_added, res.skipped) == (3, 3, 0)
    regs = people.registrations_for_day(st, day)
    assert sorted(p.full_name for _r, p in regs) == ["Lê Thị Cúc", "Phạm Minh Đức", "Trần Văn Bình"]
    assert {p.id_type for _r, p in regs} == {"cccd", "cmnd"}
    after = counts(st)
    # The same file again: the dry run says "already expected", the commit adds nothing.
    plan2 = exchange.dry_run(st, path, day)
    assert plan2.count("already_expected") == 3 and plan2.to_add == 0
    assert {i.code for i in plan2.issues} == {"row.already_expected"}
    res2 = exchange.commit_import(st, staff.supervisor, plan2)
    assert (res2.people_added, res2.registrations_added) == (0, 0)
    assert counts(st) == after
    # Committing the first (stale) plan again also adds nothing.
    exchange.commit_import(st, staff.supervisor, plan)
    assert counts(st) == after


def test_known_people_get_a_registration_not_a_new_person(st, staff, tmp_path) -> None:
    path = write_xlsx(tmp_path / "list.xlsx", GOOD)
    exchange.commit_import(st, staff.supervisor, exchange.dry_run(st, path, st.today()))
    plan = exchange.dry_run(st, path, st.today() + timedelta(days=28))
    assert plan.count("known") == 3
    res = exchange.commit_import(st, staff.supervisor, plan)
    assert (res.people_added, res.registrations_added) == (0, 3)


def test_bad_rows_are_named_and_nothing_is_imported_until_confirmed(st, staff, tmp_path) -> None:
    rows = [
        *GOOD,
        [4, "Võ Thị Em", "31/02/1985", "Nữ", "CCCD", "075185004444", "0912000444", "9", ""],  # impossible date
        [5, "Đỗ Văn Phúc", "1985-03-07", "Nam", "CCCD", "075085005555", "0912000555", "9", ""],  # wrong format
        [6, "Ngô Thị Giang", "07/03/1985", "Nữ", "CCCD", "07518500666", "0912000666", "9", ""],  # 11-digit ID as text
        [7, "Hồ Văn Hải", "07/03/1985", "Nam", "CCCD", "075085007777", "0212345678", "9", ""],  # 10-digit 02…: no number
        [8, "Trần Văn Bình", "12/05/1980", "Nam", "CCCD", "075080001111", "0912000111", "9", ""],  # dup of row 4 (file row)
        [9, "Lý Thị Kim", "07/03/1985", "X", "CCCD", "075185009999", "0912000999", "9", ""],  # unknown sex code
        [10, "Mai Văn Long", "07/03/1985", "Nam", "CCCD", "075085001010", "0912001010", "42", ""],  # unknown group
        [11, "Tạ Văn Minh", "07/03/1985", "Nam", "Thẻ xanh", "075085001212", "0912001212", "9", ""],  # unknown ID type
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    before = counts(st)
    plan = exchange.dry_run(st, path, st.today())
    assert counts(st) == before
    errors = {(i.row, i.field, i.code) for i in plan.issues if i.severity == "error"}
    first = 4  # header on row 3: data rows 4.. (file row numbers, as Excel shows them)
    assert errors == {
        (first + 3, "birth", "date.impossible"),
        (first + 4, "birth", "date.format"),
        (first + 5, "id_number", "id.cccd_format"),
        (first + 6, "phone", "phone.invalid"),
        (first + 7, "id_number", "row.duplicate_in_file"),
        (first + 8, "sex", "code.unknown"),
        (first + 9, "priority_group", "code.unknown"),
        (first + 10, "id_type", "code.unknown"),
    }
    dup = next(i for i in plan.issues if i.code == "row.duplicate_in_file")
    assert dup.params == {"first_row": first}
    assert plan.bad_rows == tuple(range(first + 3, first + 11))
    assert plan.to_add == 3
    # The report carries no values: only row numbers, fields, codes and limits.
    for line in exchange.issue_lines(plan):
        assert "Võ" not in line and "0912" not in line and "0751" not in line
    # Confirmed: the good rows only, all in one go.
    res = exchange.commit_import(st, staff.supervisor, plan)
    assert res.registrations_added == 3
    assert counts(st)["person"] == before["person"] + 3


def test_duplicates_already_in_the_database(st, staff, tmp_path) -> None:
    people.add_expected(st, staff.supervisor, [exchange.row_to_person(
        GOOD[0], {f: i for i, f in enumerate(["row_no", "full_name", "birth", "sex", "id_type",
                                               "id_number", "phone", "priority_group", "address_line"])},
        exchange.load_mapping(), {"sex": exchange.load_mapping().decoder("sex"),
                                  "id_type": exchange.load_mapping().decoder("id_type")})[0]],
        day=st.today())
    plan = exchange.dry_run(st, write_xlsx(tmp_path / "l.xlsx", GOOD), st.today())
    skips = [(i.row, i.code) for i in plan.issues if i.severity == "skip"]
    assert skips == [(4, "row.already_expected")]
    assert (plan.count("already_expected"), plan.count("new")) == (1, 2)


def test_people_without_id_are_not_imported_twice(st, staff, tmp_path) -> None:
    rows = [[1, "Bùi Thị Nga", "1950", "Nữ", "Không có", None, "0912000777", "9", ""],
            [2, "Bùi Văn Nam", "1948", "Nam", None, None, None, "9", ""]]
    path = write_xlsx(tmp_path / "noid.xlsx", rows)
    res = exchange.commit_import(st, staff.supervisor, exchange.dry_run(st, path, st.today()))
    assert res.people_added == 2
    before = counts(st)
    plan = exchange.dry_run(st, path, st.today())
    assert plan.count("already_expected") == 2
    exchange.commit_import(st, staff.supervisor, plan)
    assert counts(st) == before


def test_excel_numbers_lose_leading_zeros_and_get_them_back(st, staff, tmp_path) -> None:
    rows = [[1, "Trần Văn Bình", "12/05/1980", "Nam", None, 75080001111, 912000111, 9, ""]]
    plan = exchange.dry_run(st, write_xlsx(tmp_path / "n.xlsx", rows), st.today())
    assert {(i.field, i.code) for i in plan.issues} == {
        ("id_number", "id.leading_zero_restored"), ("phone", "phone.leading_zero_restored")}
    assert plan.rows[0].person.id_number == "075080001111"
    assert plan.rows[0].person.phone == "0912000111"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1258"])
def test_csv_encodings(st, staff, tmp_path, encoding) -> None:
    lines = ["DANH SÁCH", "", ",".join(HEADERS)]
    lines += [",".join("" if v is None else str(v) for v in r) for r in GOOD]
    path = tmp_path / "list.csv"
    body = "\r\n".join(lines)
    path.write_bytes(to_cp1258(body) if encoding == "cp1258" else body.encode(encoding))
    plan = exchange.dry_run(st, path, st.today())
    assert plan.encoding == ("cp1258" if encoding == "cp1258" else "utf-8")
    assert not plan.issues, exchange.issue_lines(plan)
    assert [r.person.full_name for r in plan.rows] == ["Trần Văn Bình", "Lê Thị Cúc", "Phạm Minh Đức"]


def test_custom_mapping_semicolon_csv(st, staff, tmp_path) -> None:
    """A site's own template: other sheet row layout, headers, date format and codes."""
    mapping = {
        "name": "dong-nai-2021", "sheet": "Sheet1", "header_row": 1, "start_row": 2,
        "date_format": "%Y-%m-%d",
        "columns": [
            {"field": "full_name", "header": "HO TEN", "required": True},
            {"field": "birth", "header": "NGAY SINH", "required": True},
            {"field": "sex", "header": "GIOI TINH"},
            {"field": "id_number", "header": "CCCD"},
            {"field": "phone", "header": "SDT"},
            {"field": "priority_group", "header": "NHOM"},
        ],
        "codes": {"sex": {"M": "1", "F": "0"}, "priority_group": {"9": "Bệnh nền/≥65", "13": "Công nhân"}},
    }
    mpath = tmp_path / "m.json"
    mpath.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    m = exchange.load_mapping(mpath)
    path = tmp_path / "l.csv"
    path.write_text("SDT;CCCD;HO TEN;NGAY SINH;GIOI TINH;NHOM\n"
                    "0912000111;075080001111;Trần Văn Bình;1980-05-12;1;Công nhân\n"
                    "0988000222;075175002222;Lê Thị Cúc;12/05/1975;0;Bệnh nền/≥65\n", encoding="utf-8")
    plan = exchange.dry_run(st, path, st.today(), m)
    assert [(i.row, i.field, i.code) for i in plan.issues] == [(3, "birth", "date.format")]
    (row,) = plan.rows
    assert (row.person.sex, row.person.priority_group, row.person.id_type) == ("M", "13", "cccd")


def test_file_level_problems(st, staff, tmp_path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", GOOD, headers=["STT", "Tên", "Ngày sinh"])
    with pytest.raises(ValidationError) as err:
        exchange.dry_run(st, path, st.today())
    assert err.value.codes() == {"file.header_missing"}
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ValidationError) as err:
        exchange.dry_run(st, tmp_path / "x.xlsx", st.today())
    assert err.value.codes() == {"file.unreadable"}
    with pytest.raises(ValidationError) as err:
        exchange.dry_run(st, path, st.today() - timedelta(days=1))
    assert err.value.codes() == {"day.past"}


def test_commit_needs_rights(st, staff, tmp_path) -> None:
    plan = exchange.dry_run(st, write_xlsx(tmp_path / "l.xlsx", GOOD), st.today())
    with pytest.raises(PermissionDenied):
        exchange.commit_import(st, staff.clerk, plan)


def test_streaming_reader_agrees_with_openpyxl(tmp_path) -> None:
    from datetime import date, datetime

    from kernel.xlsxread import SheetReader

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    wb.create_sheet("Khác").append(["x"])
    ws.append(["Họ và tên", "Ngày sinh", 12, 3.5, True, None, "075080001111"])
    ws.append([])
    ws.append(["Lê Thị Cúc", datetime(1975, 5, 12), 75080001111, -1.25, False, "=1+1", "  "])
    ws["B3"].number_format = "dd/mm/yyyy"
    ws.append([None, date(2001, 2, 3), None, None, None, None, "cuối"])
    ws["H5"] = "xa"
    path = tmp_path / "types.xlsx"
    wb.save(path)
    ref = openpyxl.load_workbook(path, read_only=True, data_only=True)
    expected = [list(r) for r in ref["Danh sách"].iter_rows(values_only=True)]
    ref.close()
    with SheetReader(path) as reader:
        assert reader.sheetnames == ["Danh sách", "Khác"]
        got = list(reader.rows("Danh sách"))

    def trim(row):
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        return row

    assert [trim(r) for r in got] == [trim(r) for r in expected]


# ---- the commands ----------------------------------------------------------------------


@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_cli_import_export_report(tmp_path) -> None:
    """``tramtiem import-registrations`` (dry run, commit, again), ``export`` and ``report``."""
    from tests.station.test_cli import run

    d = tmp_path / "st"
    assert run(["init", "--data-dir", str(d), "--site", "DN-CLI-01"], tmp_path).returncode == 0
    bad = [*GOOD, [4, "Võ Thị Em", "31/02/1985", "Nữ", "CCCD", "075185004444", "0912000444", "9", ""]]
    path = write_xlsx(tmp_path / "list.xlsx", bad)
    from kernel.clock import site_today, system_clock
    # The subprocess runs on the real clock: tomorrow (site time) is never "past".
    day = (site_today(system_clock) + timedelta(days=1)).strftime("%d/%m/%Y")
    r = run(["import-registrations", str(path), "--data-dir", str(d), "--date", day], tmp_path)
    assert r.returncode == 1, r.stderr  # a dry run with refused rows
    assert "row 7\terror\tbirth\tdate.impossible" in r.stdout
    assert "3 new people" in r.stdout and "1 rows refused" in r.stdout
    assert "nothing was imported" in r.stdout and "Võ" not in r.stdout
    r = run(["import-registrations", str(path), "--data-dir", str(d), "--date", day, "--commit"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "imported: 3 new people, 3 registrations" in r.stdout
    r = run(["import-registrations", str(path), "--data-dir", str(d), "--date", day, "--commit"], tmp_path)
    assert "imported: 0 new people, 0 registrations" in r.stdout and "3 already there" in r.stdout
    out = tmp_path / "export.csv"
    r = run(["export", "--data-dir", str(d), "--from", day, "--to", day, "--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "exported 0 doses" in r.stdout and "placeholder mapping" in r.stdout and out.exists()
    xlsx, pdf = tmp_path / "r.xlsx", tmp_path / "r.pdf"
    r = run(["report", "--data-dir", str(d), "--day", day, "--xlsx", str(xlsx), "--pdf", str(pdf),
             "--lang", "en"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "expected 3" in r.stdout
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "Totals"
    assert pdf.read_bytes().startswith(b"%PDF")
    r = run(["import-registrations", str(tmp_path / "missing.xlsx"), "--data-dir", str(d), "--date", day], tmp_path)
    assert r.returncode == 4 and "file.unreadable" in r.stderr
