"""The shipped URIEL distance table (``stilts/reports/uriel_distances.csv``) and its reader.

The orderings checked are ones every typology or genealogy agrees on, and were checked against
the generated numbers (see ``stilts/reports/uriel_distances.md``) rather than assumed.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from importlib import resources

import pytest

from stilts.errors import StiltsError
from stilts.reports import typology
from stilts.reports.languages import language, languages
from stilts.reports.typology import KINDS, distance_from_english, distances


def table_text() -> str:
    return resources.files("stilts.reports").joinpath(typology.TABLE).read_text(encoding="utf-8")


def records() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(table_text())))


def test_plain_csv_header_and_sorted_rows():
    first_line = table_text().splitlines()[0]
    assert first_line == ",".join(typology.COLUMNS)
    codes = [r["iso639_1"] for r in records()]
    assert codes == sorted(codes)


def test_covers_every_language_with_a_value_or_an_explicit_empty_cell():
    rows = {r["iso639_1"]: r for r in records()}
    assert set(rows) == {lang.code for lang in languages()}
    for lang in languages():
        row = rows[lang.code]
        # the code looked up in lang2vec is one the language table lists for the language
        assert row["iso639_3"] in lang.codes, (lang.code, row["iso639_3"])
        for kind in KINDS:
            assert kind in row and row[kind] is not None  # the cell exists (maybe empty)
            if row[kind]:
                float(row[kind])


def test_values_are_distances():
    for kind in KINDS:
        values = distances(kind)
        assert len(values) >= 45, kind  # lang2vec has nearly every language
        assert all(0.0 <= v <= 1.0 for v in values.values()), kind


def test_english_is_at_distance_zero_from_itself():
    for kind in KINDS:
        assert distance_from_english("en", kind) == 0.0
        assert distances(kind)["en"] == 0.0


def test_known_orderings():
    syntactic = distances("syntactic")
    # German and Dutch word order is far closer to English than Japanese (SOV, postpositions).
    assert syntactic["de"] < syntactic["ja"]
    assert syntactic["nl"] < syntactic["ja"]
    genetic = distances("genetic")
    # Dutch and German are West Germanic like English; Chinese is Sino-Tibetan.
    assert genetic["nl"] < genetic["zh"]
    assert genetic["de"] < genetic["fr"] < genetic["zh"]
    # Languages outside Indo-European share no family with English.
    for code in ("zh", "ja", "fi", "ar", "tr", "sw"):
        assert genetic[code] == 1.0, code
    geographic = distances("geographic")
    assert geographic["nl"] < geographic["ja"]


def test_missing_values_are_none_not_numbers():
    # Basque is an isolate: its family vector is empty, so cosine distance is undefined.
    assert distance_from_english("eu", "genetic") is None
    assert "eu" not in distances("genetic")
    assert distance_from_english("eu", "syntactic") is not None


def test_lookup_by_any_code_of_the_language():
    for code in ("zh", "zho", "cmn", "ZH"):
        assert distance_from_english(code) == distances()["zh"]
    assert distance_from_english("swh", "featural") == distance_from_english("sw", "featural")
    assert language("cmn").code == "zh"


def test_unknown_kind_names_the_kinds():
    with pytest.raises(StiltsError, match=r"did you mean 'syntactic'.*syntactic, genetic"):
        distances("syntax")
    with pytest.raises(StiltsError, match="the kinds are"):
        distance_from_english("de", "lexical")


def test_unknown_language_is_a_stilts_error():
    with pytest.raises(StiltsError, match="unknown language code"):
        distance_from_english("xx")


def test_reader_rejects_a_malformed_table():
    with pytest.raises(StiltsError, match="columns must be"):
        typology._parse("iso639_1,syntactic\nde,0.1\n")
    header = ",".join(typology.COLUMNS)
    with pytest.raises(StiltsError, match="line 2: syntactic 'far'"):
        typology._parse(f"{header}\nde,deu,far,,,,,\n")


def test_reading_the_table_stays_light():
    probe = (
        "import sys\n"
        "from stilts.reports.typology import distances\n"
        "distances('syntactic')\n"
        "print(sorted(m for m in ('numpy', 'torch', 'lang2vec') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
