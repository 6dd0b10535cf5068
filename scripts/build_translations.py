#!/usr/bin/env python3
"""Update the Qt Linguist files from the UI sources and compile them.

    python scripts/build_translations.py            # lupdate + fill English + lrelease
    python scripts/build_translations.py --check    # fail if a Vietnamese string is untranslated
    python scripts/build_translations.py --vi new.json   # also set Vietnamese texts {"source": "bản dịch"}

Source strings are English (``self.tr("…")``, ``QT_TRANSLATE_NOOP``). The
Vietnamese file is translated by people (Qt Linguist, or any editor); the
English file is filled automatically with the source text so that it is
complete and explicit. The compiled ``.qm`` files are committed: the app and
the bundle load them without Qt's tools installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
I18N = UI / "i18n"
LANGS = ("vi", "en")


def sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in UI.rglob("*.py") if "__pycache__" not in p.parts)


def tool(name: str) -> str:
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install PySide6 (pyside6-{name})")
    return found


def lupdate(langs: tuple[str, ...] = LANGS) -> None:
    for lang in langs:
        ts = I18N / f"tramtiem_{lang}.ts"
        cmd = [tool("lupdate"), "-no-obsolete", "-locations", "none", "-source-language", "en",
               "-target-language", lang, *sources(), "-ts", str(ts.relative_to(ROOT))]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)


def fill_english() -> None:
    """English translations = the source text, marked finished (plural forms too)."""
    ts = I18N / "tramtiem_en.ts"
    tree = ET.parse(ts)
    for msg in tree.iter("message"):
        source = msg.findtext("source") or ""
        tr = msg.find("translation")
        assert tr is not None
        if msg.get("numerus") == "yes":
            forms = tr.findall("numerusform")
            if not forms:
                forms = [ET.SubElement(tr, "numerusform"), ET.SubElement(tr, "numerusform")]
            for f in forms:
                if not (f.text or "").strip():
                    f.text = source
        elif not (tr.text or "").strip():
            tr.text = source
        tr.attrib.pop("type", None)
    tree.write(ts, encoding="utf-8", xml_declaration=True)


def set_vietnamese(texts: dict[str, str]) -> int:
    """Put the given translations (source text -> Vietnamese) into the Vietnamese file."""
    ts = I18N / "tramtiem_vi.ts"
    tree = ET.parse(ts)
    done = 0
    for msg in tree.iter("message"):
        source = msg.findtext("source") or ""
        if source not in texts:
            continue
        tr = msg.find("translation")
        assert tr is not None
        if msg.get("numerus") == "yes":
            for f in tr.findall("numerusform") or [ET.SubElement(tr, "numerusform")]:
                f.text = texts[source]
        else:
            tr.text = texts[source]
        tr.attrib.pop("type", None)
        done += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return done


def unfinished(lang: str) -> list[str]:
    tree = ET.parse(I18N / f"tramtiem_{lang}.ts")
    out = []
    for ctx in tree.iter("context"):
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            if tr is None or tr.get("type") in ("unfinished", "vanished", "obsolete"):
                out.append(f"{ctx.findtext('name')}: {msg.findtext('source')}")
    return out


def lrelease() -> None:
    for lang in LANGS:
        subprocess.run([tool("lrelease"), "-silent", str(I18N / f"tramtiem_{lang}.ts"),
                        "-qm", str(I18N / f"tramtiem_{lang}.qm")], check=True)
        # Qt's own dialogs and menus: Qt ships no Vietnamese; qt_vi.ts is ours (edited by hand).
        qt_ts = I18N / f"qt_{lang}.ts"
        if qt_ts.exists():
            subprocess.run([tool("lrelease"), "-silent", str(qt_ts), "-qm", str(I18N / f"qt_{lang}.qm")],
                           check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that Vietnamese is complete")
    parser.add_argument("--vi", type=Path, help="JSON object: English source text -> Vietnamese text")
    args = parser.parse_args()
    if args.check:
        missing = unfinished("vi")
        for m in missing:
            print("untranslated:", m)
        return 1 if missing else 0
    lupdate()
    fill_english()
    if args.vi:
        import json

        texts = json.loads(args.vi.read_text(encoding="utf-8"))
        print(f"{set_vietnamese(texts)} Vietnamese texts set from {args.vi}")
        lupdate(("vi",))  # back to lupdate's own layout (ElementTree writes it differently)
    lrelease()
    missing = unfinished("vi")
    print(f"translations compiled; {len(missing)} Vietnamese strings still untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
