"""Language metadata for XTREME and XTREME-R: names, genealogy, script and resource class.

Reports group cross-lingual scores by family and resource class, because transfer gaps follow
those lines; the metadata must therefore come from named references, not from memory. The
table is data, not code: ``stilts/reports/languages.csv``, one row per language of every task of
either benchmark (50 languages), with these columns and sources:

* ``iso639_1``, ``iso639_3``: ISO 639 codes. ``iso639_3`` is the code ISO 639-2/T and 639-3
  pair with the 639-1 code, which for a macrolanguage is the macrolanguage (ara, zho, fas, swa,
  msa, est, aze, que); ``other_codes`` lists the individual-language codes that datasets use
  instead (Tatoeba's cmn, swh, pes; WALS's arb, zsm, ekk, azj).
* ``name``: the English name CLDR gives (through the langcodes package), except Bengali
  (ISO 639's name, which XTREME uses; CLDR now says Bangla) and Tagalog (CLDR folds tl into
  Filipino).
* ``family``, ``genus``: WALS (Dryer & Haspelmath 2013; the cldf-datasets/wals
  ``cldf/languages.csv`` table), for the WALS language that is the standard variety: e.g.
  Arabic is "Arabic (Modern Standard)", Chinese is Mandarin, Quechua is Cuzco Quechua. That
  table leaves family and genus empty for Japanese, Korean and Basque; they are filled in as
  the WALS site names them (family = genus = Japanese, Korean, Basque). Haitian Creole is in
  WALS's "other" family, genus "Creoles and Pidgins", and is kept so.
* ``script``, ``script_code``: ISO 15924 code and English name (short form) of the script the
  benchmarks' text uses: Jpan for Japanese, Kore for Korean, Hani for Chinese (its data mixes
  simplified and traditional text).
* ``resource_class``: Joshi et al. (2020), "The State and Fate of Linguistic Diversity and
  Inclusion in the NLP World", classes 0 (left behind) to 5 (winners), from the paper's
  ``lang2tax`` list of language names (e.g. English 5, Swahili 2, Yoruba 2, Telugu 1), read
  through MaLA-LM/LangResourceAtlas's transcription, which keeps the original names.

``tools/check_languages.py`` re-checks codes, names and scripts against CLDR (langcodes).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from stilts.errors import StiltsError, did_you_mean

TABLE = "languages.csv"
COLUMNS = (
    "iso639_1", "iso639_3", "name", "family", "genus", "script", "script_code",
    "resource_class", "other_codes",
)  # fmt: skip


@dataclass(frozen=True)
class Language:
    """One row of the language table (see the module docstring for each field's source)."""

    iso639_1: str | None
    iso639_3: str
    name: str
    family: str
    genus: str
    script: str
    script_code: str
    resource_class: int
    """Joshi et al. (2020) class: 0 (no resources) to 5 (the best-resourced languages)."""
    other_codes: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The code benchmarks use: ISO 639-1 where there is one, else ISO 639-3."""
        return self.iso639_1 or self.iso639_3

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c for c in (self.iso639_1, self.iso639_3, *self.other_codes) if c)


@cache
def languages() -> tuple[Language, ...]:
    """Every language in the table, in table order (by ISO 639-1 code)."""
    text = resources.files("stilts.reports").joinpath(TABLE).read_text(encoding="utf-8")
    return _parse(text)


@cache
def _index() -> dict[str, Language]:
    index: dict[str, Language] = {}
    for row in languages():
        for code in row.codes:
            if code in index:
                raise StiltsError(
                    f"{TABLE}: code {code!r} names both {index[code].name} and {row.name}"
                )
            index[code] = row
    return index


def language(code: str) -> Language:
    """The language with ISO 639-1 or 639-3 code `code` (any case), or an error naming close
    codes: e.g. 'sw', 'swa' and 'swh' are all Swahili."""
    key = code.strip().lower()
    index = _index()
    if key not in index:
        by_name = {row.name.lower(): row.code for row in languages()}
        if key in by_name:
            raise StiltsError(f"{code!r} is a language name; use its code {by_name[key]!r}")
        raise StiltsError(
            f"unknown language code {code!r}{did_you_mean(key, index)}; stilts knows the "
            f"{len(languages())} languages of XTREME and XTREME-R by ISO 639-1 or 639-3 code"
        )
    return index[key]


def _parse(text: str) -> tuple[Language, ...]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise StiltsError(f"{TABLE}: columns must be {', '.join(COLUMNS)}")
    rows = []
    for line, record in enumerate(reader, start=2):
        blank = [column for column in COLUMNS[1:8] if not record[column]]
        if blank:
            raise StiltsError(f"{TABLE} line {line}: empty {', '.join(blank)}")
        try:
            resource_class = int(record["resource_class"])
        except ValueError:
            resource_class = -1
        if not 0 <= resource_class <= 5:
            raise StiltsError(
                f"{TABLE} line {line}: resource_class {record['resource_class']!r} is not 0-5"
            )
        rows.append(
            Language(
                iso639_1=record["iso639_1"] or None,
                iso639_3=record["iso639_3"],
                name=record["name"],
                family=record["family"],
                genus=record["genus"],
                script=record["script"],
                script_code=record["script_code"],
                resource_class=resource_class,
                other_codes=tuple(record["other_codes"].split()),
            )
        )
    return tuple(rows)
