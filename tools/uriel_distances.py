"""Regenerate ``stilts/reports/uriel_distances.csv``: each language's URIEL distances from English.

Why this exists: stilts analyses whether intermediate-task gains depend on how far a target
language is from English, typologically (syntax above all), genealogically and geographically.
The measure is URIEL (Littell et al. 2017, "URIEL and lang2vec: Representing languages as
typological, geographical, and phylogenetic vectors", EACL), read through the lang2vec package.
stilts must run offline and without lang2vec, so the derived numbers ship as data; this script
is the only way they are made (never edit the CSV by hand).

What lang2vec provides, and what this script computes
-----------------------------------------------------
The lang2vec release on PyPI, 1.1.2 (the newest there), has ``get_features()`` only: the URIEL
feature vectors of a language. It has **no** ``distance()`` function and ships none of the
precomputed distance tables; those (``distance(kind, lang1, lang2)`` over ``distances.zip``)
exist only in the project's GitHub repository, later than 1.1.2, and their maintainers'
tracker records that they cannot be reproduced from the released vectors (antonisa/lang2vec
issue #17). So the numbers here are not lang2vec's precomputed table: for each kind they are
the cosine distance, 1 - u.v / (|u| |v|), between the language's lang2vec 1.1.2 vector and
English's, for the feature set in ``FEATURE_SETS`` below:

* syntactic: ``syntax_knn``, 103 binary syntax features (WALS, SSWL, Ethnologue), with the
  values URIEL lacks predicted by URIEL's k-nearest-neighbour imputation, so every language has
  a complete vector (where URIEL's sources agree on an attested value the kNN vector keeps it:
  so for every feature of all 50 languages here, checked when this script was written);
* phonological: ``phonology_knn``, 28 features (WALS, Ethnologue), kNN-imputed likewise;
* inventory: ``inventory_knn``, 158 phoneme-inventory features (PHOIBLE), kNN-imputed;
* featural: the three above concatenated (``syntax_knn+phonology_knn+inventory_knn``);
* genetic: ``fam``, membership (0/1) in each of Glottolog's 3,718 families and subfamilies;
  languages sharing no family are at distance 1. The vector is empty (all zero) for an isolate
  (Basque) and for a code URIEL leaves unclassified, where cosine distance is undefined: the
  CSV leaves those cells empty;
* geographic: ``geo``, the language's distance from each of 299 fixed points on the Earth's
  surface. Its cosine distance orders languages by distance from English but is compressed
  near 0 (every component is positive); it is not URIEL's orthodromic distance.

Dimensions missing (``--``) in either vector are ignored, the convention lang2vec's maintainer
gives for URIEL distances (antonisa/lang2vec issue #7); the sets above have none missing.
Distances are rounded to 4 decimals. A cell is empty when lang2vec has no vector for the code
or the distance is undefined, never filled with a guess.

Codes: lang2vec is keyed by ISO 639-3 codes, using macrolanguage codes for several languages
(its WALS data is filed under ara, zho, msa, est, aze). For each language the script tries the
table's ``iso639_3`` and then its ``other_codes`` and uses the code with the most attested
(non-imputed) syntax features in ``syntax_average``, the table's ``iso639_3`` on a tie; the code
used is the CSV's ``iso639_3`` column, and the companion ``uriel_distances.md`` lists every
choice.

Run it beside lang2vec (not a stilts dependency; nothing at run time imports it):

    python -m venv /tmp/l2v && /tmp/l2v/bin/pip install lang2vec==1.1.2 setuptools
    /tmp/l2v/bin/python tools/uriel_distances.py           # rewrite the CSV and the .md
    /tmp/l2v/bin/python tools/uriel_distances.py --check   # exit 1 if the CSV is stale

It writes ``stilts/reports/uriel_distances.csv`` (columns in ``COLUMNS``, rows sorted by code) and
``stilts/reports/uriel_distances.md`` (what the numbers are, the codes used, the empty cells, and
the lang2vec version, date and command that made them).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import sys
from importlib import metadata
from pathlib import Path

import lang2vec.lang2vec as l2v
import numpy as np

REPORTS_DIR = Path(__file__).resolve().parents[1] / "stilts" / "reports"
LANGUAGES = REPORTS_DIR / "languages.csv"
OUT_CSV = REPORTS_DIR / "uriel_distances.csv"
OUT_MD = REPORTS_DIR / "uriel_distances.md"

ENGLISH = "eng"
FEATURE_SETS = {
    "syntactic": "syntax_knn",
    "genetic": "fam",
    "geographic": "geo",
    "phonological": "phonology_knn",
    "inventory": "inventory_knn",
    "featural": "syntax_knn+phonology_knn+inventory_knn",
}
KINDS = tuple(FEATURE_SETS)
COLUMNS = ("iso639_1", "iso639_3", *KINDS)
ATTESTED_SYNTAX = "syntax_average"  # what the code choice counts: attested, not imputed
DECIMALS = 4


def vector(code: str, feature_set: str) -> np.ndarray | None:
    """The lang2vec vector of `code` (NaN where missing), or None if lang2vec lacks the code."""
    try:
        # lang2vec prints notes to stdout for codes it knows only partially.
        with contextlib.redirect_stdout(io.StringIO()):
            values = l2v.get_features(code, feature_set)[code]
    except Exception:  # lang2vec raises a bare Exception for a code it does not know
        return None
    return np.array([np.nan if v == "--" else v for v in values], dtype=float)


def cosine_distance(u: np.ndarray, v: np.ndarray) -> float | None:
    """1 - cos(u, v) over the dimensions both have; None where undefined (a zero vector)."""
    shared = ~np.isnan(u) & ~np.isnan(v)
    u, v = u[shared], v[shared]
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norm == 0.0:
        return None
    distance = 1.0 - float(u @ v) / norm
    return round(min(1.0, max(0.0, distance)), DECIMALS)


def attested(code: str) -> int:
    values = vector(code, ATTESTED_SYNTAX)
    return -1 if values is None else int(np.sum(~np.isnan(values)))


def choose_code(row: dict[str, str]) -> tuple[str, dict[str, int]]:
    """The code to look up, and each candidate's count of attested syntax features."""
    candidates = [row["iso639_3"], *row["other_codes"].split()]
    counts = {code: attested(code) for code in candidates}
    best = max(candidates, key=lambda code: counts[code])  # first (iso639_3) on a tie
    if counts[best] < 0:
        raise SystemExit(f"lang2vec knows none of {candidates} ({row['name']})")
    return best, counts


def compute() -> tuple[list[dict[str, str]], list[str]]:
    """The CSV rows, and the Markdown lines listing code choices."""
    with LANGUAGES.open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    english = {kind: vector(ENGLISH, fs) for kind, fs in FEATURE_SETS.items()}
    rows, choices = [], []
    for lang in sorted(table, key=lambda r: r["iso639_1"] or r["iso639_3"]):
        code, counts = choose_code(lang)
        row = {"iso639_1": lang["iso639_1"], "iso639_3": code}
        for kind, feature_set in FEATURE_SETS.items():
            values = vector(code, feature_set)
            distance = None if values is None else cosine_distance(english[kind], values)
            row[kind] = "" if distance is None else f"{distance:.{DECIMALS}f}"
        rows.append(row)
        if len(counts) > 1 or code != lang["iso639_3"]:
            tried = ", ".join(f"{c} {n if n >= 0 else 'unknown'}" for c, n in counts.items())
            choices.append(f"| {lang['iso639_1']} | {lang['name']} | {code} | {tried} |")
    return rows, choices


def render_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def render_md(rows: list[dict[str, str]], choices: list[str], command: str) -> str:
    empty = [
        f"* {kind}: " + ", ".join(f"{r['iso639_1']} ({r['iso639_3']})" for r in rows if not r[kind])
        for kind in KINDS
        if any(not r[kind] for r in rows)
    ]
    sets = "\n".join(f"| {kind} | `{fs}` |" for kind, fs in FEATURE_SETS.items())
    return f"""# URIEL distances from English (`uriel_distances.csv`)

Generated by `tools/uriel_distances.py`; do not edit by hand (its docstring explains every
choice below in full). Read at run time by `stilts.reports.typology`.

Each cell is the cosine distance, 1 - u.v / (|u| |v|), between the URIEL vector of the
language and that of English (eng), as lang2vec {version()} returns them (`get_features`),
rounded to {DECIMALS} decimals: 0 is identical, 1 shares nothing. URIEL: Littell et al. (2017),
"URIEL and lang2vec: Representing languages as typological, geographical, and phylogenetic
vectors", EACL.

These are **not** lang2vec's precomputed `distance()` tables: lang2vec {version()}, the newest
release on PyPI, has no `distance()` and ships no distance tables (only the project's GitHub
repository has them, and antonisa/lang2vec issue #17 reports that they cannot be reproduced
from the released vectors). Numbers from papers that used `l2v.distance` will differ.

| column | lang2vec feature set |
| --- | --- |
{sets}

* `*_knn` sets: URIEL's k-nearest-neighbour predictions fill the features a language lacks.
* `fam`: membership in Glottolog families and subfamilies; the cosine distance grows with how
  little of its tree two languages share, but a deeper-classified language also scores a bit
  further (its vector has more ones). Empty vector (isolate, or a code URIEL leaves
  unclassified): distance undefined, cell empty.
* `geo`: distances from 299 fixed points on the Earth; its cosine distance ranks languages by
  distance from English but is compressed near 0. Not URIEL's orthodromic distance.

## Codes used

The `iso639_3` column is the code looked up in lang2vec: of the table's `iso639_3` and
`other_codes`, the one with the most attested syntax features (`{ATTESTED_SYNTAX}`), the
table's `iso639_3` on a tie. Languages with a choice:

| iso639_1 | name | code used | attested syntax features per candidate (of 103) |
| --- | --- | --- | --- |
{chr(10).join(choices)}

## Empty cells (no value from lang2vec)

{chr(10).join(empty) if empty else "None."}

## Provenance

* lang2vec {version()} (PyPI), numpy {np.__version__}, Python {sys.version.split()[0]}
* generated {datetime.date.today().isoformat()}
* command: `{command}`
"""


def version() -> str:
    return metadata.version("lang2vec")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the CSV differs from a fresh computation"
    )
    args = parser.parse_args(argv)
    rows, choices = compute()
    text = render_csv(rows)
    if args.check:
        current = OUT_CSV.read_text(encoding="utf-8") if OUT_CSV.exists() else ""
        if current != text:
            print(f"{OUT_CSV} is stale: rerun tools/uriel_distances.py", file=sys.stderr)
            return 1
        print(f"{OUT_CSV}: up to date ({len(rows)} languages)")
        return 0
    OUT_CSV.write_text(text, encoding="utf-8")
    OUT_MD.write_text(render_md(rows, choices, "python tools/uriel_distances.py"), "utf-8")
    print(f"wrote {OUT_CSV} and {OUT_MD} ({len(rows)} languages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
