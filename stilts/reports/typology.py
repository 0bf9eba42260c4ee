"""Each language's typological, genealogical and geographic distance from English (URIEL).

Question: do intermediate-task gains depend on how far a target language is from English,
syntactically above all? The measure is URIEL (Littell et al. 2017, "URIEL and lang2vec:
Representing languages as typological, geographical, and phylogenetic vectors", EACL), whose
vectors the lang2vec package serves. stilts ships the derived numbers as data,
``stilts/reports/uriel_distances.csv``, one row per language of ``languages.csv``, so this module
needs neither lang2vec nor a network; ``tools/uriel_distances.py`` regenerates the table and
``stilts/reports/uriel_distances.md`` records how (lang2vec version, date, command, codes used).

Each number is the cosine distance, 1 - u.v / (|u| |v|), between the language's URIEL vector
and English's, from lang2vec 1.1.2's ``get_features``: 0 is identical, 1 shares nothing. Kinds,
with the lang2vec feature set behind each:

* ``syntactic``: ``syntax_knn``, 103 syntax features from WALS, SSWL and Ethnologue, with the
  features URIEL lacks filled in by its k-nearest-neighbour prediction;
* ``phonological``: ``phonology_knn``, 28 features (WALS, Ethnologue), kNN-filled likewise;
* ``inventory``: ``inventory_knn``, 158 phoneme-inventory features (PHOIBLE), kNN-filled;
* ``featural``: the three above concatenated;
* ``genetic``: ``fam``, membership in Glottolog's families and subfamilies (1 = no family in
  common); undefined, so missing, for an isolate (Basque) or a code URIEL leaves unclassified;
* ``geographic``: ``geo``, distances from 299 fixed points on the Earth; it ranks languages by
  distance from English but is compressed near 0, and is not URIEL's orthodromic distance.

These are not lang2vec's precomputed ``distance()`` tables, which the PyPI release (1.1.2) does
not have; numbers from papers that used ``lang2vec.distance`` will differ. A missing value
(``None``) means lang2vec gives no value for that language and kind, never a guess.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from stilts.errors import StiltsError, did_you_mean
from stilts.reports.languages import language

TABLE = "uriel_distances.csv"
KINDS = ("syntactic", "genetic", "geographic", "phonological", "inventory", "featural")
COLUMNS = ("iso639_1", "iso639_3", *KINDS)


@dataclass(frozen=True)
class UrielDistances:
    """One row of the table: a language's distances from English, None where lang2vec has none."""

    iso639_1: str
    uriel_code: str
    """The ISO 639-3 code looked up in lang2vec (e.g. the macrolanguage zho for Chinese)."""
    syntactic: float | None
    genetic: float | None
    geographic: float | None
    phonological: float | None
    inventory: float | None
    featural: float | None

    def get(self, kind: str) -> float | None:
        return getattr(self, _check_kind(kind))


def distance_from_english(code: str, kind: str = "syntactic") -> float | None:
    """The `kind` distance of the language with code `code` (ISO 639-1 or 639-3, any of the codes
    ``languages.csv`` lists) from English, or None where lang2vec has no value."""
    _check_kind(kind)
    return _row(language(code).code).get(kind)


def distances(kind: str = "syntactic") -> dict[str, float]:
    """Every language's `kind` distance from English, by the code benchmarks use (ISO 639-1),
    in table order; languages without a value are left out."""
    _check_kind(kind)
    values = ((code, row.get(kind)) for code, row in _table().items())
    return {code: value for code, value in values if value is not None}


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise StiltsError(
            f"unknown typological distance kind {kind!r}{did_you_mean(kind, KINDS)}; "
            f"the kinds are {', '.join(KINDS)}"
        )
    return kind


def _row(code: str) -> UrielDistances:
    table = _table()
    if code not in table:
        raise StiltsError(
            f"{TABLE} has no row for {code!r}; regenerate it with tools/uriel_distances.py"
        )
    return table[code]


@cache
def _table() -> dict[str, UrielDistances]:
    text = resources.files("stilts.reports").joinpath(TABLE).read_text(encoding="utf-8")
    return {row.iso639_1: row for row in _parse(text)}


def _parse(text: str) -> tuple[UrielDistances, ...]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise StiltsError(f"{TABLE}: columns must be {', '.join(COLUMNS)}")
    rows = []
    for line, record in enumerate(reader, start=2):
        values: dict[str, float | None] = {}
        for kind in KINDS:
            cell = record[kind]
            try:
                values[kind] = float(cell) if cell else None
            except ValueError:
                raise StiltsError(f"{TABLE} line {line}: {kind} {cell!r} is not a number") from None
        rows.append(
            UrielDistances(iso639_1=record["iso639_1"], uriel_code=record["iso639_3"], **values)
        )
    return tuple(rows)
