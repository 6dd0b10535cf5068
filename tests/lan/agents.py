"""Small programs the LAN tests start inside network namespaces (``python -m tests.lan.agents``).

Each prints one line starting with a keyword the test waits for (``ready``, ``reply``,
``error``, ``result``...) and stops by itself after a bounded time, so a test that
dies never leaves one running for long (the LAN's teardown kills them anyway).

    tcp-echo HOST PORT              echo every connection's bytes back; "ready PORT"
    tcp-send HOST PORT TEXT         "reply TEXT" or "error CODE"
    [--life S] sniff IFACE FILE     every frame on IFACE appended to FILE (AF_PACKET)
    hub-https DIR HOST PORT SITE [--cert C --key K]
                                    the real hub app on SQLite in DIR, over TLS with C and K
                                    (plain HTTP without); "ready PORT CODE CODE CODE" (one-time
                                    enrollment codes of SITE)
    station URL CODE [--fp FP] [--ca FILE --site S] [--plain]
                                    enroll, push a walk-in with personal data, look it up:
                                    "result {json}"
    enroll URL CODE STATION_ID      "token T" (a station's token, for the security tests)
    probe URL [--token T]           a pull trusting any certificate: "result {json}"
    announce SITE PORT FP [--address A]   DNS-SD announcement of a site hub; "ready"
    browse SITE [--timeout S]       "result {json}" of sync.discovery.find_site_hub
    find-and-connect SITE [--timeout S] [--fp FP] [--ca FILE]
                                    every announced hub of SITE, each tried with the pinned
                                    context: "result {json}"
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

MAX_LIFE_S = 120.0  # every agent stops by itself after this


def _die_later(seconds: float = MAX_LIFE_S) -> None:
    t = threading.Timer(seconds, lambda: signal.raise_signal(signal.SIGTERM))
    t.daemon = True
    t.start()


def _say(*parts: object) -> None:
    print(*parts, flush=True)


# ---- plain TCP ---------------------------------------------------------------------


def tcp_echo(host: str, port: int) -> int:
    srv = socket.create_server((host, port), reuse_port=False)
    _say("ready", srv.getsockname()[1])
    srv.settimeout(1.0)
    deadline = time.monotonic() + MAX_LIFE_S
    while time.monotonic() < deadline:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(5)
            try:
                data = conn.recv(65536)
                conn.sendall(data)
            except OSError:
                pass
    return 0


def tcp_send(host: str, port: int, text: str) -> int:
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.settimeout(5)
            s.sendall(text.encode())
            _say("reply", s.recv(65536).decode())
    except OSError as exc:
        _say("error", type(exc).__name__)
    return 0


# ---- capture -----------------------------------------------------------------------


def sniff(iface: str, out: str, life_s: float = MAX_LIFE_S) -> int:
    """Every frame crossing ``iface`` (the bridge: both directions of every exchange)."""
    eth_p_all = 0x0003
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(eth_p_all))
    s.bind((iface, 0))
    s.settimeout(0.5)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _say("ready")
    deadline = time.monotonic() + life_s
    with open(out, "ab", buffering=0) as f:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                frame = s.recv(262144)  # a GSO frame may exceed 64 KiB
            except TimeoutError:
                continue
            f.write(len(frame).to_bytes(4, "big") + frame)
    return 0


# ---- TLS: the real hub and a station -------------------------------------------------


def hub_https(directory: str, host: str, port: int, site: str, cert: str | None, key: str | None) -> int:
    from hub import service
    from hub.app import HubSettings, create_app
    from hub.db import Database, migrate, sqlite_url
    from hub.ingest import utc_now
    from hub.server import HubServer, ServerLimits, uvicorn_config

    d = Path(directory)
    url = sqlite_url(d / "hub.db")
    migrate(url)
    db = Database(url)
    service.add_site(db, site, f"Điểm tiêm {site}", "75", now=utc_now())
    codes = [service.new_enrollment_code(db, site, ttl_hours=1, now=utc_now()) for _ in range(3)]
    db.dispose()
    config = uvicorn_config(
        create_app(HubSettings(database_url=url, migrate_on_start=False)), host, port, ServerLimits(),
        log_level="warning", access_log=False, ssl_certfile=cert, ssl_keyfile=key,
    )
    server = HubServer(config)

    def announce_ready() -> None:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if server.started:
            _say("ready", server.servers[0].sockets[0].getsockname()[1], *codes)

    threading.Thread(target=announce_ready, daemon=True).start()
    server.run()
    return 0


# The personal data the station sends: the capture must not show any of it.
PERSON = {"name": "Nguyễn Thị Đào Lantest", "phone": "0912345678", "cccd": "075301234567"}


def station(url: str, code: str, fp: str | None, ca: str | None, site: str | None, plain: bool) -> int:
    import uuid

    from sync.client import HubClient, HubError
    from sync.pinning import pinned_context
    from sync.protocol import EnrollRequest, PushRequest
    from tests.hub.ops import Desk

    ctx = None
    if not plain:
        ctx = pinned_context(
            fingerprint=fp, ca_pem=Path(ca).read_text() if ca else None, site_code=site
        )
    result: dict[str, Any] = {}
    # Plain JSON bodies (no gzip): the capture of an http:// exchange must show the text.
    with HubClient(url, connect_timeout_s=5, read_timeout_s=20, gzip_requests=False, ssl_context=ctx) as c:
        try:
            sid = str(uuid.uuid4())
            enrolled = c.enroll(EnrollRequest(code=code, station_id=sid))
            c.token = enrolled.token
            desk = Desk(None, enrolled.site_code, sid, enrolled.token)  # type: ignore[arg-type]
            ops = [desk.user(role) for role in ("supervisor", "clerk", "screener")]
            for op in ops:
                desk.users[op["payload"]["role"]] = op["entity_id"]
            ops.append(desk.walk_in(PERSON["cccd"], name=PERSON["name"], phone=PERSON["phone"]))
            pushed = c.push(PushRequest.model_validate(desk.body(ops)))
            result["push"] = sorted({r.status for r in pushed.results})
            found = c.person_by_id_number(PERSON["cccd"])
            result["found"] = found.found
            result["ok"] = True
        except HubError as exc:
            result = {"ok": False, "code": exc.code}
    _say("result", json.dumps(result))
    return 0


def enroll(url: str, code: str, station_id: str) -> int:
    """Enroll a station id with a one-time code; print its token (for the LAN security tests)."""
    from sync.client import HubClient
    from sync.protocol import EnrollRequest

    with HubClient(url, connect_timeout_s=5, read_timeout_s=20) as c:
        _say("token", c.enroll(EnrollRequest(code=code, station_id=station_id)).token)
    return 0


def probe(url: str, token: str | None) -> int:
    """A client that trusts any certificate (an attacker on the Wi-Fi): what does a pull give?

    Raw HTTP (not HubClient, which refuses to send without a token): the site hub decides.
    """
    import http.client
    import ssl
    from urllib.parse import urlsplit

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port or 443, timeout=10, context=ctx)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", "/sync/v1/pull?cursor=0&limit=100", headers=headers)
        resp = conn.getresponse()
        body = json.loads(resp.read() or b"{}")
        if resp.status == 200:
            result: dict[str, Any] = {"ok": True, "changes": len(body.get("changes", []))}
        else:
            result = {"ok": False, "status": resp.status, "code": body.get("code")}
    except (OSError, ValueError) as exc:
        result = {"ok": False, "code": type(exc).__name__}
    finally:
        conn.close()
    _say("result", json.dumps(result))
    return 0


# ---- discovery -------------------------------------------------------------------------


def announce(site: str, port: int, fp: str, address: str | None) -> int:
    from sync import discovery

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with discovery.announce(site, port, fp, address=address):
        _say("ready")
        stop.wait(MAX_LIFE_S)
    return 0


def browse(site: str, timeout: float) -> int:
    from sync import discovery

    found = discovery.find_site_hub(site, timeout_s=timeout)
    _say("result", json.dumps(None if found is None else found.as_dict()))
    return 0


def find_and_connect(site: str, timeout: float, fp: str | None, ca: str | None) -> int:
    """Browse for every site hub of ``site``, then try each with the station's own trust."""
    from sync import discovery
    from sync.client import HubClient, HubError
    from sync.pinning import pinned_context

    hubs = discovery.browse(site, timeout_s=timeout, first=False)
    tried: dict[str, str] = {}
    for hub in hubs:
        ctx = pinned_context(fingerprint=fp, ca_pem=Path(ca).read_text() if ca else None,
                             site_code=site if ca else None)
        with HubClient(hub.url, connect_timeout_s=5, read_timeout_s=10, ssl_context=ctx) as c:
            try:
                tried[hub.addresses[0]] = c.health().status
            except HubError as exc:
                tried[hub.addresses[0]] = exc.code
    _say("result", json.dumps({"announced": {h.addresses[0]: h.fingerprint for h in hubs}, "tried": tried}))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests.lan.agents")
    p.add_argument("--life", type=float, default=MAX_LIFE_S, help="stop by itself after (seconds)")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("tcp-echo")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a = sub.add_parser("tcp-send")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("text")
    a = sub.add_parser("sniff")
    a.add_argument("iface")
    a.add_argument("out")
    a = sub.add_parser("hub-https")
    a.add_argument("dir")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("site")
    a.add_argument("--cert")
    a.add_argument("--key")
    a = sub.add_parser("station")
    a.add_argument("url")
    a.add_argument("code")
    a.add_argument("--fp")
    a.add_argument("--ca")
    a.add_argument("--site")
    a.add_argument("--plain", action="store_true")
    a = sub.add_parser("enroll")
    a.add_argument("url")
    a.add_argument("code")
    a.add_argument("station_id")
    a = sub.add_parser("probe")
    a.add_argument("url")
    a.add_argument("--token")
    a = sub.add_parser("announce")
    a.add_argument("site")
    a.add_argument("port", type=int)
    a.add_argument("fp")
    a.add_argument("--address")
    a = sub.add_parser("browse")
    a.add_argument("site")
    a.add_argument("--timeout", type=float, default=5.0)
    a = sub.add_parser("find-and-connect")
    a.add_argument("site")
    a.add_argument("--timeout", type=float, default=5.0)
    a.add_argument("--fp")
    a.add_argument("--ca")
    args = p.parse_args(argv)
    life = max(1.0, min(float(args.life), 900.0))
    _die_later(life)
    if args.cmd == "tcp-echo":
        return tcp_echo(args.host, args.port)
    if args.cmd == "tcp-send":
        return tcp_send(args.host, args.port, args.text)
    if args.cmd == "sniff":
        return sniff(args.iface, args.out, life)
    if args.cmd == "hub-https":
        return hub_https(args.dir, args.host, args.port, args.site, args.cert, args.key)
    if args.cmd == "station":
        return station(args.url, args.code, args.fp, args.ca, args.site, args.plain)
    if args.cmd == "enroll":
        return enroll(args.url, args.code, args.station_id)
    if args.cmd == "probe":
        return probe(args.url, args.token)
    if args.cmd == "announce":
        return announce(args.site, args.port, args.fp, args.address)
    if args.cmd == "find-and-connect":
        return find_and_connect(args.site, args.timeout, args.fp, args.ca)
    return browse(args.site, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
