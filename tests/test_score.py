"""`stilts score` against the official scorer, google-research/xtreme ``evaluate.py`` (838c13b),
on the official mock test suite: every figure bit for bit; XTREME-R's groups and missing total."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import MOCK_SUITE, stilts_cli

from stilts.eval.submission import choice_objects, path_for
from stilts.reports.scoring import score_submission
from stilts.tasks import registry

TASK2AVG_SCORES = {
    "pawsx": {"avg_accuracy": 51.42857142857143},
    "xnli": {"avg_accuracy": 30.666666666666668},
    "panx": {"avg_f1": 57.50793650793652, "avg_precision": 54.729166666666664,
             "avg_recall": 62.750000000000014},
    "udpos": {"avg_f1": 70.21746048354693, "avg_precision": 71.02232625883823,
              "avg_recall": 69.54982073976082},
    "bucc2018": {"avg_f1": 55.0, "avg_precision": 55.0, "avg_recall": 55.0},
    "tatoeba": {"avg_accuracy": 53.611111111111114},
    "xquad": {"avg_exact_match": 77.27272727272727, "avg_f1": 79.9586776859504},
    "mlqa": {"avg_exact_match": 57.142857142857146, "avg_f1": 81.76870748299321},
    "tydiqa": {"avg_exact_match": 88.88888888888889, "avg_f1": 97.22222222222223},
}  # fmt: skip
"""evaluate_test.py TASK2AVG_SCORES (lines 32-44), verbatim: the official mock averages."""
XTREME_R_TASK2AVG_SCORES = {
    "xnli": {"avg_accuracy": 30.666666666666668},
    "mewslix": {"avg_map@20": 14.39025156130419},
    "mlqa": {"avg_exact_match": 57.142857142857146, "avg_f1": 81.76870748299321},
    "tydiqa": {"avg_exact_match": 88.88888888888889, "avg_f1": 97.22222222222223},
}
"""evaluate_test.py XTREME_R_TASK2AVG_SCORES (lines 49-62), the tasks it checks, verbatim."""
OFFICIAL_OUTPUT = json.loads((MOCK_SUITE / "official_output_xtreme.json").read_text())
"""What the official evaluate.py writes for the mock suite (see its README.md); its all_task
(62.17319850507246) is the same for every PYTHONHASHSEED tried, though it sums a set."""


def averages(result) -> dict[str, dict[str, float]]:
    return {t.task: {f"avg_{m}": v for m, v in t.averages.items()} for t in result.tasks}


# --- the official mock suite ------------------------------------------------------------------


def test_the_mock_suite_scores_as_the_official_evaluate_py_to_the_last_bit():
    result = score_submission(MOCK_SUITE / "predictions", MOCK_SUITE / "labels")
    assert averages(result) == TASK2AVG_SCORES
    for task in result.tasks:  # every language, every metric
        by_metric = {m: v for m, v in OFFICIAL_OUTPUT[task.task].items() if not m.startswith("avg")}
        by_language = {
            language: {m: by_metric[m][language] for m in by_metric} for language in task.languages
        }
        assert task.languages == by_language, task.task
        assert task.score == OFFICIAL_OUTPUT[task.task]["avg_metric"], task.task
    totals = result.totals
    assert totals.overall == OFFICIAL_OUTPUT["all_task"] == 62.17319850507246
    assert totals.groups == {
        "classification": OFFICIAL_OUTPUT["classification"],
        "structured prediction": OFFICIAL_OUTPUT["tagging"],
        "question answering": OFFICIAL_OUTPUT["qa"],
        "retrieval": OFFICIAL_OUTPUT["retrieval"],
    }
    # QA's task score is (EM + F1) / 2 of the averages, as evaluate.py's avg_metric: the mean of
    # each language's (EM + F1) / 2 would differ in the last bit here.
    mlqa = result.tasks[5]
    assert mlqa.score == (57.142857142857146 + 81.76870748299321) / 2 == 69.45578231292518
    per_language = [(s["exact_match"] + s["f1"]) / 2 for s in mlqa.languages.values()]
    assert sum(per_language) / len(per_language) == 69.45578231292517
    assert result.remarks == (
        f"{MOCK_SUITE / 'predictions' / 'mewslix'}: not scored, mewslix is not in XTREME "
        "(--benchmark xtreme-r scores it)",
    )


def xtreme_r_submission(root: Path) -> tuple[Path, Path, list[int]]:
    """The mock suite's XTREME-R tasks, plus XCOPA predictions written by the xcopa task."""
    predictions, labels = root / "predictions", root / "labels"
    for task in XTREME_R_TASK2AVG_SCORES:
        for side in (predictions, labels):
            shutil.copytree(MOCK_SUITE / side.name / task, side / task)
    xcopa = registry.load("xcopa")
    gold = [0, 1, 1, 0]
    for language in xcopa.languages:
        extension, text = xcopa.submission_file([0, 1, 0, 0], rows=None)
        for side, choices in ((predictions, text), (labels, choice_objects(gold, None)[1])):
            path = side / path_for("xcopa", language, extension)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(choices)
    return predictions, labels, gold


def test_xtreme_r_tasks_groups_and_no_overall_score(tmp_path: Path):
    predictions, labels, _ = xtreme_r_submission(tmp_path)
    (predictions / "lareqa").mkdir()  # as stilts writes it; XTREME-R defines no LAReQA file
    (predictions / "lareqa" / "test-en.tsv").write_text("q1_en\ten_0_1\n")
    result = score_submission(predictions, labels, "xtreme-r")
    assert {t: a for t, a in averages(result).items() if t != "xcopa"} == XTREME_R_TASK2AVG_SCORES
    assert [t.task for t in result.tasks] == ["xnli", "xcopa", "mlqa", "tydiqa", "mewslix"]
    xcopa = result.tasks[1]
    assert xcopa.averages == {"accuracy": 75.0}  # 3 of 4 right in every language
    assert result.totals.groups == {
        "classification": (30.666666666666668 + 75.0) / 2,
        "multiple choice": 75.0,
    }
    assert result.totals.overall is None
    assert result.remarks == (
        f"{predictions / 'lareqa'}: not scored; the official evaluate.py lists no lareqa "
        "languages (XTREME_R_TASK2LANGS, line 171)",
        "tasks without a score: udpos, panx, xquad, tatoeba, lareqa",
        "no overall score: the official evaluate.py lists no lareqa languages, so it never "
        "computes an overall XTREME-R score",
    )


def test_cli_prints_the_official_figures_and_writes_json(tmp_path: Path):
    out = tmp_path / "scores.json"
    run = stilts_cli(
        "score", str(MOCK_SUITE / "predictions"), str(MOCK_SUITE / "labels"), "--json", str(out)
    )
    assert run.returncode == 0, run.stderr
    assert "│ overall │ XTREME                │ 62.17 │" in run.stdout
    assert "│ average  │ 70.22  │ 71.02     │ 69.55  │" in run.stdout  # udpos f1, p, r
    data = json.loads(out.read_text())
    assert data["benchmark"]["overall"] == OFFICIAL_OUTPUT["all_task"]
    assert data["tasks"]["tydiqa"]["averages"] == {"exact_match": 88.88888888888889,
                                                   "f1": 97.22222222222223}  # fmt: skip
    # The official output file's Indonesian TyDiQA figures, bit for bit.
    assert data["tasks"]["tydiqa"]["languages"]["id"] == {"exact_match": 0.0,
                                                          "f1": 74.99999999999999}  # fmt: skip
