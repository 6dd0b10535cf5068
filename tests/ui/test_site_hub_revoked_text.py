"""The desk says a revoked site hub certificate in words IT staff act on, in both languages."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui import i18n, messages


def test_a_revoked_site_hub_has_its_own_text_in_both_languages(qapp: QApplication) -> None:
    texts: dict[str, tuple[str, str]] = {}
    translator = None
    try:
        for lang in ("en", "vi"):
            translator = i18n.install(qapp, lang, translator)
            texts[lang] = (messages.text_for("hub.tls_site_hub_revoked"), messages.text_for("hub.tls_site_hub"))
    finally:
        i18n.install(qapp, "vi", translator)
    en, vi = texts["en"], texts["vi"]
    assert "revoked" in en[0] and en[0] != en[1]  # not "this is not your site's hub"
    assert "thu hồi" in vi[0] and vi[0] != en[0] and vi[0] != vi[1]
