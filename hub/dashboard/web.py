"""The dashboard's HTTP routes (server-rendered HTML, Jinja2), mounted on the hub app.

    GET  /dashboard              the page (303 to the login page without a session)
    GET  /dashboard/province/{code} | /area/{code} | /site/{code}
                                 drill-down inside the login's scope (404 outside it);
                                 a site's page lists its stations, per day
    GET  /dashboard/fragment     the page's content, fetched every N seconds by the page
                                 (``?view=site:CODE`` etc. for a drill-down)
    GET  /dashboard/data.json    the same numbers as JSON (same ``?view=``)
    GET  /dashboard/login        the form;  POST /dashboard/login   sign in
    POST /dashboard/logout       sign out

``?lang=en`` switches to English (Vietnamese by default). The routes are kept
out of the OpenAPI document: that describes the station protocol only.

CSRF: the login form carries an HMAC of a random value that is also set as a
``SameSite=Strict`` cookie (double submit, so a foreign page cannot post a
login), and any ``Origin`` header must be the hub's own. Logout needs a token
derived from the session. Every page is sent with a strict Content-Security-
Policy (inline script and style allowed only by nonce) and ``no-store``.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from hub.dashboard import auth, data, figures, site_hub, view
from hub.db import Database
from hub.errors import HubError
from hub.timestamps import parse_ts
from kernel import refdata
from kernel.clock import to_site_time

if TYPE_CHECKING:
    from hub.app import HubSettings

log = logging.getLogger(__name__)

BASE = "/dashboard"
SESSION_COOKIE = "tt_dash"
LOGIN_COOKIE = "tt_dash_login"
LOGIN_FORM_MAX_AGE = 3600

_env = Environment(
    loader=PackageLoader("hub.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _lang(request: Request) -> view.Lang:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _q(lang: view.Lang) -> str:
    return "?lang=en" if lang == "en" else ""


def _secure(request: Request) -> bool:
    # Behind a TLS terminator the hub should run with --proxy-headers so this is https.
    return request.url.scheme == "https"


def _headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium post Origin: null
    }


def _set_cookie(request: Request, resp: Response, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        path=BASE,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def _origin_ok(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # older browsers omit Origin on same-origin posts; the token still guards
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def install(app: FastAPI, db: Database, settings: HubSettings) -> None:
    """Add the dashboard routes to the hub ``app``."""
    pages = _Pages(db, settings)
    # A site hub (hub/site_hub.py) has its link to the province in the app's context.
    hub_ctx = getattr(app.state, "ctx", None)
    pages.relay_status = getattr(hub_ctx, "relay_status", None)
    _add_login_routes(app, pages)
    _add_page_routes(app, pages)


class _Pages:
    """What the dashboard's routes share: the session secret, the renderer, the signed-in user."""

    def __init__(self, db: Database, settings: HubSettings) -> None:
        self.db = db
        self.clock: Callable[[], datetime] = settings.clock
        self.refresh_s = max(1, int(settings.dashboard_refresh_s))
        self._secret: bytes | None = None
        self.relay_status: site_hub.LinkStatus | None = None  # set at a site hub

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = auth.load_secret(self.db)
        return self._secret

    def render(self, name: str, lang: view.Lang, status: int = 200, **ctx: object) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = _env.get_template(name).render(
            lang=lang,
            t=lambda key, **kw: view.t(lang, key, **kw),
            q=_q(lang),
            nonce=nonce,
            base=BASE,
            **ctx,
        )
        return HTMLResponse(html, status_code=status, headers=_headers(nonce))

    def current_user(self, request: Request) -> tuple[auth.DashUser, str] | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 256:
            return None
        raw = auth.unsign(self.secret(), "session", token)
        if raw is None:
            return None
        user = auth.session_user(self.db, raw, now=self.clock())
        return (user, raw) if user else None

    def content_ctx(
        self, user: auth.DashUser, lang: view.Lang, where: auth.Scope | None = None
    ) -> dict[str, Any]:
        # Any, not object: the context is passed as ``**ctx`` to render(), whose ``status``
        # is an int; Jinja reads values of every kind.
        """The template context of a page's figures."""
        now = self.clock()
        board = data.build(self.db, user.scope, now=now, view=where)
        return {
            "board": board,
            "site_hub": self.site_hub_figures(board, now),
            "parse_ts": parse_ts,
            "vaccine_name": lambda code: _vaccine_name(code, lang),
            "user": user,
            "now": now,
            "refresh_s": self.refresh_s,
            "fmt_int": lambda n: view.fmt_int(n, lang),
            "fmt_pct": lambda x: view.fmt_pct(x, lang),
            "fmt_time": lambda dt, seconds=False: view.fmt_time(dt, lang, seconds=seconds),
            "fmt_age": lambda dt: view.fmt_age(view.age_s(dt, now), lang),
            "fmt_skew": lambda ms: view.fmt_skew(ms, lang),
            "chart": view.chart_svg(board.days, lang),
            "stale_after_s": data.STALE_CONTACT_S,
            "age_s": lambda dt: view.age_s(dt, now),
            "view_param": view_param(where),
            "link": lambda kind, code: f"{BASE}/{kind}/{quote(code, safe='')}{_q(lang)}",
            "alert_text": lambda a: view.alert_text(a, lang, now),
        }

    def site_hub_figures(self, board: figures.Dashboard, now: datetime) -> site_hub.SiteHubFigures | None:
        """At a site hub: its one site's figures (None at a province hub, or no site in scope)."""
        if self.relay_status is None:
            return None
        codes = [s.code for p in board.provinces for a in p.areas for s in a.sites]
        if not codes:
            return None
        return site_hub.figures(self.db, codes[0], to_site_time(now).date(), self.relay_status)

    def login_page(self, request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        lang = _lang(request)
        nonce_value = secrets.token_urlsafe(24)
        resp = self.render(
            "login.html",
            lang,
            status,
            error=error,
            csrf=auth.mac(self.secret(), "login-form", nonce_value),
            max_failures=auth.MAX_FAILURES,
            lock_minutes=auth.LOCK_MINUTES,
        )
        _set_cookie(request, resp, LOGIN_COOKIE, nonce_value, LOGIN_FORM_MAX_AGE)
        return resp

    def full_page(self, request: Request, where: auth.Scope | None) -> Response:
        lang = _lang(request)
        found = self.current_user(request)
        if found is None:
            return RedirectResponse(BASE + "/login" + _q(lang), status_code=303)
        user, raw = found
        try:
            ctx = self.content_ctx(user, lang, where)
        except HubError as exc:
            return self.render("missing.html", lang, exc.status, user=user, logout_csrf=auth.mac(self.secret(), "logout", raw))
        return self.render("dashboard.html", lang, logout_csrf=auth.mac(self.secret(), "logout", raw), **ctx)


def _add_login_routes(app: FastAPI, pages: _Pages) -> None:
    db, clock, secret = pages.db, pages.clock, pages.secret
    current_user, login_page = pages.current_user, pages.login_page

    @app.get(BASE + "/login", include_in_schema=False)
    def get_login(request: Request) -> Response:
        if current_user(request):
            return RedirectResponse(BASE + _q(_lang(request)), status_code=303)
        return login_page(request)

    @app.post(BASE + "/login", include_in_schema=False)
    async def post_login(request: Request) -> Response:
        lang = _lang(request)
        form = await _form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        token = form.get("csrf", "")
        if (
            not _origin_ok(request)
            or not cookie
            or not auth.same(auth.mac(secret(), "login-form", cookie), token)
        ):
            return login_page(request, view.t(lang, "form_expired"), 403)
        username = form.get("username", "")[:64]
        password = form.get("password", "")[: auth.MAX_PASSWORD_LEN]
        now = clock()
        outcome, user_id = await run_in_threadpool(auth.login, db, username, password, now=now)
        if outcome == "locked":
            return login_page(request, view.t(lang, "locked", m=auth.LOCK_MINUTES), 429)
        if outcome != "ok":
            return login_page(request, view.t(lang, "bad_login"), 401)
        raw = await run_in_threadpool(auth.new_session, db, user_id, now=now)
        resp = RedirectResponse(BASE + _q(lang), status_code=303)
        _set_cookie(
            request,
            resp,
            SESSION_COOKIE,
            auth.sign(secret(), "session", raw),
            auth.SESSION_HOURS * 3600,
        )
        resp.delete_cookie(LOGIN_COOKIE, path=BASE, httponly=True, samesite="strict")
        return resp

    @app.post(BASE + "/logout", include_in_schema=False)
    async def post_logout(request: Request) -> Response:
        lang = _lang(request)
        found = await run_in_threadpool(current_user, request)
        form = await _form(request)
        if found is not None:
            _user, raw = found
            if not _origin_ok(request) or not auth.same(
                auth.mac(secret(), "logout", raw), form.get("csrf", "")
            ):
                return Response("forbidden", status_code=403, media_type="text/plain")
            await run_in_threadpool(auth.end_session, db, raw)
        resp = RedirectResponse(BASE + "/login" + _q(lang), status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path=BASE, httponly=True, samesite="strict")
        return resp


def _add_page_routes(app: FastAPI, pages: _Pages) -> None:
    db, clock, render = pages.db, pages.clock, pages.render
    current_user, content_ctx, full_page = pages.current_user, pages.content_ctx, pages.full_page

    @app.get(BASE, include_in_schema=False)
    def page(request: Request) -> Response:
        return full_page(request, None)

    @app.get(BASE + "/{level}/{code}", include_in_schema=False)
    def drill(request: Request, level: str, code: str) -> Response:
        where = parse_view(f"{'district' if level == 'area' else level}:{code}")
        if where is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return full_page(request, where)

    @app.get(BASE + "/fragment", include_in_schema=False)
    def fragment(request: Request) -> Response:
        lang = _lang(request)
        found = current_user(request)
        if found is None:
            return Response("login required", status_code=401, media_type="text/plain")
        raw_view = request.query_params.get("view")
        where = parse_view(raw_view) if raw_view else None
        if raw_view and where is None:
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            ctx = content_ctx(found[0], lang, where)
        except HubError:
            return Response("not found", status_code=404, media_type="text/plain")
        return render("site.html" if where is not None and where.role == "site" else "content.html", lang, **ctx)

    @app.get(BASE + "/data.json", include_in_schema=False)
    def data_json(request: Request) -> Response:
        found = current_user(request)
        if found is None:
            return JSONResponse(
                {"code": "dashboard.login_required", "message": "login required", "detail": {}},
                status_code=401,
            )
        raw_view = request.query_params.get("view")
        where = parse_view(raw_view) if raw_view else None
        if raw_view and where is None:
            return JSONResponse({"code": "dashboard.not_found", "message": "no such view", "detail": {}}, status_code=404)
        try:
            board = data.build(db, found[0].scope, now=clock(), view=where)
        except HubError as exc:
            return JSONResponse({"code": exc.code, "message": exc.message, "detail": {}}, status_code=exc.status)
        return JSONResponse(board.as_json(), headers={"Cache-Control": "no-store"})



def _vaccine_name(code: str, lang: view.Lang) -> str:
    v = refdata.vaccines().get(code)
    if v is None:
        return code
    return v.name_vi if lang == "vi" and v.name_vi else v.name


_VIEW_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def parse_view(raw: str) -> auth.Scope | None:
    """``province:75``, ``district:<area>`` or ``site:<code>`` (a drill-down), else None."""
    role, _, code = raw.partition(":")
    if not _VIEW_CODE.match(code):
        return None
    if role == "province":
        return auth.Scope("province", code)
    if role == "district":
        return auth.Scope("district", code.upper())
    if role == "site":
        return auth.Scope("site", code.upper())
    return None


def view_param(where: auth.Scope | None) -> str:
    """The ``view`` query value that brings the same drill-down back (for the refresh)."""
    return "" if where is None else f"{where.role}:{where.code}"


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (no python-multipart dependency: three short fields only)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}
