"""Typed UI settings, declared once, stored as JSON in the station's data directory.

The file is ``ui-settings.json`` next to ``station.json``. Unknown keys are
kept out, bad values fall back to defaults (a hand-edited file must never stop
a site from starting), and writes are atomic (tmp file + replace).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "ui-settings.json"
SETTINGS_VERSION = 1
LANGUAGES = ("vi", "en")
IDLE_MIN, IDLE_MAX = 1, 120
BACKUP_MIN, BACKUP_MAX = 5, 240
# Slip layouts (ui.printing.PAGES): A4, A5, and an 80 mm receipt roll.
SLIP_LAYOUTS = ("a4", "a5", "receipt80")
_HUB_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(?::\d{1,5})?(?:/[\w\-./]*)?$")


@dataclass(frozen=True, slots=True)
class UiSettings:
    """Everything a site may change from the Admin workspace."""

    language: str = "vi"
    idle_lock_minutes: int = 5
    hub_url: str = ""
    backup_minutes: int = 15  # automatic encrypted backups while the app runs (station.backup)
    # The slip's printer (its OS name, chosen once in the print dialog; "" = ask) and paper.
    slip_printer: str = ""
    slip_layout: str = "a4"
    version: int = SETTINGS_VERSION


def check(values: UiSettings) -> dict[str, str]:
    """Field -> error code for invalid values (empty when valid)."""
    errors: dict[str, str] = {}
    if values.language not in LANGUAGES:
        errors["language"] = "settings.language_invalid"
    if not IDLE_MIN <= values.idle_lock_minutes <= IDLE_MAX:
        errors["idle_lock_minutes"] = "settings.idle_range"
    if values.hub_url and not _HUB_RE.match(values.hub_url):
        errors["hub_url"] = "settings.hub_url_invalid"
    if not BACKUP_MIN <= values.backup_minutes <= BACKUP_MAX:
        errors["backup_minutes"] = "settings.backup_range"
    if values.slip_layout not in SLIP_LAYOUTS:
        errors["slip_layout"] = "settings.slip_layout_invalid"
    if len(values.slip_printer) > 200:
        errors["slip_printer"] = "settings.slip_printer_invalid"
    return errors


def _coerce(raw: dict[str, Any]) -> UiSettings:
    default = UiSettings()
    kwargs: dict[str, Any] = {}
    for f in fields(UiSettings):
        if f.name not in raw:
            continue
        value = raw[f.name]
        expected = type(getattr(default, f.name))
        if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
            kwargs[f.name] = value
    candidate = replace(default, **kwargs)
    bad = check(candidate)
    # Reset only the invalid fields; keep the good ones.
    return replace(candidate, **{name: getattr(default, name) for name in bad})


def settings_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load_settings(data_dir: Path) -> UiSettings:
    path = settings_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiSettings()
    except (OSError, ValueError):
        log.warning("unreadable %s; using defaults", FILE_NAME)
        return UiSettings()
    if not isinstance(raw, dict):
        return UiSettings()
    return _coerce(raw)


def save_settings(data_dir: Path, values: UiSettings) -> None:
    errors = check(values)
    if errors:
        raise ValueError(f"invalid settings: {sorted(errors)}")
    path = settings_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(values), indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
