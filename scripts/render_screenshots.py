#!/usr/bin/env python3
"""Render every screen and dialog of the station app, in Vietnamese and English, at 1366×768.

    QT_QPA_PLATFORM=offscreen python scripts/render_screenshots.py [--out docs/screenshots]

Builds a throwaway demo station (in-process keyring, fixed clock), walks a morning's
work through the clinic (a review item and a refused op for the sync screen), and grabs
each screen as ``<lang>-<nn>-<screen>.png``, an open dialog drawn over its window. The
walk is ``tests/ui/screens.py``, the one the fit test measures (``tests/ui/test_fit.py``):
what the pictures show is what the test checked. The texts that do not fit are printed
too. Look at every image after a change to the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keyring
from PySide6.QtWidgets import QApplication

from station.memkeyring import ProcessKeyring
from tests.ui.fit import problems
from tests.ui.screens import Clock, build_station, walk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    parser.add_argument("--lang", choices=("vi", "en"), action="append", help="only this language (repeatable)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(ProcessKeyring())  # throwaway demo key, never the OS keyring
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="tramtiem-shots-") as tmp:
        st = build_station(Path(tmp) / "station", Clock())
        try:
            for lang in args.lang or ["vi", "en"]:
                for n, screen in enumerate(walk(qapp, st, lang), start=1):
                    path = args.out / f"{lang}-{n:02d}-{screen.name}.png"
                    screen.pixmap().save(str(path), "PNG")
                    print(path.name)
                    for top in (screen.window, screen.dialog):
                        for p in problems(top) if top is not None else []:
                            bad += 1
                            print(f"  does not fit: {p}")
        finally:
            st.close()
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
