"""The daily site report as an Excel workbook (openpyxl), in Vietnamese or English.

One sheet per section, so a district officer can filter and sum each table without
untangling merged blocks: totals, doses (vaccine × dose number × kind × priority
group), lots (used that day and to date against received), screening outcomes,
adverse events. Numbers are written as numbers; codes are spelled out in the chosen
language next to the code, so the sheet reads on its own and still sorts by code.

The labels live here (not in Qt's translation files) because the CLI writes the
same workbook without Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kernel import refdata
from station.reports import DailyReport

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "BÁO CÁO KẾT QUẢ TIÊM VẮC XIN COVID-19 TRONG NGÀY",
        "site": "Cơ sở tiêm chủng",
        "day": "Ngày",
        "generated": "Lập lúc",
        "sheet_totals": "Tổng hợp",
        "sheet_doses": "Mũi tiêm",
        "sheet_lots": "Lô vắc xin",
        "sheet_screening": "Khám sàng lọc",
        "sheet_adverse": "Phản ứng sau tiêm",
        "item": "Chỉ tiêu",
        "count": "Số lượng",
        "volume": "Thể tích (ml)",
        "doses": "Tổng số mũi tiêm",
        "people_vaccinated": "Số người được tiêm",
        "doses_voided": "Mũi đã hủy (không tính)",
        "expected": "Số người đăng ký trong ngày",
        "checked_in": "Số người đã đến",
        "screened": "Số người được khám sàng lọc",
        "cleared": "Đủ điều kiện tiêm",
        "deferred": "Hoãn tiêm / chống chỉ định / chuyển viện",
        "adverse_events": "Phản ứng sau tiêm",
        "adverse_severe": "Tai biến nặng",
        "vaccine_code": "Mã vắc xin",
        "vaccine": "Vắc xin",
        "dose_number": "Mũi thứ",
        "kind_code": "Mã loại mũi",
        "kind": "Loại mũi",
        "group": "Nhóm đối tượng",
        "lot_number": "Số lô",
        "expiry": "Hạn dùng",
        "received": "Số liều nhận",
        "used_day": "Đã dùng trong ngày",
        "used_to_date": "Đã dùng lũy kế",
        "remaining": "Còn lại",
        "outcome_code": "Mã kết luận",
        "outcome": "Kết luận",
        "severity_code": "Mã mức độ",
        "severity": "Mức độ",
        "total": "Tổng",
        "none_group": "(chưa ghi)",
        "primary": "Cơ bản",
        "additional": "Bổ sung",
        "booster": "Nhắc lại",
        "sev_none": "Không phản ứng",
        "sev_common": "Phản ứng thông thường",
        "sev_severe": "Tai biến nặng",
        "sev_other": "Khác",
    },
    "en": {
        "title": "COVID-19 VACCINATION — DAILY SITE REPORT",
        "site": "Vaccination site",
        "day": "Day",
        "generated": "Generated at",
        "sheet_totals": "Totals",
        "sheet_doses": "Doses",
        "sheet_lots": "Lots",
        "sheet_screening": "Screening",
        "sheet_adverse": "Adverse events",
        "item": "Item",
        "count": "Count",
        "volume": "Volume (ml)",
        "doses": "Doses given",
        "people_vaccinated": "People vaccinated",
        "doses_voided": "Voided doses (not counted)",
        "expected": "People registered for the day",
        "checked_in": "People who came",
        "screened": "People screened",
        "cleared": "Cleared for vaccination",
        "deferred": "Deferred / contraindicated / referred",
        "adverse_events": "Adverse events",
        "adverse_severe": "Severe adverse events",
        "vaccine_code": "Vaccine code",
        "vaccine": "Vaccine",
        "dose_number": "Dose number",
        "kind_code": "Kind code",
        "kind": "Kind",
        "group": "Priority group",
        "lot_number": "Lot number",
        "expiry": "Expiry",
        "received": "Doses received",
        "used_day": "Used that day",
        "used_to_date": "Used to date",
        "remaining": "Remaining",
        "outcome_code": "Outcome code",
        "outcome": "Outcome",
        "severity_code": "Severity code",
        "severity": "Severity",
        "total": "Total",
        "none_group": "(not recorded)",
        "primary": "Primary",
        "additional": "Additional",
        "booster": "Booster",
        "sev_none": "No reaction",
        "sev_common": "Common reaction",
        "sev_severe": "Severe",
        "sev_other": "Other",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["vi"])


def vaccine_label(code: str, lang: str) -> str:
    v = refdata.vaccines().get(code)
    if v is None:
        return code
    return v.name_vi if lang == "vi" else v.name


def outcome_label(code: str, lang: str) -> str:
    o = refdata.screening_outcomes().get(code)
    if o is None:
        return code
    return o.name_vi if lang == "vi" else o.name_en


def number_text(value: float, lang: str) -> str:
    """``12``, ``12.5`` / ``12,5`` (Vietnamese decimal comma); at most 2 decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def dose_label(vaccine_code: str, volume_ml: float | None, lang: str) -> str:
    """The vaccine's name, with the volume when it is not the standard dose."""
    name = vaccine_label(vaccine_code, lang)
    return name if volume_ml is None else f"{name} ({number_text(volume_ml, lang)} ml)"


def display_day(iso_day: str) -> str:
    y, m, d = iso_day.split("-")
    return f"{d}/{m}/{y}"


def write_report_xlsx(report: DailyReport, path: Path | str, *, lang: str = "vi") -> Path:
    """Write ``report`` to ``path`` (.xlsx); returns the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    L = labels(lang)
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = L["sheet_totals"]

    def head(sheet: Worksheet, row: list[object]) -> None:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.font = bold

    ws.append([L["title"]])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([L["site"], report.site_code])
    ws.append([L["day"], display_day(report.day)])
    ws.append([L["generated"], report.generated_at])
    ws.append([])
    t = report.totals
    head(ws, [L["item"], L["count"]])
    for key in ("doses", "people_vaccinated", "doses_voided", "expected", "checked_in",
                "screened", "cleared", "deferred", "adverse_events", "adverse_severe"):
        ws.append([L[key], getattr(t, key)])
    for kind, n in t.by_kind:
        ws.append([f"{L['doses']} — {L.get(kind, kind)}", n])
    for code, n in t.by_vaccine:
        ws.append([f"{L['doses']} — {vaccine_label(code, lang)}", n])
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 22

    ds = wb.create_sheet(L["sheet_doses"])
    head(ds, [L["vaccine_code"], L["vaccine"], L["dose_number"], L["kind_code"], L["kind"],
              L["group"], L["count"], L["volume"]])
    for c in report.doses:
        # Volume only where it is not the standard dose (a half-dose booster).
        ds.append([c.vaccine_code, vaccine_label(c.vaccine_code, lang), c.dose_number, c.kind,
                   L.get(c.kind, c.kind),
                   c.priority_group if c.priority_group is not None else L["none_group"], c.count,
                   c.volume_ml])
    ds.append([L["total"], None, None, None, None, None, t.doses])
    for col, width in zip("ABCDEFGH", (12, 38, 9, 12, 12, 16, 10, 12), strict=True):
        ds.column_dimensions[col].width = width

    ls = wb.create_sheet(L["sheet_lots"])
    head(ls, [L["vaccine_code"], L["vaccine"], L["lot_number"], L["expiry"], L["received"],
              L["used_day"], L["used_to_date"], L["remaining"]])
    for lot in report.lots:
        ls.append([lot.vaccine_code, vaccine_label(lot.vaccine_code, lang), lot.lot_number,
                   display_day(lot.expiry), lot.doses_received, lot.used_day, lot.used_to_date,
                   lot.remaining])
    for col, width in zip("ABCDEFGH", (12, 38, 14, 12, 12, 14, 14, 10), strict=True):
        ls.column_dimensions[col].width = width

    ss = wb.create_sheet(L["sheet_screening"])
    head(ss, [L["outcome_code"], L["outcome"], L["count"]])
    for o in report.screening:
        ss.append([o.outcome, outcome_label(o.outcome, lang), o.count])
    ss.append([L["total"], None, t.screened])
    ss.column_dimensions["B"].width = 60

    ae = wb.create_sheet(L["sheet_adverse"])
    head(ae, [L["severity_code"], L["severity"], L["count"]])
    for a in report.adverse:
        ae.append([a.severity, L.get(f"sev_{a.severity}", a.severity), a.count])
    ae.append([L["total"], None, t.adverse_events])
    ae.column_dimensions["B"].width = 30

    out = Path(path)
    wb.save(str(out))
    return out


__all__ = ["LABELS", "display_day", "labels", "outcome_label", "vaccine_label", "write_report_xlsx"]
