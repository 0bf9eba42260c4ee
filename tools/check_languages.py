"""Check ``stilts/reports/languages.csv`` against CLDR, through the langcodes package.

Why this exists: the language table is hand-transcribed data (WALS family and genus, Joshi et
al. 2020 resource classes, ISO codes and scripts). Family, genus and resource class were
copied from their sources (see the docstring of ``stilts/reports/languages.py``) and are covered
by spot checks in ``tests/test_benchmark.py``; codes, names and scripts have a
maintained machine-readable source, CLDR, which this script compares every row against:

* ``iso639_1`` -> ``iso639_3``: the ISO 639-2/T code langcodes gives for the 639-1 code;
* ``name``: CLDR's English name;
* ``script_code``: CLDR's likely script for the language (``Language.maximize()``).

langcodes is not a stilts dependency (nothing at run time needs it); install it beside stilts
to run this check:

    pip install langcodes language_data
    python tools/check_languages.py

It prints each disagreement and exits 1 if any is not one of the deliberate ones listed in
``EXPECTED`` below.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "stilts" / "reports" / "languages.csv"

EXPECTED = {
    # ISO 639's name, the one XTREME uses; CLDR has since renamed it Bangla.
    ("bn", "name"): "Bangla",
    # CLDR folds Tagalog into Filipino (tl -> fil); XTREME's tl data is Tagalog.
    ("tl", "iso639_3"): "fil",
    ("tl", "name"): "Filipino",
    # Chinese in XTREME mixes simplified and traditional text: the umbrella script Hani, not
    # CLDR's likely Hans.
    ("zh", "script_code"): "Hans",
}


def main() -> int:
    try:
        import langcodes
    except ImportError:
        print("needs langcodes: pip install langcodes language_data", file=sys.stderr)
        return 2
    with TABLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    unexpected = 0
    for row in rows:
        code = row["iso639_1"] or row["iso639_3"]
        cldr = langcodes.Language.get(code)
        found = {
            "iso639_3": cldr.to_alpha3(),
            "name": cldr.display_name("en"),
            "script_code": cldr.maximize().script,
        }
        for column, value in found.items():
            if value == row[column]:
                continue
            deliberate = EXPECTED.get((code, column)) == value
            unexpected += not deliberate
            note = "deliberate" if deliberate else "MISMATCH"
            print(f"{code}: {column} is {row[column]!r}, CLDR says {value!r} ({note})")
    print(f"{len(rows)} languages checked, {unexpected} unexpected differences")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
