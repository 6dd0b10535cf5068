"""Presentation helpers: Vietnamese/English strings, vi-VN number formats, the SVG chart.

The chart is drawn here as inline SVG (no JavaScript, no CDN): the page works
on a committee office PC with no Internet beyond the hub, and tests can read
the numbers straight out of the markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from markupsafe import Markup, escape

from hub.dashboard.data import Alert, DayPoint
from kernel.clock import VN_TZ

Lang = Literal["vi", "en"]

STRINGS: dict[str, tuple[str, str]] = {
    # key: (vi, en)
    "app": ("Trạm Tiêm", "Trạm Tiêm"),
    "title": ("Theo dõi tiêm chủng: đã tiêm và đã nhận", "Vaccination monitor: given and received"),
    "login_title": ("Đăng nhập bảng theo dõi", "Dashboard sign-in"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "bad_login": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "locked": (
        "Tài khoản tạm khoá vì nhập sai nhiều lần. Thử lại sau {m} phút.",
        "This account is locked after repeated failures. Try again in {m} minutes.",
    ),
    "form_expired": (
        "Biểu mẫu đã hết hạn, vui lòng đăng nhập lại.",
        "The form expired; please sign in again.",
    ),
    "lockout_hint": (
        "Sau {n} lần nhập sai, tài khoản bị khoá {m} phút.",
        "After {n} failed attempts the account is locked for {m} minutes.",
    ),
    "scope_province": ("Tỉnh/thành", "Province"),
    "scope_district": ("Khu vực", "Area"),
    "given": ("Đã tiêm (điểm tiêm báo)", "Given (sites report)"),
    "received": ("Hệ thống đã nhận", "Received by the hub"),
    "gap": ("Chênh lệch", "Gap"),
    "pending": ("Chờ gửi", "Pending at site"),
    "pending_unit": ("liều", "doses"),
    "ops_unit": ("thao tác", "ops"),
    "oldest": ("Chờ lâu nhất", "Oldest pending"),
    "last_contact": ("Liên lạc gần nhất", "Last contact"),
    "skew": ("Lệch giờ", "Clock skew"),
    "allocated": ("Phân bổ", "Allocated"),
    "pct": ("Đã tiêm / phân bổ", "Given / allocated"),
    "pct_received": ("theo số đã nhận", "by received"),
    "stations": ("Máy", "Stations"),
    "site": ("Điểm tiêm", "Site"),
    "no_area": ("(chưa xếp khu vực)", "(no area assigned)"),
    "total": ("Tổng", "Total"),
    "chart_title": ("Số liều theo ngày (14 ngày gần nhất)", "Doses per day (last 14 days)"),
    "chart_given": ("Đã tiêm (điểm tiêm báo)", "Given (sites report)"),
    "chart_received": ("Hệ thống đã nhận", "Received by the hub"),
    "updated": ("Cập nhật lúc {t}", "Updated {t}"),
    "refresh": ("tự làm mới mỗi {n} giây", "refreshes every {n} s"),
    "stale": (
        "Mất kết nối với máy chủ, số liệu có thể cũ.",
        "Lost contact with the hub; figures may be old.",
    ),
    "no_sites": ("Chưa có điểm tiêm nào trong phạm vi này.", "No sites in this scope yet."),
    "never": ("chưa", "never"),
    "none": ("—", "—"),
    "skew_flag": ("lệch quá 5 phút", "off by more than 5 min"),
    "no_tally": ("chưa gửi số đếm", "no tally yet"),
    "levels": (
        "Cấp: tỉnh/thành → khu vực (xã/phường theo danh mục 2025, hoặc huyện cũ do hub đặt) → điểm tiêm.",
        "Levels: province → area (a commune/ward of the 2025 list, or a former district set at the hub) → site.",
    ),
    "def_given": (
        "Đã tiêm: số liều hệ thống đã nhận cộng số liều các máy đã nhập mà chưa về (mỗi máy chỉ đếm liều chính nó nhập, theo bản đếm có chữ ký gửi trước mỗi lần đồng bộ; máy đã thu hồi vẫn được tính).",
        "Given: doses the hub received plus doses the stations entered that have not reached it (each station counts only the doses it entered, in the signed tally sent before each sync; revoked stations still count).",
    ),
    "def_received": (
        "Đã nhận: liều hợp lệ hệ thống trung tâm đang giữ (không tính liều huỷ, liều nhập lại từ giấy xác nhận cũ).",
        "Received: valid doses the hub holds (voided doses and doses copied from old paper certificates excluded).",
    ),
    "def_gap": (
        "Chênh lệch = đã tiêm − đã nhận − đã xoá sổ: số liều đã tiêm chưa về trung tâm. Số âm: một lệnh huỷ liều còn chờ gửi ở máy.",
        "Gap = given − received − written off: doses given that have not reached the hub. Negative: a void still waiting at a station.",
    ),
    "def_pct": (
        "Đã tiêm / phân bổ: tỷ lệ so với số liều được phân bổ; trong ngoặc là tỷ lệ theo số đã nhận (con số cổng quốc gia thấy, như 54,55% trong công văn 7482).",
        "Given / allocated: share of the allocated doses; in brackets the share by received doses (what the national portal sees, like the 54.55% of directive 7482).",
    ),
    "written_off": ("Đã xoá sổ", "Written off"),
    "revoked": ("đã thu hồi", "revoked"),
    "revoked_gap": ("Máy thu hồi còn nợ", "Owed by revoked"),
    "revoked_n": ("+{n} thu hồi", "+{n} revoked"),
    "alerts": ("Cảnh báo", "Alerts"),
    "no_alerts": ("Không có cảnh báo.", "No alerts."),
    "alert_stale_pending": (
        "{station}: còn {n} liều chờ gửi, mất liên lạc {age}",
        "{station}: {n} doses pending, no contact for {age}",
    ),
    "alert_clock_skew": ("{station}: đồng hồ lệch {skew}", "{station}: clock off by {skew}"),
    "alert_ack_mismatch": (
        "{station}: số liều đã xác nhận lệch với số trung tâm giữ ({n} liều)",
        "{station}: acknowledged doses disagree with what the hub holds ({n} doses)",
    ),
    "alert_revoked_gap": (
        "{station} (đã thu hồi): {n} liều chưa về trung tâm",
        "{station} (revoked): {n} doses never reached the hub",
    ),
    "alert_old_version": (
        "{station}: phiên bản cũ, số đếm có thể gồm cả liều của máy khác — cần cập nhật",
        "{station}: old version, its count may include other stations' doses — update it",
    ),
    "today": ("Hôm nay", "Today"),
    "today_short": ("tiêm / nhận", "given / received"),
    "per_day": ("Theo ngày (14 ngày gần nhất)", "Per day (last 14 days)"),
    "day": ("Ngày", "Day"),
    "station": ("Máy", "Station"),
    "status": ("Trạng thái", "Status"),
    "live": ("đang dùng", "in use"),
    "tally_at": ("Số đếm gần nhất", "Latest tally"),
    "mismatch": ("Lệch xác nhận", "Ack mismatch"),
    "write_offs": ("Các lần xoá sổ", "Write-offs"),
    "no_write_offs": ("Chưa có lần xoá sổ nào.", "No write-offs."),
    "reason": ("Lý do", "Reason"),
    "by": ("Người quyết định", "By"),
    "at": ("Lúc", "At"),
    "doses": ("Số liều", "Doses"),
    "all_scope": ("Toàn phạm vi", "Whole scope"),
    "not_found": ("Không có trong phạm vi của bạn.", "Not in your scope."),
    "back": ("Quay lại", "Back"),
    "stations_title": ("Các máy của điểm tiêm", "The site's stations"),
    "old_version": ("phiên bản cũ", "old version"),
    "def_written_off": (
        "Đã xoá sổ: liều một máy (thường là máy bị mất, đã thu hồi) còn nợ mà giám sát xác nhận sẽ không về, có ghi lý do; vẫn tính vào đã tiêm nhưng không còn trong chênh lệch. Nếu sau đó dữ liệu về (khôi phục bản sao lưu), liều chuyển sang đã nhận, không tính hai lần.",
        "Written off: doses a station (usually a lost, revoked one) still owed that a supervisor recorded as never arriving, with a reason; still in given, no longer in the gap. If they arrive later (a restored backup) they move to received and are counted once.",
    ),
    "def_alerts": (
        "Cảnh báo: máy còn liều chờ gửi và mất liên lạc quá 15 phút; đồng hồ máy lệch quá 5 phút; số liều máy báo đã được xác nhận không khớp với số trung tâm giữ của máy đó; máy đã thu hồi còn nợ liều; máy chạy phiên bản cũ.",
        "Alerts: a station with doses pending and no contact for 15 minutes; a station whose clock is off by more than 5 minutes; a station whose acknowledged doses disagree with what the hub holds from it; a revoked station that still owes doses; a station on an old version.",
    ),
    "lang_other": ("English", "Tiếng Việt"),
    # A site hub's own page (relay mode, issue 14): one site, figures provisional.
    "scope_site": ("Điểm tiêm", "Site"),
    "sh_title": ("Máy chủ điểm — {site}", "Site hub — {site}"),
    "sh_provisional": (
        "Số liệu tạm thời: đây là số máy chủ điểm đang giữ, chưa được tuyến tỉnh xác nhận hết. Tỉnh quyết định (gộp người trùng, từ chối) và có thể thay đổi các số này khi đường truyền lên tỉnh hoạt động.",
        "Provisional figures: what this site hub holds, not all confirmed by the province yet. The province decides (merges, refusals) and may change them once the line to the province works.",
    ),
    "sh_doses_today": ("Liều đã tiêm hôm nay", "Doses given today"),
    "sh_registered_today": ("Lượt đăng ký hôm nay", "Registered for today"),
    "sh_people": ("{n} người tại điểm", "{n} people at the site"),
    "sh_waiting": ("Chờ chuyển lên tỉnh", "Waiting to reach the province"),
    "sh_waiting_short": ("Chờ lên tỉnh", "Waiting for province"),
    "sh_province": ("Đường lên tỉnh", "Line to the province"),
    "sh_reachable": ("Thông", "Reachable"),
    "sh_unreachable": ("Mất kết nối", "Unreachable"),
    "sh_last_answer": ("Tỉnh trả lời gần nhất", "Province last answered"),
    "sh_vaccine": ("Vắc xin", "Vaccine"),
    "sh_no_doses": ("Chưa có liều nào hôm nay.", "No doses today yet."),
    "who": ("Người dùng", "User"),
}


def t(lang: Lang, key: str, **kw: object) -> str:
    vi, en = STRINGS[key]
    text = en if lang == "en" else vi
    return text.format(**kw) if kw else text


def fmt_int(n: int | None, lang: Lang) -> str:
    if n is None:
        return "—"
    s = f"{abs(n):,}"
    if lang == "vi":
        s = s.replace(",", ".")  # vi-VN: 1.000.000
    return ("−" if n < 0 else "") + s


def fmt_pct(x: float | None, lang: Lang) -> str:
    if x is None:
        return "—"
    s = f"{x:,.2f}"
    if lang == "vi":
        # vi-VN swaps the separators: 1.234,56
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s + "%"


def fmt_time(dt: datetime | None, lang: Lang, *, seconds: bool = False) -> str:
    if dt is None:
        return t(lang, "never")
    local = dt.astimezone(VN_TZ)  # the committee reads site time (UTC+7, no DST)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if lang == "vi":
        return f"{clock} {local:%d/%m/%Y}"
    return f"{local:%Y-%m-%d} {clock}"


def fmt_age(seconds: float | None, lang: Lang) -> str:
    if seconds is None:
        return "—"
    m = max(0, int(seconds // 60))
    vi = lang == "vi"
    if m < 1:
        return "< 1 phút" if vi else "< 1 min"
    d, rem = divmod(m, 24 * 60)
    h, mm = divmod(rem, 60)
    if d:
        return f"{d} ngày {h} giờ" if vi else f"{d} d {h} h"
    if h:
        return f"{h} giờ {mm} phút" if vi else f"{h} h {mm} min"
    return f"{mm} phút" if vi else f"{mm} min"


def alert_text(alert: Alert, lang: Lang, now: datetime) -> str:
    """One alert as a sentence (the station's name, the figure, and since when)."""
    key = f"alert_{alert.kind}"
    age = fmt_age(age_s(alert.since, now), lang) if alert.since else "—"
    return t(
        lang,
        key,
        station=alert.station_name,
        n=fmt_int(alert.value, lang),
        age=age,
        skew=fmt_skew(alert.value, lang),
    )


def fmt_skew(ms: int | None, lang: Lang) -> str:
    if ms is None:
        return "—"
    secs = abs(ms) / 1000
    value, unit = (round(secs), "giây" if lang == "vi" else "s")
    if secs >= 60:
        value, unit = round(secs / 60), "phút" if lang == "vi" else "min"
    sign = "" if value == 0 else ("+" if ms > 0 else "−")
    return f"{sign}{value} {unit}"


def age_s(dt: datetime | None, now: datetime) -> float | None:
    return None if dt is None else (now - dt).total_seconds()


# ---- chart ---------------------------------------------------------------------------


def _nice_max(v: int) -> int:
    """A top for the y axis that splits into four whole, round steps (0, 3, 6, 9, 12)."""
    need = max(1, -(-v // 4))  # ceil(v / 4)
    mag = int(10 ** (len(str(need)) - 1))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * mag >= need:
            return 4 * step * mag
    return 4 * need


def chart_svg(days: list[DayPoint], lang: Lang) -> Markup:
    """Grouped bars per day (given, received), axis in vi-VN/English number format."""
    w, h = 1100, 250
    left, right, top, bottom = 56, 12, 14, 44
    pw, ph = w - left - right, h - top - bottom
    ymax = _nice_max(max([max(d.given, d.received) for d in days] + [0]))
    slot = pw / max(1, len(days))
    bar = max(2.0, slot * 0.34)
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(t(lang, "chart_title"))}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        val = ymax * i // 4
        y = top + ph - ph * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" '
            f'stroke="#d5dbe3" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#4b5563">{escape(fmt_int(val, lang))}</text>'
        )
    for i, d in enumerate(days):
        x0 = left + slot * i + (slot - 2 * bar) / 2
        label = d.day.strftime("%d/%m") if lang == "vi" else d.day.strftime("%m-%d")
        for j, (val, colour, key) in enumerate(
            ((d.given, "#9cc3f5", "chart_given"), (d.received, "#1f4e9c", "chart_received"))
        ):
            bh = ph * val / ymax if ymax else 0
            x = x0 + j * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{top + ph - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                f'fill="{colour}" data-day="{d.day.isoformat()}" data-series="{key[6:]}" '
                f'data-value="{val}"><title>{escape(label)}: {escape(t(lang, key))} '
                f"{escape(fmt_int(val, lang))}</title></rect>"
            )
        parts.append(
            f'<text x="{left + slot * i + slot / 2:.1f}" y="{top + ph + 16}" text-anchor="middle" '
            f'font-size="11" fill="#374151">{escape(label)}</text>'
        )
    ly = h - 10
    parts.append(
        f'<rect x="{left}" y="{ly - 9}" width="12" height="10" fill="#9cc3f5"/>'
        f'<text x="{left + 17}" y="{ly}" font-size="12" fill="#111827">'
        f"{escape(t(lang, 'chart_given'))}</text>"
        f'<rect x="{left + 220}" y="{ly - 9}" width="12" height="10" fill="#1f4e9c"/>'
        f'<text x="{left + 237}" y="{ly}" font-size="12" fill="#111827">'
        f"{escape(t(lang, 'chart_received'))}</text>"
        f'<line x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}" '
        f'stroke="#6b7280" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
