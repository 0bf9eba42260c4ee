"""`stilts.reports.report` on run directories written in the real format (ChainResult.write),
checked against hand-computed values."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stilts.errors import StiltsError
from stilts.reports.benchmark import XTREME, XTREME_R
from stilts.reports.report import UNKNOWN, report, write
from stilts.store.files import write_json
from stilts.store.results import ChainResult

PAWSX = {"de": 80.0, "en": 90.0, "es": 86.0, "fr": 84.0, "ja": 70.0, "ko": 72.0, "zh": 75.0}


def run_dir(
    root: Path,
    target: str,
    test: dict[str, float],
    metric: str = "accuracy",
    dev: float | None = 91.0,
    name: str | None = None,
) -> Path:
    path = root / "runs" / (name or f"mnli-{target}-0123456789ab")
    ChainResult(
        tasks=("mnli", target),
        target=target,
        metric=metric,
        train_language="en",
        dev={} if dev is None else {"en": {metric: dev, "loss": 0.3}},
        test={lang: {metric: value, "other": -1.0} for lang, value in test.items()},
    ).write(path)
    return path


@pytest.fixture
def pawsx(tmp_path: Path) -> Path:
    return run_dir(tmp_path, "pawsx", PAWSX)


def test_per_language_table_joins_scores_with_metadata(pawsx: Path):
    (run,) = report(pawsx).runs
    assert (run.run, run.target, run.metric, run.chain) == (
        "mnli-pawsx-0123456789ab", "pawsx", "accuracy", ("mnli", "pawsx"),
    )  # fmt: skip
    assert [row.code for row in run.languages] == ["de", "en", "es", "fr", "ja", "ko", "zh"]
    ja = run.languages[4]
    assert (ja.name, ja.family, ja.script, ja.resource_class, ja.value) == (
        "Japanese", "Japanese", "Japanese", 5, 70.0,
    )  # fmt: skip
    assert run.dev == 91.0  # English dev, the main metric only


def test_task_score_is_the_official_mean(pawsx: Path):
    (run,) = report(pawsx).runs
    # (80 + 90 + 86 + 84 + 70 + 72 + 75) / 7 = 557 / 7
    assert run.average == pytest.approx(79.5714286)
    (score,) = run.task_scores  # PAWS-X is in XTREME only
    assert (score.benchmark, score.complete) == ("XTREME", True)
    assert score.score == pytest.approx(79.5714286)


def test_scores_grouped_by_family_and_resource_class(pawsx: Path):
    (run,) = report(pawsx).runs
    families = {g.group: (g.count, g.mean) for g in run.families}
    assert families == {
        "Indo-European": (4, 85.0),  # de en es fr: (80 + 90 + 86 + 84) / 4
        "Japanese": (1, 70.0),
        "Korean": (1, 72.0),
        "Sino-Tibetan": (1, 75.0),
    }
    classes = [(g.group, g.count, g.mean) for g in run.resource_classes]
    # class 5: de en es fr ja zh = 485 / 6; class 4: ko
    assert classes == [("5", 6, pytest.approx(80.8333333)), ("4", 1, 72.0)]


def test_write_makes_json_csv_and_markdown(pawsx: Path, tmp_path: Path):
    out = tmp_path / "report"
    paths = write(report(pawsx), out)
    assert sorted(p.name for p in out.iterdir()) == ["report.csv", "report.json", "report.md"]
    assert [p.name for p in paths] == ["report.json", "report.csv", "report.md"]

    data = json.loads((out / "report.json").read_text())
    (run,) = data["runs"]
    assert run["target"] == "pawsx" and run["dev"] == {"language": "en", "value": 91.0}
    assert run["families"][0] == {
        "group": "Indo-European", "count": 4, "mean": 85.0, "languages": ["de", "en", "es", "fr"],
    }  # fmt: skip
    assert run["task_scores"][0]["score"] == pytest.approx(557 / 7)

    rows = list(csv.DictReader((out / "report.csv").open()))
    assert len(rows) == 8  # English dev + 7 test languages
    assert rows[0]["split"] == "dev" and rows[0]["value"] == "91.0000"
    ko = rows[6]
    assert (ko["language"], ko["name"], ko["family"], ko["resource_class"], ko["value"]) == (
        "ko", "Korean", "Korean", "4", "72.0000",
    )  # fmt: skip

    markdown = (out / "report.md").read_text()
    assert "| ja | Japanese | Japanese | Japanese | Japanese | 5 | 70.0 |" in markdown
    assert "| Indo-European | 4 | 85.0 | de en es fr |" in markdown
    assert "- XTREME pawsx score (7 official languages): 79.6" in markdown


def test_a_run_missing_official_languages_gets_no_task_score(tmp_path: Path):
    panx = {lang: 60.0 for lang in XTREME.task("panx").languages}
    (run,) = report(run_dir(tmp_path, "panx", panx, metric="f1")).runs
    xtreme, xtreme_r = run.task_scores
    assert xtreme.score == pytest.approx(60.0)
    assert xtreme_r.score is None
    assert xtreme_r.missing == ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro")
    assert run.average == pytest.approx(60.0)  # the run's own list is still averaged


def test_several_runs_make_one_table_and_the_benchmark_scores(pawsx: Path, tmp_path: Path):
    xnli = {lang: 70.0 for lang in XTREME.task("xnli").languages}
    both = report([run_dir(tmp_path, "xnli", xnli), pawsx])
    assert both.labels() == ("xnli", "pawsx")
    xtreme, xtreme_r = both.benchmarks
    assert xtreme.benchmark == "XTREME"
    assert xtreme.groups == {"classification": pytest.approx((70 + 557 / 7) / 2)}
    assert xtreme.overall is None
    assert xtreme.missing_tasks == ("udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018",
                                    "tatoeba")  # fmt: skip
    assert xtreme_r.tasks == {"xnli": 70.0} and xtreme_r.groups == {}  # xcopa is missing
    markdown = both.markdown()
    assert "| code | language | family | xnli | pawsx |" in markdown
    assert "| ja | Japanese | Japanese | – | 70.0 |" in markdown
    assert "| ar | Arabic | Afro-Asiatic | 70.0 | – |" in markdown
    assert "- overall: none until every task is complete" in markdown  # XTREME
    assert (
        "- overall: none: the official evaluate.py lists no lareqa languages, so it never "
        "computes an overall XTREME-R score" in markdown
    )


def test_lareqa_is_scored_over_stilts_list_and_said_to_have_no_official_one(tmp_path: Path):
    lareqa = {lang: 40.0 for lang in XTREME_R.task("lareqa").languages}
    result = report(run_dir(tmp_path, "lareqa", lareqa, metric="map@20", dev=None))
    markdown = result.markdown()
    assert (
        "- XTREME-R lareqa score (11 languages; the official evaluate.py lists none): 40.0"
        in markdown
    )
    (xtreme_r,) = result.benchmarks
    assert xtreme_r.tasks == {"lareqa": 40.0} and xtreme_r.groups == {}


def test_two_runs_of_one_target_are_compared_without_benchmark_scores(tmp_path: Path):
    a = run_dir(tmp_path, "pawsx", PAWSX, name="mnli-pawsx-aaaaaaaaaaaa")
    b = run_dir(tmp_path, "pawsx", PAWSX, name="qqp-pawsx-bbbbbbbbbbbb")
    both = report([a, b])
    assert both.benchmarks == ()
    assert both.labels() == ("mnli-pawsx-aaaaaaaaaaaa", "qqp-pawsx-bbbbbbbbbbbb")
    assert "more than one run targets pawsx" in both.notes[0]


def test_manifest_and_missing_dev_and_unknown_languages(tmp_path: Path):
    path = run_dir(tmp_path, "mytask", {"en": 50.0, "xx": 30.0}, dev=None)
    write_json(path / "manifest.json", {"config": {"model": "FacebookAI/xlm-roberta-large"}})
    result = report(str(path))
    (run,) = result.runs
    assert run.model == "FacebookAI/xlm-roberta-large"
    assert run.dev is None and run.task_scores == ()  # in no benchmark
    xx = run.languages[1]
    assert (xx.name, xx.family, xx.resource_class) == (UNKNOWN, UNKNOWN, None)
    assert {g.group: g.count for g in run.families} == {UNKNOWN: 1, "Indo-European": 1}
    assert result.benchmarks == ()
    assert "- dev (en, model selection): –" in result.markdown()


def test_errors_name_the_problem(tmp_path: Path):
    with pytest.raises(StiltsError, match=r"results\.json does not exist"):
        report(tmp_path)
    with pytest.raises(StiltsError, match="at least one run directory"):
        report([])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{")
    with pytest.raises(StiltsError, match="not valid JSON"):
        report(broken)
    write_json(broken / "results.json", {"target": "xnli"})
    with pytest.raises(StiltsError, match="no chain, metric, test"):
        report(broken)
    path = run_dir(tmp_path, "pawsx", PAWSX)
    data = json.loads((path / "results.json").read_text())
    data["test"]["de"] = {"f1": 1.0}
    write_json(path / "results.json", data)
    with pytest.raises(StiltsError, match="'de' have no 'accuracy'"):
        report(path)


def test_report_stays_light():
    probe = (
        "import sys, stilts.reports.report; "
        "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
