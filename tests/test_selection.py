"""Model selection on the English dev set: the best checkpoint is kept, the curve recorded.

The training fixture is the bundled sample with MNLI's training labels rotated (each row
labelled as the next class): the more a phase learns its training rows, the worse it scores on
the untouched dev set, so its last checkpoint is its worst and selection must keep an earlier
one. The selection scores the whole dev set here (``rows`` above its size), so the phase's
recorded dev score is a second, independent measurement of the kept weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import stilts_cli

from stilts import StiltsError
from stilts.experiment import bundled
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.experiment.recipe import load_recipe
from stilts.experiment.specs import STUDY_SELECTION, Selection
from stilts.runtime.runner import Runner
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store

MNLI = Path("nyu-mll/glue/mnli")
DEV_ROWS = 300  # the sample's validation_matched
SETTINGS = {"max_train_examples": 640, "epochs": 3}  # 20 steps an epoch at batch 32
COMMIT = "0" * 40  # a pinned model revision: planning needs no hub to identify it


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data, MNLI's training labels each moved to the next class."""
    root = tmp_path_factory.mktemp("rotated")
    shutil.copytree(bundled.SAMPLE_DATA / MNLI, root / MNLI)
    train = root / MNLI / "train-00000-of-00001.parquet"
    table = pq.read_table(train)
    column = table.schema.get_field_index("label")
    rotated = pc.add(table["label"], 1).combine_chunks()
    rotated = pc.if_else(pc.equal(rotated, 3), 0, rotated).cast(table.schema.field("label").type)
    pq.write_table(table.set_column(column, "label", rotated), train)
    return root


def trained(root: Path, store: Path, select: str) -> dict:
    """The phase record of `stilts chain mnli` on `root`, keeping the weights `select` says."""
    config = ChainConfig(phases=["mnli"], data=str(root), hyperparameters=SETTINGS, select=select)
    chain = plan(config)
    Runner(Store(store)).run(chain)
    phase = chain.phases[0]
    return read_json(Store(store).phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST)


@pytest.fixture(scope="module")
def best(rotated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return trained(rotated, tmp_path_factory.mktemp("store"), "best:every=10,rows=1000,patience=0")


def test_an_earlier_checkpoint_that_scored_better_is_kept_over_the_last(best, rotated, tmp_path):
    selection = best["selection"]
    curve = selection["curve"]
    assert [point["step"] for point in curve] == [10, 20, 30, 40, 50, 60]
    scores = [point["score"] for point in curve]
    first_best = curve[scores.index(max(scores))]
    assert selection["selected_step"] == first_best["step"] < 60
    assert selection["best_score"] == max(scores) > scores[-1]
    # The kept weights score what the curve said of their step, on the whole dev set.
    assert best["dev"]["en"]["accuracy"] == pytest.approx(first_best["score"])
    assert not selection["stopped_early"] and selection["steps"] == 60
    # Keeping the last weights instead scores the last point of the curve: worse.
    last = trained(rotated, tmp_path / "store", "last")
    assert last["selection"] == {"select": "last", "steps": 60, "selected_step": 60, "curve": []}
    assert last["dev"]["en"]["accuracy"] == pytest.approx(scores[-1])
    assert last["dev"]["en"]["accuracy"] < best["dev"]["en"]["accuracy"]


def test_training_stops_after_patience_evaluations_without_improvement(best, rotated, tmp_path):
    patient = trained(rotated, tmp_path / "store", "best:every=10,rows=1000,patience=1")
    selection = patient["selection"]
    # The same run as `best` up to its first evaluation that brings nothing better.
    scores = [point["score"] for point in best["selection"]["curve"]]
    stop = next(i for i in range(1, len(scores)) if scores[i] <= max(scores[:i]))
    assert selection["steps"] == 10 * (stop + 1) < 60
    assert selection["stopped_early"]
    assert [p["score"] for p in selection["curve"]] == pytest.approx(scores[: stop + 1])


def test_the_demo_records_its_dev_curve_and_selected_step(mnli_xnli):
    for index in range(2):
        selection = read_json(mnli_xnli.phase_dir(index) / PHASE_MANIFEST)["selection"]
        assert selection["select"] == bundled.SELECTION.short() == "best:every=25"
        assert [point["step"] for point in selection["curve"]] == list(range(25, 226, 25))
        assert selection["selected_step"] in {point["step"] for point in selection["curve"]}


@pytest.mark.parametrize(
    ("text", "short", "fingerprint"),
    [
        ("best", "best", {"kind": "best", "every": 1000, "rows": 500, "patience": 30}),
        ("best:every=1000,rows=500,patience=30", "best", None),
        (
            "BEST:patience=0",
            "best:patience=0",
            {"kind": "best", "every": 1000, "rows": 500, "patience": 0},
        ),
        ("last", "last", {"kind": "last"}),
        ({"kind": "best", "every": 200}, "best:every=200", None),
    ],
)
def test_a_selection_reads_as_a_short_string_or_a_mapping(text, short, fingerprint):
    selection = Selection.parse(text, option="--select")
    assert selection.short() == short
    assert Selection.parse(short, option="--select") == selection
    if fingerprint is not None:
        assert selection.fingerprint() == fingerprint


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("lats", "did you mean 'last'"),
        (
            "last:every=5",
            "last keeps the final weights and evaluates nothing, so it takes no every",
        ),
        ("best:every=0", "every: Input should be greater than or equal to 1"),
        ("best:rows=many", "rows: Input should be a valid integer"),
        ("best:patience=-1", "patience: Input should be greater than or equal to 0"),
        ("best:often=2", "often"),
    ],
)
def test_bad_selections_fail_with_one_line(text, error):
    with pytest.raises(StiltsError, match=r"^--select") as caught:
        Selection.parse(text, option="--select")
    assert error in str(caught.value) and "\n" not in str(caught.value)


def test_the_selection_is_fingerprinted_and_defaults_to_the_study(tmp_path):
    real = {
        "model": {"id": "FacebookAI/xlm-roberta-large", "revision": COMMIT},
        "data": str(tmp_path),
    }

    def fingerprints(phases: list = ["mnli", "xnli"], **settings: object) -> tuple[str, ...]:  # noqa: B006
        return tuple(
            p.fingerprint for p in plan(ChainConfig(phases=phases, **real, **settings)).phases
        )

    study = plan(ChainConfig(phases=["mnli", "xnli"], **real))
    assert all(phase.selection == STUDY_SELECTION for phase in study.phases)
    assert study.phases[0].spec["selection"] == STUDY_SELECTION.fingerprint()
    assert fingerprints() == fingerprints(select="best:every=1000,rows=500")
    assert fingerprints(select="last") != fingerprints()
    # A phase's own choice wins over the chain's.
    own = fingerprints([{"tasks": ["mnli"], "select": "last"}, "xnli"], select="best")
    assert own[0] == fingerprints(select="last")[0] and own != fingerprints()
    # The bundled sample selects at its own scale unless told.
    assert plan(ChainConfig(phases=["mnli", "xnli"])).phases[0].selection == bundled.SELECTION


def test_a_multitask_phase_selects_by_its_dev_aggregate_which_is_then_fingerprinted(tmp_path):
    real = {
        "model": {"id": "FacebookAI/xlm-roberta-large", "revision": COMMIT},
        "data": str(tmp_path),
    }

    def first(**settings: object) -> dict:
        return plan(ChainConfig(phases=["mnli+qqp", "xnli"], **real, **settings)).phases[0].spec

    assert first()["selection"]["by"] == "mean"
    weighted = first(dev_aggregate="weighted:mnli=2,qqp=1")
    assert weighted["selection"]["by"] == "weighted:mnli=2,qqp=1"
    assert "by" not in first(select="last")["selection"]
    assert first(select="last", dev_aggregate="weighted:mnli=2,qqp=1") == first(select="last")


def test_the_command_line_choice_is_the_recipes(tmp_path):
    printed = stilts_cli("chain", "mnli", "xnli", "--select", "best:every=5", "--print-recipe")
    assert printed.returncode == 0, printed.stderr
    recipe = yaml.safe_load(printed.stdout)
    assert recipe["select"] == "best:every=5"
    (tmp_path / "r.yaml").write_text(printed.stdout)
    (cell,) = load_recipe(tmp_path / "r.yaml").chains()
    assert plan(cell.config).phases[0].selection == Selection(kind="best", every=5)
    wrong = stilts_cli("chain", "mnli", "xnli", "--select", "lats")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: ") and "did you mean 'last'" in wrong.stderr
    assert "Traceback" not in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1
