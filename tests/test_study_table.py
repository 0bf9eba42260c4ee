"""The study's table from chain results: mean ± std over seeds and gains over the baseline,
on hand-made results whose figures are worked out here."""

from __future__ import annotations

import sys

import pytest

from stilts import StiltsError
from stilts.reports.study_table import BASELINE, Cell, StudyTable
from stilts.store.results import ChainResult


def result(tasks: tuple[str, ...], *scores: float) -> tuple[str, str, ChainResult]:
    """A chain's (row, column, result) whose languages score `scores` (their mean is its task
    score)."""
    test = {f"l{i}": {"accuracy": score} for i, score in enumerate(scores)}
    return (
        " → ".join(tasks[:-1]) or BASELINE,
        tasks[-1],
        ChainResult(tasks, tasks[-1], "accuracy", "en", {}, test),
    )


RESULTS = [  # two seeds: baseline xnli 60, 62; mnli → xnli 64, 68; pawsx alone 80, 80
    result(("xnli",), 50, 70), result(("pawsx",), 80), result(("mnli", "xnli"), 64),
    result(("xnli",), 62), result(("pawsx",), 70, 90), result(("mnli", "xnli"), 60, 76),
]  # fmt: skip


def test_cells_are_mean_and_sample_std_over_seeds_and_the_gain_over_the_baseline():
    table = StudyTable.from_results(RESULTS)
    assert table.rows == (BASELINE, "mnli") and table.columns == ("xnli", "pawsx")
    cell = table.cells["mnli", "xnli"]
    assert cell.scores == (64, 68) and cell.mean == 66
    assert cell.std == pytest.approx(2**0.5 * 2)  # stdev of 64, 68
    assert cell.delta == 66 - 61
    assert cell.text() == "66.0 ± 2.8 (+5.0)"
    assert table.cells[BASELINE, "pawsx"].text() == "80.0 ± 0.0"  # no gain over itself
    assert ("mnli", "pawsx") not in table.cells


def test_the_average_column_needs_every_target_and_averages_each_seed_first():
    table = StudyTable.from_results(RESULTS)
    assert table.row_average(BASELINE) == Cell((70, 71), ())
    assert table.row_average("mnli") is None  # it has no pawsx run
    assert Cell((1.0,), (2.0, 4.0)).delta == -2.0


def test_markdown_and_csv_state_every_cell():
    table = StudyTable.from_results(RESULTS)
    assert table.markdown().splitlines()[:4] == [
        "| intermediate | xnli (accuracy) | pawsx (accuracy) | average |",
        "|---|---|---|---|",
        "| none | 61.0 ± 1.4 | 80.0 ± 0.0 | 70.5 ± 0.7 |",
        "| mnli | 66.0 ± 2.8 (+5.0) | – | – |",
    ]
    assert "mean ± std over 2 seeds (change versus none)" in table.markdown()
    assert table.csv().splitlines() == [
        "intermediate,target,metric,seeds,mean,std,baseline,delta",
        "none,xnli,accuracy,2,61.0000,1.4142,,",
        "none,pawsx,accuracy,2,80.0000,0.0000,,",
        "mnli,xnli,accuracy,2,66.0000,2.8284,61.0000,5.0000",
    ]


def test_one_seed_shows_no_spread():
    table = StudyTable.from_results(RESULTS[:3])
    assert table.cells["mnli", "xnli"].text() == "64.0 (+4.0)"
    assert "one seed" in table.caption()


def test_without_matplotlib_the_heatmap_says_which_extra_to_install(tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.colors", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(StiltsError, match=r"pip install 'stilts\[plot\]'"):
        StudyTable.from_results(RESULTS).write(tmp_path)
    assert not (tmp_path / "study.png").exists()
    assert (tmp_path / "study.md").is_file()  # the tables do not need it


def test_no_results_is_an_error():
    with pytest.raises(StiltsError, match="no finished runs"):
        StudyTable.from_results([])
