"""Every reason the hub can refuse an op with has a text in both languages.

The Sync workspace shows a refused op with ``messages.text_for(reason)``; a reason
without a text shows as a bare code (``registration.person_unknown``). The reasons
are read from the hub's own source, so a new one without a text fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ui import i18n, messages

ROOT = Path(__file__).resolve().parents[2]
# Rejected("code", …), a person look-up's reason, a ledger answer's reason=.
_REASON = re.compile(r'(?:Rejected\(\s*|require_person\([^)]*?|reason=)"([a-z_]+\.[a-z_]+)"')


def hub_reasons() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "hub").rglob("*.py"):
        found |= set(_REASON.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_refusal_reason_has_a_text_in_both_languages(qapp: QApplication) -> None:
    reasons = hub_reasons()
    # The parse found the reasons issue 11 added, and the older ones.
    assert {"auth.actor_mismatch", "dose.lot_unknown", "registration.person_unknown", "op.id_reused"} <= reasons
    texts: dict[str, dict[str, str]] = {}
    translator = None
    try:
        for lang in ("en", "vi"):
            translator = i18n.install(qapp, lang, translator)
            texts[lang] = {r: messages.text_for(r, {"field": "vaccinator_id"}) for r in sorted(reasons)}
    finally:
        i18n.install(qapp, "vi", translator)
    bare = [r for r in sorted(reasons) if texts["en"][r] == r]
    assert bare == [], bare
    untranslated = [r for r in sorted(reasons) if texts["vi"][r] == texts["en"][r]]
    assert untranslated == [], untranslated
