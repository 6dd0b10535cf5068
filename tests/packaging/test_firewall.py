"""The Windows firewall for a site hub (issue 14): opened only when relay mode is chosen.

Windows cannot run here, so what is checked is the text Windows will run: the installer's
task (unchecked), the one elevated run of ``site-hub-firewall.cmd on`` under that task,
its removal at uninstall, and the netsh arguments: inbound, allow, the hub's default port
over TCP and mDNS over UDP, private and domain networks only (never public). The rendered
files must be what ``packaging/windows/firewall.py`` writes.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from hub.cli import _parser as hub_parser

ROOT = Path(__file__).resolve().parents[2]
WIN = ROOT / "packaging" / "windows"


def _firewall() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tt_firewall", WIN / "firewall.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _sections(iss: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in iss.splitlines():
        m = re.match(r"^\[(\w+)\]\s*$", line)
        if m:
            current = m.group(1)
            continue
        if line.strip() and not line.lstrip().startswith(";"):
            out.setdefault(current, []).append(line)
    return out


def test_the_rendered_installer_and_script_are_up_to_date() -> None:
    fw = _firewall()
    assert fw.main(["--check"]) == 0
    iss = (WIN / "tramtiem.iss").read_bytes()
    assert iss.startswith(b"\xef\xbb\xbf")  # Inno Setup reads Vietnamese only with the BOM
    assert fw.render_iss(iss.decode("utf-8-sig")) == iss.decode("utf-8-sig")  # idempotent


def test_the_firewall_is_opened_only_by_the_unchecked_site_hub_task() -> None:
    fw = _firewall()
    sec = _sections((WIN / "tramtiem.iss").read_text(encoding="utf-8-sig"))
    task = [t for t in sec["Tasks"] if t.startswith(f'Name: "{fw.TASK}"')]
    assert len(task) == 1 and task[0].rstrip().endswith("Flags: unchecked")
    assert "máy chủ điểm" in task[0] and "administrator" in task[0]
    runs = [r for r in sec["Run"] if "site-hub-firewall" in r or "netsh" in r]
    assert len(runs) == 1
    (run,) = runs
    assert f"Tasks: {fw.TASK}" in run and "Verb: runas" in run and 'Parameters: "on"' in run
    assert "shellexec" in run and "waituntilterminated" in run
    undo = [r for r in sec["UninstallRun"] if "site-hub-firewall" in r]
    assert len(undo) == 1 and 'Parameters: "off"' in undo[0] and f"Tasks: {fw.TASK}" in undo[0]
    assert "RunOnceId" in undo[0]
    assert any("site-hub-firewall.cmd" in f for f in sec["Files"])
    # Nothing else in the installer touches the firewall.
    text = (WIN / "tramtiem.iss").read_text(encoding="utf-8-sig")
    assert text.count("netsh") == 0 and text.count("site-hub-firewall.cmd") == 3


def test_the_rules_are_inbound_on_the_hubs_port_and_mdns_never_on_public_networks() -> None:
    fw = _firewall()
    default_port = hub_parser().parse_args(["serve"]).port
    assert default_port == fw.SITE_HUB_PORT
    assert fw.MDNS_PORT == 5353
    want = {("TCP", default_port), ("UDP", 5353)}
    assert {(r.protocol, r.port) for r in fw.RULES} == want
    for r in fw.RULES:
        args = r.add_args()
        assert args[:4] == ["advfirewall", "firewall", "add", "rule"]
        assert "dir=in" in args and "action=allow" in args
        assert f"protocol={r.protocol}" in args and f"localport={r.port}" in args
        profile = next(a for a in args if a.startswith("profile="))
        assert "public" not in profile and set(profile[8:].split(",")) == {"private", "domain"}
        assert r.delete_args() == ["advfirewall", "firewall", "delete", "rule", f"name={r.name}"]
        assert r.name.isascii()  # netsh under a non-Vietnamese code page


def test_the_admin_script_opens_on_on_and_closes_on_off() -> None:
    fw = _firewall()
    raw = (WIN / "site-hub-firewall.cmd").read_bytes()
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # cmd.exe line ends
    text = raw.decode("ascii")
    assert "net session" in text.splitlines()[5]  # refuses to run without an administrator
    on = text.split("\r\n:on\r\n", 1)[1].split("\r\n:off\r\n", 1)[0]
    off = text.split("\r\n:off\r\n", 1)[1].split("\r\n:fail\r\n", 1)[0]
    for r in fw.RULES:
        assert f'name="{r.name}"' in on and f'name="{r.name}"' in off
        assert f"localport={r.port}" in on and "profile=private,domain" in on
        assert "add rule" not in off
    assert on.count("add rule") == 2 and on.count("|| goto :fail") == 2
