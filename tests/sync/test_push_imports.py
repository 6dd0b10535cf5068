"""What a sync with ops to send loads and builds before its first push (issue 15, phase 10).

``tramtiem sync`` waits at its first push for the preload thread's import of ``sync.push``
(pydantic and the protocol models). That import no longer loads the op payload models
(``kernel.ops``: the hub's, a station's sync never validates a payload with them) nor builds
models the push does not use at once; it builds the push request's validator, which the
first batch needs at once. ``ui.cli.run`` turns pydantic's plugin discovery off (an
entry-point scan of every installed package at the first validator; Trạm Tiêm uses no
plugin). The hub builds every model at its start, so its first request of each kind builds
none. Real parts: a real hub over HTTP on 127.0.0.1, a station enrolled through ``tramtiem
enroll``, the CLI in a fresh interpreter as the command runs it, a real pydantic plugin
(an installed package's entry point) that says when it is loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.sync.builders import site_hub
from tests.sync.test_sync_start_work import _cli, _enrolled_desk

SITE = "DN-IMPORTS-01"

# ``tramtiem sync --once --json`` through ``ui.cli.run`` (the console script's entry),
# noting at its first push what is loaded and built; an exit handler prints the notes
# (``run`` ends a sync with ``os._exit`` once the exit handlers ran).
PROBE = """
import atexit, json, sys
import ui.cli
from sync.client import HubClient
at_push = []
real = HubClient.push
def push(self, *a, **k):
    if not at_push:
        from sync.protocol import AckDetail, PushRequest
        at_push.append({"kernel.ops": "kernel.ops" in sys.modules,
                        "request_built": PushRequest.__pydantic_complete__,
                        "ack_detail_built": AckDetail.__pydantic_complete__})
    return real(self, *a, **k)
HubClient.push = push
atexit.register(lambda: print(json.dumps({"at_push": at_push}), flush=True))
sys.argv = ["tramtiem", "sync", "--once", "--json", "--data-dir", sys.argv[1]]
ui.cli.run()
"""

# A pydantic plugin as a package installs one: an entry point of the ``pydantic`` group.
PLUGIN = """
import os, pathlib
pathlib.Path(os.environ["IMP10_PLUGIN_MARK"]).write_text("loaded")
class _Plugin:
    def new_schema_validator(self, *args, **kwargs):
        return None, None, None
plugin = _Plugin()
"""


def _plugin_dir(tmp_path: Path) -> Path:
    d = tmp_path / "plugins"
    (d / "imp10plugin-1.0.dist-info").mkdir(parents=True)
    (d / "imp10plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: imp10plugin\nVersion: 1.0\n")
    (d / "imp10plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pydantic]\nimp10 = imp10plugin:plugin\n")
    (d / "imp10plugin.py").write_text(PLUGIN)
    return d


def test_the_first_push_builds_its_request_without_payload_models_or_plugin_discovery(
    tmp_path: Path,
) -> None:
    mark = tmp_path / "plugin-loaded"
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"), IMP10_PLUGIN_MARK=str(mark),
               PYTHONPATH=os.pathsep.join([str(_plugin_dir(tmp_path)), os.environ.get("PYTHONPATH", "")]))
    for name in ("TRAMTIEM_CRASH_AT", "PYDANTIC_DISABLE_PLUGINS"):
        env.pop(name, None)
    # The plugin is live: a process that builds a validator without ui.cli.run loads it.
    r = _cli(["-c", "import sync.protocol"], env)
    assert r.returncode == 0, r.stderr
    assert mark.read_text() == "loaded"
    mark.unlink()

    desk = tmp_path / "a"
    with site_hub(tmp_path, SITE) as h:
        _enrolled_desk(h, SITE, desk, env, people=20, seed=4)
        mark.unlink(missing_ok=True)  # the commands above go through ui.cli.run as well
        r = _cli(["-c", PROBE, str(desk)], env)
        assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    report = json.loads(lines[-2])
    assert report["ok"] and report["pushed"] > 0 and report["pending_left"] == 0
    assert not mark.exists()  # before: the plugin was looked for and loaded
    # Before: kernel.ops loaded with sync.protocol, the answer's detail model built at its
    # import (the request at the first push's encoding: test_the_hub_builds_every_…).
    assert json.loads(lines[-1])["at_push"] == [
        {"kernel.ops": False, "request_built": True, "ack_detail_built": False}
    ]


# Every pydantic model of the wire's modules, and whether it is built (a fresh interpreter).
UNBUILT = """
import json, sys, tempfile
from pydantic import BaseModel
import hub.app
from hub.settings import HubSettings
from kernel import ops
from sync import protocol, revoked_certs
def unbuilt():
    return sorted(f"{m.__name__}.{n}" for m in (protocol, ops, revoked_certs) for n, v in vars(m).items()
                  if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == m.__name__
                  and not v.__pydantic_complete__)
before = unbuilt()
d = tempfile.mkdtemp()
hub.app.create_app(HubSettings.from_env(f"sqlite:///{d}/hub.db", migrate_on_start=True))
print(json.dumps({"before": before, "after": unbuilt()}))
"""


def test_the_hub_builds_every_wire_model_at_its_start(tmp_path: Path) -> None:
    env = dict(os.environ)
    r = _cli(["-c", UNBUILT], env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    # Imported, most wait for their first use (the station's way) but the push request (a
    # station's first push encodes one at once); the app builds them all.
    assert "sync.protocol.TallyRequest" in got["before"] and "sync.protocol.AckDetail" in got["before"]
    assert "sync.protocol.PushRequest" not in got["before"]
    assert got["after"] == []  # before: 39 left to the hub's first request of each kind


# The same inputs through every model: built at first use, built up front (the hub's
# ``build_models``), and as an eagerly built copy of its definition. Printed: each input's
# answer (the dump, or the errors with their messages, locations and bounds).
EQUIVALENCE = """
import json, sys
from pydantic import BaseModel, ConfigDict, ValidationError
from kernel import ops
from sync import protocol, revoked_certs
mode = sys.argv[1]
if mode == "upfront":
    import hub.app
    hub.app.build_models()
models = [v for m in (protocol, ops, revoked_certs) for n, v in sorted(vars(m).items())
          if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == m.__name__]
VALUES = [None, "", "x" * 9000, "ABC-123", -1, 0, 2**70, 1.5, True, [], ["a"] * 5001, {}, {"k": 1},
          "2026-12-04T10:00:00+07:00", "1899-12-31", "2026-02-29", "0190a6b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b"]
OP = {"op_id": "0190a6b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b", "op_seq": 1, "op_type": "record_dose",
      "entity_type": "dose", "entity_id": "d-1", "payload": {"a": 1}, "hlc": "1733300000000-00001",
      "recorded_at": "2026-12-04T10:00:00+07:00", "user_id": "u1"}
VALID = {
    "PushRequest": {"station_id": OP["op_id"], "replica_epoch": "e1", "schema_version": "0012",
                    "sent_at": OP["recorded_at"], "ops": [OP, dict(OP, op_seq=0)]},
    "Op": OP,
    "PushResponse": {"results": [{"op_id": "a", "status": "applied", "server_seq": 3,
                                  "detail": {"no_echo": True, "lww": [{"field": "phone", "won": False}]}}],
                     "expected_next_op_seq": 2, "hub_epoch": "h", "server_time": "t", "clock_skew_ms": -5},
    "AckDetail": {"entity_changed": False, "noop": ["phone"], "applied": ["x"] * 41, "extra": 1},
    "TallyRow": {"day": "2026-12-04", "vaccine_code": "MR", "entered": 3, "pending": 1, "acknowledged": 2},
}
def answer(model, data):
    try:
        return {"ok": model.model_validate(data).model_dump(mode="json")}
    except ValidationError as exc:
        return {"errors": exc.errors(include_url=False), "text": str(exc)}
def answers(pick):
    out = {}
    for m in models:
        model = pick(m)
        inputs = [{}, {"unknown_key": 1}] + [{f: v} for f in m.model_fields for v in VALUES]
        if m.__name__ in VALID:
            base = VALID[m.__name__]
            inputs.append(base)
            inputs += [dict(base, **{f: v}) for f in m.model_fields for v in VALUES]
        out[m.__name__] = [answer(model, d) for d in inputs]
        out[m.__name__ + ".json"] = json.dumps(model.model_json_schema(), sort_keys=True)
    return out
got = answers(lambda m: m)
if mode == "eager":  # each definition again, built at once (its class's name kept)
    got = answers(lambda m: type(m.__name__, (m,), {"__module__": m.__module__, "__doc__": m.__doc__,
                                                    "model_config": ConfigDict(defer_build=False)}))
print(json.dumps(got, sort_keys=True, default=repr))
"""


def test_every_model_validates_the_same_built_at_first_use_or_up_front(tmp_path: Path) -> None:
    env = dict(os.environ)
    outs = {}
    for mode in ("first_use", "upfront", "eager"):
        r = _cli(["-c", EQUIVALENCE, mode], env)
        assert r.returncode == 0, r.stderr
        outs[mode] = r.stdout
    assert outs["first_use"] == outs["upfront"] == outs["eager"]
    got = json.loads(outs["first_use"])
    # The inputs reach the bounds: a refused op of a request, a too-long list, extras kept.
    assert any("op_seq" in json.dumps(a["errors"]) for a in got["PushRequest"] if "errors" in a)
    assert any(a.get("ok", {}).get("extra") == 1 for a in got["AckDetail"])
    assert len(got) > 60
