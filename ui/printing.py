"""Printing: the daily site report and the vaccination confirmation slip, as PDF or to a printer.

Both are HTML laid out by ``QTextDocument``. Written with ``QPdfWriter`` they
print on any site printer from any PDF viewer, no driver needed. The slip also
goes **straight to a printer** (``print_slip_to``: the Qt print dialog picks it
once, the observation screen remembers it) in one of three layouts
(``SLIP_LAYOUTS``): A4, A5, or an **80 mm receipt printer** (72 mm printable,
one column, a page as long as the slip: roll paper).

* The **daily report** takes its vocabulary from ``station.reports_xlsx.LABELS``: the
  PDF and the Excel workbook must say the same thing in the same words (and the
  CLI prints without a translator), in Vietnamese or English.
* The **confirmation slip** follows the certificate of QĐ 3588/QĐ-BYT Phụ lục 4 as
  replaced by QĐ 43/QĐ-BYT (vietnam.md §2.8): bilingual labels (the paper is always
  Vietnamese *and* English, whatever the screen language, so these labels are fixed
  text, not translations), 3 primary + 1 additional + 3 booster dose rows, the site,
  and a signature and stamp area. Its QR code carries only a record reference
  (``TT1:<person uuid>``): what the official QR encodes is unknown, and a reference
  leaks nothing if the paper is lost.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import segno
from PySide6.QtCore import QMarginsF, QSizeF, QUrl
from PySide6.QtGui import (
    QFont,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from kernel import refdata
from station.reports import DailyReport, SlipData
from station.reports_xlsx import (
    display_day,
    dose_label,
    labels,
    number_text,
    outcome_label,
    vaccine_label,
)
from ui.settings import SLIP_LAYOUTS

MARGIN_MM = 15.0
# A4 printable area at 96 px per inch: the document is laid out at screen scale and
# the writer scales it to the page, so point sizes in the HTML mean points on paper.
_PAGE_W_PX = (210.0 - 2 * MARGIN_MM) / 25.4 * 96
_PAGE_H_PX = (297.0 - 2 * MARGIN_MM) / 25.4 * 96
FONT_FAMILIES = ["DejaVu Sans", "Arial", "Segoe UI", "Noto Sans"]  # all carry Vietnamese

_CSS = """
body { font-size: 10pt; color: #000; }
.muted { color: #444; }
p.h { font-size: 11pt; margin-top: 12px; margin-bottom: 4px; }
.en { color: #333; font-style: italic; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 1px solid #555; padding: 3px 5px; }
table.grid th { background-color: #e8e8e8; font-weight: bold; }
td.num { text-align: right; }
"""


def qr_image(payload: str, *, scale: int = 6) -> QImage:
    """The QR of ``payload`` as an image (medium error correction survives a smudge)."""
    import io

    buf = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buf, kind="png", scale=scale, border=2)
    image = QImage()
    image.loadFromData(buf.getvalue(), "PNG")
    return image


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A paper: width and height in mm (height None: roll paper, as long as the content)."""

    width_mm: float
    height_mm: float | None
    margin_mm: float
    font_pt: float = 10.0


PAGES: dict[str, PageSpec] = {
    "a4": PageSpec(210.0, 297.0, MARGIN_MM),
    "a5": PageSpec(148.0, 210.0, 10.0, 9.0),
    # 80 mm thermal rolls print 72 mm wide; 4 mm each side.
    "receipt80": PageSpec(80.0, None, 4.0, 8.0),
}
assert set(PAGES) == set(SLIP_LAYOUTS)
_PX_PER_MM = 96 / 25.4


def layout_for_page_width(width_mm: float) -> str:
    """The slip layout that fits a paper chosen in the print dialog (receipt rolls are narrow)."""
    if width_mm < 100:
        return "receipt80"
    if width_mm < 180:
        return "a5"
    return "a4"


def _document(body_html: str, spec: PageSpec, images: dict[str, QImage] | None) -> tuple[QTextDocument, float]:
    """The laid-out document and the page height in mm (the content's for roll paper)."""
    doc = QTextDocument()
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(spec.font_pt)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(_CSS)
    doc.setDocumentMargin(0)
    for name, image in (images or {}).items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    doc.setHtml(body_html)
    # Laid out at screen scale (96 px per inch); the device scales it to the page, so point
    # sizes in the HTML mean points on paper.
    width_px = (spec.width_mm - 2 * spec.margin_mm) * _PX_PER_MM
    if spec.height_mm is None:
        doc.setTextWidth(width_px)
        height_mm = doc.size().height() / _PX_PER_MM + 2 * spec.margin_mm + 1
    else:
        height_mm = spec.height_mm
    # A page size on the document makes print() paginate at this size without adding
    # its own page numbers, which would sit on top of the slip's signature area.
    doc.setPageSize(QSizeF(width_px, (height_mm - 2 * spec.margin_mm) * _PX_PER_MM))
    return doc, height_mm


def _page_layout(spec: PageSpec, height_mm: float) -> QPageLayout:
    if spec.height_mm is None:
        size = QPageSize(QSizeF(spec.width_mm, height_mm), QPageSize.Unit.Millimeter, "Receipt 80 mm",
                         QPageSize.SizeMatchPolicy.ExactMatch)
    else:
        size = QPageSize(QSizeF(spec.width_mm, spec.height_mm), QPageSize.Unit.Millimeter, "",
                         QPageSize.SizeMatchPolicy.FuzzyMatch)
    m = spec.margin_mm
    return QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(m, m, m, m),
                       QPageLayout.Unit.Millimeter)


def render(body_html: str, device: QPagedPaintDevice, *, layout: str = "a4",
           images: dict[str, QImage] | None = None) -> None:
    """Lay out ``body_html`` for ``layout`` on a PDF writer or a printer, and print it."""
    spec = PAGES[layout]
    doc, height_mm = _document(body_html, spec, images)
    device.setPageLayout(_page_layout(spec, height_mm))
    doc.print_(device)


def write_pdf(body_html: str, path: Path | str, *, images: dict[str, QImage] | None = None,
              title: str = "", layout: str = "a4") -> Path:
    """Lay out ``body_html`` on pages of ``layout`` (A4 by default) and write the PDF."""
    out = Path(path)
    writer = QPdfWriter(str(out))
    writer.setResolution(300)
    writer.setTitle(title)
    writer.setCreator("Trạm Tiêm")
    render(body_html, writer, layout=layout, images=images)
    return out


# ---- the daily report ------------------------------------------------------------------


def report_html(rep: DailyReport, lang: str = "vi", *, site_name: str = "") -> str:
    """The daily report as print HTML: header, totals, doses, lots, screening and adverse events, signatures."""
    L = labels(lang)
    parts = _report_header(rep, L, site_name or rep.site_name)
    parts += _report_totals(rep, L)
    parts += _report_doses(rep, L, lang)
    parts += _report_lots(rep, L, lang)
    parts += _report_screening_adverse(rep, L, lang)
    parts += _report_signatures(lang)
    return "".join(parts)


def _report_header(rep: DailyReport, L: dict[str, str], site_name: str) -> list[str]:
    site = f"{site_name} ({rep.site_code})" if site_name else rep.site_code
    return [
        f"<p align='center' style='margin:0'><span style='font-size:13pt'><b>{_esc(L['title'])}</b></span></p>",
        f"<p class='muted' align='center'>{_esc(L['site'])}: <b>{_esc(site)}</b> &nbsp;·&nbsp; "
        f"{_esc(L['day'])}: <b>{display_day(rep.day)}</b> &nbsp;·&nbsp; "
        f"{_esc(L['generated'])}: {_esc(rep.generated_at[:16].replace('T', ' '))}</p>",
    ]


def _report_totals(rep: DailyReport, L: dict[str, str]) -> list[str]:
    t = rep.totals
    parts = ["<table class='grid' width='100%' cellspacing='0'>"]
    totals = [("doses", t.doses), ("people_vaccinated", t.people_vaccinated),
              ("expected", t.expected), ("checked_in", t.checked_in), ("screened", t.screened),
              ("cleared", t.cleared), ("deferred", t.deferred),
              ("adverse_events", t.adverse_events), ("adverse_severe", t.adverse_severe),
              ("doses_voided", t.doses_voided)]
    # Two figures per line keeps the summary on a third of the page.
    for i in range(0, len(totals), 2):
        cells = "".join(
            f"<td width='38%'>{_esc(L[k])}</td><td class='num' width='12%'><b>{v}</b></td>"
            for k, v in totals[i : i + 2]
        )
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table>")
    return parts


def _report_doses(rep: DailyReport, L: dict[str, str], lang: str) -> list[str]:
    parts = [f"<p class='h'><b>{_esc(L['sheet_doses'])}</b></p>"]
    parts.append("<table class='grid' width='100%' cellspacing='0'><tr>"
                 f"<th>{_esc(L['vaccine'])}</th><th>{_esc(L['dose_number'])}</th>"
                 f"<th>{_esc(L['kind'])}</th><th>{_esc(L['group'])}</th>"
                 f"<th>{_esc(L['count'])}</th></tr>")
    for c in rep.doses:
        group = c.priority_group if c.priority_group is not None else L["none_group"]
        parts.append(f"<tr><td>{_esc(dose_label(c.vaccine_code, c.volume_ml, lang))}</td>"
                     f"<td class='num'>{c.dose_number}</td><td>{_esc(L.get(c.kind, c.kind))}</td>"
                     f"<td class='num'>{_esc(group)}</td><td class='num'>{c.count}</td></tr>")
    parts.append(f"<tr><td colspan='4'><b>{_esc(L['total'])}</b></td>"
                 f"<td class='num'><b>{rep.totals.doses}</b></td></tr></table>")
    return parts


def _report_lots(rep: DailyReport, L: dict[str, str], lang: str) -> list[str]:
    parts = [f"<p class='h'><b>{_esc(L['sheet_lots'])}</b></p>"]
    lot_cols = (("vaccine", 24), ("lot_number", 11), ("expiry", 13), ("received", 12),
                ("used_day", 12), ("used_to_date", 13), ("remaining", 15))
    parts.append("<table class='grid' width='100%' cellspacing='0'><tr>"
                 + "".join(f"<th width='{w}%'>{_esc(L[k])}</th>" for k, w in lot_cols)
                 + "</tr>")
    for lot in rep.lots:
        parts.append(f"<tr><td>{_esc(vaccine_label(lot.vaccine_code, lang))}</td>"
                     f"<td>{_esc(lot.lot_number)}</td><td>{display_day(lot.expiry)}</td>"
                     f"<td class='num'>{lot.doses_received}</td>"
                     f"<td class='num'>{number_text(lot.used_day, lang)}</td>"
                     f"<td class='num'>{number_text(lot.used_to_date, lang)}</td>"
                     f"<td class='num'>{number_text(lot.remaining, lang)}</td></tr>")
    parts.append("</table>")
    return parts


def _report_screening_adverse(rep: DailyReport, L: dict[str, str], lang: str) -> list[str]:
    """Screening outcomes and adverse events side by side (two half-width tables)."""
    t = rep.totals
    parts = ["<br/><table width='100%' cellspacing='0'><tr><td width='50%' valign='top'>"]
    parts.append(f"<p class='h'><b>{_esc(L['sheet_screening'])}</b></p>")
    parts.append(f"<table class='grid' width='98%' cellspacing='0'><tr><th>{_esc(L['outcome'])}</th>"
                 f"<th>{_esc(L['count'])}</th></tr>")
    for o in rep.screening:
        parts.append(f"<tr><td>{_esc(outcome_label(o.outcome, lang))}</td>"
                     f"<td class='num'>{o.count}</td></tr>")
    parts.append(f"<tr><td><b>{_esc(L['total'])}</b></td><td class='num'><b>{t.screened}</b></td></tr>")
    parts.append("</table></td><td width='50%' valign='top'>")
    parts.append(f"<p class='h'><b>{_esc(L['sheet_adverse'])}</b></p>")
    parts.append(f"<table class='grid' width='100%' cellspacing='0'><tr><th>{_esc(L['severity'])}</th>"
                 f"<th>{_esc(L['count'])}</th></tr>")
    for a in rep.adverse:
        parts.append(f"<tr><td>{_esc(L.get('sev_' + a.severity, a.severity))}</td>"
                     f"<td class='num'>{a.count}</td></tr>")
    parts.append(f"<tr><td><b>{_esc(L['total'])}</b></td>"
                 f"<td class='num'><b>{t.adverse_events}</b></td></tr></table>")
    parts.append("</td></tr></table>")
    return parts


def _report_signatures(lang: str) -> list[str]:
    signer_l, signer_r = (("Người lập báo cáo", "Phụ trách cơ sở tiêm chủng") if lang == "vi"
                          else ("Prepared by", "Head of the vaccination site"))
    sign = "(ký, ghi rõ họ tên)" if lang == "vi" else "(signature and full name)"
    return ["<br/><table width='100%' cellspacing='0'><tr>"
            f"<td width='50%' align='center'><b>{signer_l}</b><br/><i>{sign}</i><br/><br/><br/><br/></td>"
            f"<td width='50%' align='center'><b>{signer_r}</b><br/><i>{sign}</i><br/><br/><br/><br/></td>"
            "</tr></table>"]


def print_report_pdf(rep: DailyReport, path: Path | str, lang: str = "vi", *, site_name: str = "") -> Path:
    return write_pdf(report_html(rep, lang, site_name=site_name), path, title=labels(lang)["title"])


# ---- the confirmation slip ----------------------------------------------------------------

# Fixed bilingual text of the official certificate (not translated: both languages print).
SLIP_TITLE = ("GIẤY XÁC NHẬN ĐÃ TIÊM VẮC XIN COVID-19", "CERTIFICATE OF COVID-19 VACCINATION")
SLIP_STATE = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
SLIP_FIELDS = {
    "name": ("Họ và tên", "Full name"),
    "birth": ("Ngày sinh", "Date of birth"),
    "sex": ("Giới tính", "Sex"),
    "id": ("Số CCCD/CMT/Hộ chiếu/ID", "ID/Passport number"),
    "phone": ("Số điện thoại", "Phone number"),
    "address": ("Địa chỉ", "Address"),
    "dose": ("Mũi tiêm", "Dose"),
    "date": ("Ngày tiêm", "Date"),
    "vaccine": ("Tên vắc xin", "Vaccine"),
    "lot": ("Số lô", "Lot number"),
    "site": ("Cơ sở tiêm chủng", "Vaccination site"),
    "ref": ("Mã tra cứu", "Record reference"),
    "signer": ("XÁC NHẬN CỦA CƠ SỞ TIÊM CHỦNG", "CERTIFIED BY THE VACCINATION SITE"),
    "stamp": ("(Ký tên, đóng dấu)", "(Signature and stamp)"),
    "place_date": ("Ngày", "Date"),
}
SLIP_DOSE = {
    "primary": ("Mũi cơ bản", "Primary dose"),
    "additional": ("Mũi bổ sung", "Additional dose"),
    "booster": ("Mũi nhắc lại", "Booster dose"),
}
SLIP_SEX = {"M": ("Nam", "Male"), "F": ("Nữ", "Female")}
SLIP_ELSEWHERE = ("Nơi khác", "Elsewhere")
QR_URL = "tramtiem://slip-qr"


def _bi_order(pair: tuple[str, str], *, sep: str = " / ", first: int = 0) -> str:
    """Both languages; the second in italics. ``first=1`` puts English first (a slip for
    a foreign national), Vietnamese stays on the paper either way."""
    a, b = pair[first], pair[1 - first]
    return f"{_esc(a)}{sep}<span class='en'>{_esc(b)}</span>"


def slip_html(slip: SlipData, *, site_name: str = "", lang: str = "vi", layout: str = "a4") -> str:
    if layout == "receipt80":
        return receipt_slip_html(slip, site_name=site_name, lang=lang)
    first = 1 if lang == "en" else 0

    def _bi(pair: tuple[str, str], *, sep: str = " / ") -> str:
        return _bi_order(pair, sep=sep, first=first)

    p = slip.person
    F = SLIP_FIELDS
    sex = SLIP_SEX.get(p.sex or "")
    id_text = p.id_number or ""
    parts = [
        # Header: the state motto centred, the QR to the right (the paper's layout).
        "<table width='100%' cellspacing='0'><tr>",
        "<td width='22%'></td>",
        f"<td width='56%' align='center'><b>{_esc(SLIP_STATE[0])}</b><br/>"
        f"<u>{_esc(SLIP_STATE[1])}</u></td>",
        f"<td width='22%' align='right'><img src='{QR_URL}' width='96' height='96'/></td>",
        "</tr></table>",
        f"<p align='center' style='margin-top:8px'><span style='font-size:15pt'><b>"
        f"{_esc(SLIP_TITLE[first])}</b></span><br/><span class='en' style='font-size:11pt'>"
        f"{_esc(SLIP_TITLE[1 - first])}</span></p>",
        "<table width='100%' cellspacing='0' cellpadding='3'>",
        f"<tr><td width='34%'>{_bi(F['name'])}:</td><td><b>{_esc(p.full_name.upper())}</b></td></tr>",
        f"<tr><td>{_bi(F['birth'])}:</td><td>{_esc(p.birth_display)}</td></tr>",
        f"<tr><td>{_bi(F['sex'])}:</td><td>{_bi(sex) if sex else ''}</td></tr>",
        f"<tr><td>{_bi(F['id'])}:</td><td>{_esc(id_text)}</td></tr>",
        f"<tr><td>{_bi(F['phone'])}:</td><td>{_esc(p.phone or '')}</td></tr>",
        f"<tr><td>{_bi(F['address'])}:</td><td>{_esc(slip.address)}</td></tr>",
        "</table><br/>",
        "<table class='grid' width='100%' cellspacing='0'><tr>",
        f"<th width='24%'>{_bi(F['dose'], sep='<br/>')}</th>",
        f"<th width='16%'>{_bi(F['date'], sep='<br/>')}</th>",
        f"<th width='30%'>{_bi(F['vaccine'], sep='<br/>')}</th>",
        f"<th width='14%'>{_bi(F['lot'], sep='<br/>')}</th>",
        f"<th width='16%'>{_bi(F['site'], sep='<br/>')}</th></tr>",
    ]
    site_name = site_name or slip.site_name

    def where(code: str) -> str:
        return site_name if site_name and code == slip.site_code else code

    for kind, n, dose in slip.rows:
        label = SLIP_DOSE[kind]
        # Rows are numbered as on the form: "Mũi cơ bản 1", "Mũi nhắc lại 2".
        name = f"{_esc(label[first])} {n}<br/><span class='en'>{_esc(label[1 - first])} {n}</span>"
        if dose is None:
            parts.append(f"<tr><td>{name}</td><td></td><td></td><td></td><td></td></tr>")
            continue
        v = refdata.vaccines().get(dose.vaccine_code)
        vname = v.name_vi if v else dose.vaccine_code
        parts.append(f"<tr><td>{name}</td><td>{display_day(dose.day)}</td>"
                     f"<td>{_esc(vname)}</td><td>{_esc(dose.lot_number or '')}</td>"
                     f"<td>{_bi(SLIP_ELSEWHERE, sep='<br/>') if dose.elsewhere else _esc(where(dose.site_code))}"
                     "</td></tr>")
    site = f"{site_name} ({slip.site_code})" if site_name else slip.site_code
    parts += [
        "</table><br/>",
        "<table width='100%' cellspacing='0'><tr>",
        f"<td width='50%' valign='top'>{_bi(F['site'])}:<br/><b>{_esc(site)}</b><br/><br/>"
        f"<span class='muted'>{_bi(F['ref'])}: {_esc(slip.qr_payload)}</span></td>",
        f"<td width='50%' align='center' valign='top'><i>{_bi(F['place_date'])}: "
        f"{display_day(slip.printed_on)}</i><br/><b>{_esc(F['signer'][first])}</b><br/>"
        f"<span class='en'>{_esc(F['signer'][1 - first])}</span><br/><i>{_bi(F['stamp'])}</i>"
        "<br/><br/><br/><br/><br/><br/></td>",
        "</tr></table>",
    ]
    return "".join(parts)


def receipt_slip_html(slip: SlipData, *, site_name: str = "", lang: str = "vi") -> str:
    """The slip on an 80 mm receipt roll: one column, every row of the paper slip, both languages."""
    first = 1 if lang == "en" else 0

    def _bi(pair: tuple[str, str]) -> str:
        return _bi_order(pair, sep="<br/>", first=first)

    p = slip.person
    F = SLIP_FIELDS
    sex = SLIP_SEX.get(p.sex or "")
    site_name = site_name or slip.site_name
    site = f"{site_name} ({slip.site_code})" if site_name else slip.site_code
    parts = [
        f"<p align='center'><b>{_esc(SLIP_STATE[0])}</b><br/><u>{_esc(SLIP_STATE[1])}</u></p>",
        f"<p align='center'><b>{_esc(SLIP_TITLE[first])}</b><br/>"
        f"<span class='en'>{_esc(SLIP_TITLE[1 - first])}</span></p>",
        f"<p align='center'><img src='{QR_URL}' width='110' height='110'/></p>",
        "<table width='100%' cellspacing='0' cellpadding='1'>",
    ]
    for key, value in (
        ("name", f"<b>{_esc(p.full_name.upper())}</b>"),
        ("birth", _esc(p.birth_display)),
        ("sex", _bi_order(sex, first=first) if sex else ""),
        ("id", _esc(p.id_number or "")),
        ("phone", _esc(p.phone or "")),
        ("address", _esc(slip.address)),
    ):
        parts.append(f"<tr><td><span class='muted'>{_bi_order(F[key], first=first)}:</span><br/>{value}</td></tr>")
    parts.append("</table><hr/>")
    for kind, n, dose in slip.rows:
        if dose is None:
            continue  # a roll has no room for empty rows; the A4/A5 slip keeps them for hand entry
        label = SLIP_DOSE[kind]
        v = refdata.vaccines().get(dose.vaccine_code)
        vname = v.name_vi if v else dose.vaccine_code
        where = _bi_order(SLIP_ELSEWHERE, first=first) if dose.elsewhere else _esc(
            site_name if site_name and dose.site_code == slip.site_code else dose.site_code)
        parts.append(
            f"<p><b>{_esc(label[first])} {n}</b> <span class='en'>{_esc(label[1 - first])} {n}</span><br/>"
            f"{display_day(dose.day)} · {_esc(vname)}<br/>"
            f"{_esc(F['lot'][first])}: {_esc(dose.lot_number or '')} · {where}</p>"
        )
    parts += [
        "<hr/>",
        f"<p>{_bi(F['site'])}: <b>{_esc(site)}</b><br/>"
        f"<span class='muted'>{_bi_order(F['ref'], first=first)}: {_esc(slip.qr_payload)}</span></p>",
        f"<p align='center'><i>{_bi_order(F['place_date'], first=first)}: {display_day(slip.printed_on)}</i>"
        f"<br/><b>{_esc(F['signer'][first])}</b><br/><i>{_bi_order(F['stamp'], first=first)}</i>"
        "<br/><br/><br/><br/></p>",
    ]
    return "".join(parts)


PRINTS_KEEP_SECONDS = 24 * 3600


def prints_dir() -> Path:
    """Where slips go before the viewer prints them: the user's temp folder, swept daily.

    A slip holds a name, an ID number and a phone; it must not pile up on the laptop
    (vietnam.md §5), so files older than a day are removed each time one is made.
    """
    import tempfile
    import time

    folder = Path(tempfile.gettempdir()) / "tramtiem-prints"
    folder.mkdir(mode=0o700, exist_ok=True)
    cutoff = time.time() - PRINTS_KEEP_SECONDS
    for old in folder.glob("*.pdf"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # open in a viewer on Windows: next time
    return folder


def open_pdf(path: Path) -> bool:
    """Show the PDF in the system viewer (which prints it); False when none opened.

    Not on the offscreen platform: there is no one to see it (tests, headless runs);
    callers say where the file is either way."""
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    if QGuiApplication.platformName() == "offscreen":
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def print_slip_pdf(slip: SlipData, path: Path | str, *, site_name: str = "", lang: str = "vi",
                   layout: str = "a4") -> Path:
    return write_pdf(slip_html(slip, site_name=site_name, lang=lang, layout=layout), path,
                     images={QR_URL: qr_image(slip.qr_payload)}, title=SLIP_TITLE[0], layout=layout)


# ---- straight to a printer -------------------------------------------------------------


def available_printers() -> list[str]:
    """The printers the OS knows (Windows: Devices and Printers), by name."""
    return [str(n) for n in QPrinterInfo.availablePrinterNames()]


def make_printer(name: str) -> QPrinter:
    """A printer by its OS name (the one remembered from the print dialog)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPrinterName(name)
    return printer


@dataclass(frozen=True, slots=True)
class PrinterChoice:
    name: str  # the OS printer name
    page_width_mm: float  # of the paper chosen in the dialog (a receipt roll is ~80 mm)


def ask_printer(parent: object, current: str = "") -> PrinterChoice | None:
    """The Qt print dialog: the user picks the printer (and paper); None when cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog
    from PySide6.QtWidgets import QDialog, QWidget

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if current:
        printer.setPrinterName(current)
    dialog = QPrintDialog(printer, parent if isinstance(parent, QWidget) else None)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    width = printer.pageLayout().fullRect(QPageLayout.Unit.Millimeter).width()
    return PrinterChoice(printer.printerName(), width)


def print_slip_to(printer: QPrinter, slip: SlipData, *, site_name: str = "", lang: str = "vi",
                  layout: str = "a4") -> None:
    """The slip on ``printer`` in ``layout`` (a receipt printer gets a roll-length page)."""
    printer.setDocName(SLIP_TITLE[0])
    render(slip_html(slip, site_name=site_name, lang=lang, layout=layout), printer, layout=layout,
           images={QR_URL: qr_image(slip.qr_payload)})


__all__ = [
    "PAGES",
    "PrinterChoice",
    "ask_printer",
    "available_printers",
    "layout_for_page_width",
    "make_printer",
    "print_report_pdf",
    "print_slip_pdf",
    "print_slip_to",
    "qr_image",
    "receipt_slip_html",
    "render",
    "report_html",
    "slip_html",
    "write_pdf",
]
