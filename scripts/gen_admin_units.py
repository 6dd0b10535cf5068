"""Generate ``kernel/data/admin_units.json`` from the PyPI package ``vietnam-provinces``.

The package is GPL-3.0-or-later and is **not** a dependency of the project: it is
installed into a throwaway virtualenv only to run this script, and the output is
a plain data file (see ``kernel/data/admin_units.SOURCE.md`` for the licence note).

How to run (from the repository root)::

    # vietnam-provinces >= 2026.2 needs Python >= 3.12 (pip on 3.11 silently
    # falls back to 2025.10.1, which lacks the pre-2025 conversion tables)
    python3.12 -m venv /tmp/vp
    /tmp/vp/bin/pip install 'vietnam-provinces==2026.9.0'
    /tmp/vp/bin/python scripts/gen_admin_units.py            # writes kernel/data/admin_units.json
    /tmp/vp/bin/python scripts/gen_admin_units.py --check    # only verify counts, write nothing

Output (compact JSON, no indentation)::

    {"source": str, "package": str, "package_version": str, "as_of": "YYYY-MM-DD",
     "generated": "YYYY-MM-DD",
     "provinces": [[code, name, kind], ...],             # code "01".."96" (2 digits)
     "wards": [[code, province_code, name, kind], ...],  # code 5 digits, e.g. "00004"
     "legacy_provinces": [[old_code, old_name, [new_code, ...]], ...]}  # the 63 pre-2025 provinces;
                       # several new codes when the old province was split: main one first
                       # (by number of its old wards that went there)

``kind`` is one of ``tinh``, ``thanh_pho`` (centrally-run city), ``xa``, ``phuong``,
``dac_khu``.  Names and kinds come from the package's bundled
``data/nested-divisions.json`` (not from its Python lookup tables, which in 2026.9.0
disagree on three provinces; see the SOURCE note).  Everything is keyed on codes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

EXPECTED_VERSION = "2026.9.0"
EXPECTED_PROVINCES = 34
EXPECTED_WARDS = 3321
EXPECTED_LEGACY_PROVINCES = 63

KINDS = {
    "tỉnh": "tinh",
    "thành phố trung ương": "thanh_pho",
    "xã": "xa",
    "phường": "phuong",
    "đặc khu": "dac_khu",
}

OUT = Path(__file__).resolve().parent.parent / "kernel" / "data" / "admin_units.json"


def build() -> dict[str, Any]:
    import vietnam_provinces as vp  # only available in the throwaway venv

    version = str(vp.__version__)
    if version != EXPECTED_VERSION:
        print(
            f"warning: vietnam-provinces {version} != pinned {EXPECTED_VERSION}; "
            "review the data and update EXPECTED_VERSION and admin_units.SOURCE.md",
            file=sys.stderr,
        )
    nested = json.loads(Path(vp.NESTED_DIVISIONS_JSON_PATH).read_text(encoding="utf-8"))

    provinces: list[list[str]] = []
    wards: list[list[str]] = []
    for p in sorted(nested, key=lambda p: int(p["code"])):
        pcode = f"{int(p['code']):02d}"
        provinces.append([pcode, p["name"], KINDS[p["division_type"]]])
        for w in sorted(p["wards"], key=lambda w: int(w["code"])):
            wards.append([f"{int(w['code']):05d}", pcode, w["name"], KINDS[w["division_type"]]])

    legacy: list[list[Any]] = []
    try:
        from vietnam_provinces._province_conversion_2025 import OLD_TO_NEW
        from vietnam_provinces.legacy import Province as LegacyProvince
    except ImportError:  # package too old: omit the map
        OLD_TO_NEW = None
    if OLD_TO_NEW is not None:
        from collections import Counter

        from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW as WARDS_OLD_TO_NEW

        # How many old wards of each old province went to each new province: the
        # new provinces of a split old province are listed main destination first.
        weight: Counter[tuple[int, int]] = Counter()
        for wentry in WARDS_OLD_TO_NEW.values():
            for nw in wentry.new_wards:
                weight[(int(wentry.old_ward.province_code), int(nw.province_code))] += 1
        names = {int(lp.code): lp.name for lp in LegacyProvince.iter_all()}
        for old, entry in sorted(OLD_TO_NEW.items()):
            news = sorted(
                (int(n.code) for n in entry.new_provinces), key=lambda n: (-weight[(old, n)], n)
            )
            legacy.append([f"{int(old):02d}", names[int(old)], [f"{n:02d}" for n in news]])

    out: dict[str, Any] = {
        "source": "General Statistics Office/NSO danhmuchanhchinh.nso.gov.vn via PyPI vietnam-provinces",
        "package": "vietnam-provinces",
        "package_version": version,
        "as_of": str(vp.__data_version__),
        "generated": dt.date.today().isoformat(),
        "provinces": provinces,
        "wards": wards,
    }
    if legacy:
        out["legacy_provinces"] = legacy
    return out


def check(data: dict[str, Any]) -> list[str]:
    problems = []
    if len(data["provinces"]) != EXPECTED_PROVINCES:
        problems.append(f"provinces: {len(data['provinces'])} != {EXPECTED_PROVINCES}")
    if len(data["wards"]) != EXPECTED_WARDS:
        problems.append(f"wards: {len(data['wards'])} != {EXPECTED_WARDS}")
    pcodes = {p[0] for p in data["provinces"]}
    if any(w[1] not in pcodes for w in data["wards"]):
        problems.append("ward with unknown province code")
    if len({w[0] for w in data["wards"]}) != len(data["wards"]):
        problems.append("duplicate ward code")
    legacy = data.get("legacy_provinces", [])
    if legacy and len(legacy) != EXPECTED_LEGACY_PROVINCES:
        problems.append(f"legacy provinces: {len(legacy)} != {EXPECTED_LEGACY_PROVINCES}")
    if any(c not in pcodes for row in legacy for c in row[2]):
        problems.append("legacy map points to an unknown province")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify only, write nothing")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data = build()
    problems = check(data)
    for p in problems:
        print("error:", p, file=sys.stderr)
    if problems:
        return 1
    if not args.check:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(text)} chars)")
    print(
        f"{len(data['provinces'])} provinces, {len(data['wards'])} wards, "
        f"{len(data.get('legacy_provinces', []))} legacy provinces "
        f"(vietnam-provinces {data['package_version']}, data {data['as_of']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
