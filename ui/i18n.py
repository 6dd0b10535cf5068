"""Qt Linguist translations: load the compiled ``.qm``; rebuild stale ones in a checkout.

Source strings are English; ``ui/i18n/tramtiem_vi.ts`` holds the Vietnamese
(the default language) and ``tramtiem_en.ts`` the English. The ``.qm`` files
are committed so a fresh clone and the bundle work without Qt's tools; in a
development checkout a ``.ts`` newer than its ``.qm`` is recompiled at start
(``scripts/build_translations.py`` does the same by hand, plus ``lupdate``).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("vi", "en")


def QT_TRANSLATE_NOOP(context: str, source: str) -> str:
    """Mark ``source`` for translation in ``context``; translated later at display time.

    Qt's own has an ``object`` return type in the PySide6 stubs; this typed twin
    keeps the tables ``dict[str, str]``. lupdate matches the call by name.
    """
    return source


def ts_path(lang: str) -> Path:
    return I18N_DIR / f"tramtiem_{lang}.ts"


def qm_path(lang: str) -> Path:
    return I18N_DIR / f"tramtiem_{lang}.qm"


def qt_ts_path(lang: str) -> Path:
    """Qt's own texts (file dialogs, context menus): Qt ships no Vietnamese, so we do."""
    return I18N_DIR / f"qt_{lang}.ts"


def qt_qm_path(lang: str) -> Path:
    return I18N_DIR / f"qt_{lang}.qm"


def _pairs(lang: str) -> list[tuple[Path, Path]]:
    return [(ts_path(lang), qm_path(lang)), (qt_ts_path(lang), qt_qm_path(lang))]


def stale_languages() -> list[str]:
    out = []
    for lang in LANGUAGES:
        for ts, qm in _pairs(lang):
            if ts.exists() and (not qm.exists() or qm.stat().st_mtime < ts.stat().st_mtime):
                out.append(lang)
                break
    return out


def lrelease_tool() -> str | None:
    return shutil.which("pyside6-lrelease") or shutil.which("lrelease")


def compile_languages(langs: list[str] | None = None) -> list[str]:
    """Compile ``.ts`` → ``.qm`` with lrelease; returns the languages compiled."""
    tool = lrelease_tool()
    if tool is None:
        return []
    done = []
    for lang in langs if langs is not None else list(LANGUAGES):
        ok = True
        for ts, qm in _pairs(lang):
            if not ts.exists():
                continue
            proc = subprocess.run(
                [tool, "-silent", str(ts), "-qm", str(qm)],
                capture_output=True, text=True, timeout=60, check=False,
            )
            if proc.returncode != 0:
                ok = False
                log.warning("lrelease failed for %s", ts.name)
        if ok:
            done.append(lang)
    return done


def compile_stale() -> list[str]:
    """In a checkout, bring stale ``.qm`` files up to date (cheap when nothing changed)."""
    stale = stale_languages()
    return compile_languages(stale) if stale else []


def install(app: QCoreApplication, lang: str, previous: QTranslator | None = None) -> QTranslator:
    """Replace the UI translator; English falls back to the source strings.

    Qt's own texts (file dialogs, the right-click menu of a text box) get a second
    translator, owned by the first: removing one removes both.
    """
    if previous is not None:
        for child in previous.findChildren(QTranslator):
            app.removeTranslator(child)
        app.removeTranslator(previous)
    translator = QTranslator(app)
    if lang not in LANGUAGES:
        lang = "vi"
    if not translator.load(str(qm_path(lang))):
        log.warning("no compiled translation for %s", lang)
    if qt_qm_path(lang).exists():
        qt = QTranslator(translator)
        if qt.load(str(qt_qm_path(lang))):
            app.installTranslator(qt)
    app.installTranslator(translator)
    QLocale.setDefault(QLocale(QLocale.Language.Vietnamese if lang == "vi" else QLocale.Language.English))
    return translator
