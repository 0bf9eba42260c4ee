"""Grids: every intermediate × target chain and each target alone, each phase trained once.

A 3 × 3 grid with baselines on the fixtures runs exactly 3 + 9 + 3 Trainer runs (counted by a
Trainer callback, Trainer's public hook); run again it runs none and reads every result back.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO, XLMR_COMMIT, stilts_cli
from lab import FixtureLab, build_lab
from transformers import TrainerCallback

from stilts import StiltsError
from stilts.experiment.config import PhaseConfig
from stilts.experiment.grid import GRID_RUNS, grid_chains, record
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import plan_all
from stilts.experiment.recipe import load_recipe
from stilts.reports.study_table import BASELINE, HEATMAP, StudyTable
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Runner
from stilts.store.files import write_json
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.store.results import ChainResult

INTERMEDIATES = ("mnli", "qqp", "snli")
TARGETS = ("xnli", "pawsx", "xcopa")
SETTINGS = {  # small: this file counts runs; other tests show each head learns
    "learning_rate": 1e-3, "epochs": 1, "max_length": 48, "batch_size": 16,
    "max_train_examples": 64, "max_eval_examples": 8,
}  # fmt: skip


class TrainerRuns(TrainerCallback):
    """Counts Trainer.train calls, and which output directories they trained into."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self.outputs.append(args.output_dir)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> FixtureLab:
    tasks = (*INTERMEDIATES, *TARGETS)
    return build_lab(tmp_path_factory.mktemp("lab"), tasks, SETTINGS, vocab_size=1500)


def phases(*names: str) -> list[PhaseConfig]:
    return [PhaseConfig.model_validate(name) for name in names]


def run_grid(lab: FixtureLab, cells, *, force: bool = False):
    counter = TrainerRuns()
    plans = plan_all(cell.config for cell in cells)
    runner = Runner(lab.store, RunOptions(callbacks=(counter,)), force=force)
    return plans, runner.run_all(plans), counter


@pytest.fixture(scope="module")
def grid(lab):
    cells = grid_chains(lab.shared(), phases(*INTERMEDIATES), phases(*TARGETS), [7])
    return (cells, *run_grid(lab, cells))


def test_a_3x3_grid_with_baselines_runs_3_plus_9_plus_3_trainer_runs(lab, grid):
    _, plans, runs, counter = grid
    assert len(plans) == 12  # 9 chains and 3 baselines
    assert len(counter.outputs) == 3 + 9 + 3
    assert len(set(counter.outputs)) == 15  # no phase trained twice
    phases = [p for p in (lab.store.root / "phases").iterdir() if p.is_dir()]  # not locks
    assert len(phases) == 15 and all(Store.is_complete(phase) for phase in phases)
    assert not any(r.reused for r in runs)


def test_a_finished_grid_runs_no_trainer_and_reads_every_result_back(lab, grid):
    cells, plans, first, _ = grid
    _, again, counter = run_grid(lab, cells)
    assert counter.outputs == []
    assert all(r.reused for r in again)
    assert [r.result for r in again] == [r.result for r in first]
    assert [Runner(lab.store).finished(p) for p in plans] == [r.result for r in first]


def test_the_study_table_holds_each_chains_score_and_its_gain(lab, grid):
    cells, plans, runs, _ = grid
    table = StudyTable.from_results(
        (cell.row, cell.column, run.result) for cell, run in zip(cells, runs, strict=True)
    )
    assert table.rows == (BASELINE, *INTERMEDIATES) and table.columns == TARGETS
    by_chain = {r.result.tasks: r.result.average for r in runs}
    for row in INTERMEDIATES:
        for column in TARGETS:
            cell = table.cells[row, column]
            assert cell.mean == pytest.approx(by_chain[(row, column)])
            assert cell.delta == pytest.approx(by_chain[(row, column)] - by_chain[(column,)])
            assert cell.std is None  # one seed
    out = record(lab.store, plans, cells)
    listed = json.loads((out / GRID_RUNS).read_text())
    assert [ChainResult.read(lab.store.root / e["run"]) for e in listed] == [r.result for r in runs]
    assert [(e["row"], e["column"]) for e in listed] == [(c.row, c.column) for c in cells]
    written = table.write(out)
    assert [p.name for p in written] == ["study.md", "study.csv", HEATMAP]
    assert written[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = written[0].read_text()
    assert "| mnli |" in markdown and f"({table.cells['mnli', 'xnli'].delta:+.1f})" in markdown
    assert len(written[1].read_text().splitlines()) == 1 + 12


def test_force_retrains_each_shared_phase_once(lab, grid):
    cells = grid_chains(lab.shared(), phases("mnli"), phases("xnli", "pawsx"), [7], baselines=False)
    _, runs, counter = run_grid(lab, cells, force=True)
    assert len(counter.outputs) == 1 + 2  # mnli once, not once per target
    assert not any(r.reused for r in runs)


def test_a_commands_options_go_to_the_phases_they_are_for():
    """`stilts grid --adapter lora --adapter xnli=ia3 --translate mnli=en,de --sampler
    uniform`: the adapter to every intermediate phase, the named one to its phase, the
    translations to the phases that train mnli, the sampler to the multi-task phases."""
    options = PhaseOptions.parse(
        adapters=["lora", "xnli=ia3"], translate=["mnli=en,de"], sampler="uniform"
    )
    rows, columns = options.phases(["mnli+mlm", "qqp"], ["xnli"])
    cells = grid_chains({}, rows, columns, [3])
    baseline, multitask, single = (cell.config for cell in cells)
    assert [p.adapter.short() for p in baseline.phases] == ["ia3"] and baseline.seed == 3
    first, target = multitask.phases
    assert (first.adapter.short(), first.sampler.short(), target.adapter.short()) == (
        "lora",
        "uniform",
        "ia3",
    )
    assert first.translate == {"mnli": ["en", "de"]} and target.translate == {}
    assert single.phases[0].sampler is None and single.phases[0].adapter.short() == "lora"
    for wrong, error in (
        ({"adapters": ["pawsx=lora"]}, r"--adapter names phase 'pawsx'.*phases: mnli\+mlm"),
        ({"translate": ["squad=de"]}, "--translate names squad, which the command does not"),
        ({"sampler": "uniform"}, "--sampler chooses the task of each step of a multi-task"),
    ):
        with pytest.raises(StiltsError, match=error):
            PhaseOptions.parse(**wrong).phases(["mnli" if "sampler" in wrong else "mnli+mlm"],
                                               ["xnli"])  # fmt: skip


def test_a_grid_runs_every_seed_of_every_chain():
    chains = grid_chains({}, phases("mnli"), phases("xnli", "pawsx"), [1, 2])
    assert [(c.config.names, c.config.seed, c.row) for c in chains] == [
        (("xnli",), 1, "none"), (("pawsx",), 1, "none"),
        (("mnli", "xnli"), 1, "mnli"), (("mnli", "pawsx"), 1, "mnli"),
        (("xnli",), 2, "none"), (("pawsx",), 2, "none"),
        (("mnli", "xnli"), 2, "mnli"), (("mnli", "pawsx"), 2, "mnli"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("intermediates", "targets", "baselines", "error"),
    [
        ((), ("xnli",), False, "needs intermediate tasks, or baselines"),
        (("mnli",), (), True, "needs at least one target task"),
        (("mnli", "mnli"), ("xnli",), True, "names intermediate mnli more than once"),
    ],
)
def test_a_malformed_grid_is_refused(intermediates, targets, baselines, error):
    with pytest.raises(StiltsError, match=error):
        grid_chains({}, phases(*intermediates), phases(*targets), [1], baselines=baselines)


def test_a_bad_name_anywhere_in_the_grid_fails_before_any_training(tmp_path: Path):
    cells = grid_chains({}, phases("mnli", "qqq"), phases("xnli"), [1])
    with pytest.raises(StiltsError, match=r"unknown task 'qqq' \(did you mean 'qqp'"):
        plan_all(cell.config for cell in cells)


def test_a_grid_recipe_trains_only_what_the_store_lacks_then_reads_everything_back(
    mnli_xnli, tmp_path
):
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)  # it holds mnli and mnli → xnli already
    recipe = str(REPO / "recipes" / "smoke" / "grid.yaml")
    first = stilts_cli("run", recipe, "--store", str(store))
    assert first.returncode == 0, first.stderr
    assert "phases: 1 trained, 2 reused, 0 to go" in first.stdout  # the xnli baseline only
    assert "2 chains: 1 run now, 1 read back" in first.stdout
    gain = mnli_xnli.result.average - first_baseline(store)
    cell = re.escape(f"{mnli_xnli.result.average:.1f} ({gain:+.1f})")
    assert re.search(rf"│ mnli +│ {cell} +│", first.stdout)
    again = stilts_cli("run", recipe, "--store", str(store), "--no-plot")
    assert again.returncode == 0, again.stderr
    assert "2 chains: 0 run now, 2 read back" in again.stdout and "training" not in again.stdout


def first_baseline(store: Path) -> float:
    """The xnli baseline's task score, read from its run directory."""
    (run_dir,) = (store / "runs").glob("xnli-*")
    return ChainResult.read(run_dir).average


def test_grid_prints_the_recipe_that_runs_it(tmp_path):
    printed = stilts_cli(
        "grid", "--intermediate", "mnli, mnli+mlm", "--target", "xnli", "--seeds", "2",
        "--adapter", "lora", "--print-recipe", "--model", "FacebookAI/xlm-roberta-large",
        "--revision", XLMR_COMMIT,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout) == {
        "stilts": 1,
        "model": {"id": "FacebookAI/xlm-roberta-large", "revision": XLMR_COMMIT},
        "seeds": [42, 43],
        "grid": {
            "intermediate": [
                {"tasks": ["mnli"], "adapter": "lora"},
                {"tasks": ["mnli", "mlm"], "adapter": "lora"},
            ],
            "target": ["xnli"],
        },
    }
    path = tmp_path / "grid.yaml"
    path.write_text(printed.stdout)
    configs = [cell.config for cell in load_recipe(path).chains()]
    assert len(configs) == 2 * (1 + 2)
    adapters = [[p.adapter and p.adapter.short() for p in c.phases] for c in configs[:3]]
    assert adapters == [[None], ["lora", None], ["lora", None]]


def test_variants_of_one_task_are_rows_of_their_own_with_their_own_settings():
    small = {"tasks": ["mnli"], "label": "mnli-1k", "hyperparameters": {"max_train_examples": 1000}}
    german = {
        "tasks": ["mnli"],
        "label": "mnli-de",
        "translate": {"mnli": ["de"]},
        "adapter": "lora",
    }
    cells = grid_chains({}, phases(small, german), phases("xnli"), [1])
    assert [c.row for c in cells] == ["none", "mnli-1k", "mnli-de"]
    first = cells[1].config.phases[0]
    assert first.hyperparameters.given() == {"max_train_examples": 1000}
    assert first.translate == {} and first.adapter is None
    second = cells[2].config.phases[0]
    assert second.translate == {"mnli": ["de"]} and second.adapter.short() == "lora"
    plans = plan_all(cell.config for cell in cells)
    assert len({p.phases[0].fingerprint for p in plans[1:]}) == 2  # two different phases
    with pytest.raises(StiltsError, match=r"names intermediate mnli more than once.*label"):
        grid_chains({}, phases("mnli", "mnli"), phases("xnli"), [1])


def test_the_progress_never_counts_a_phase_twice_under_force(tmp_path):
    """With --force every phase of the grid trains (once), so none is reused and nothing is
    ever negative 'to go', though the store holds them all."""
    from rich.console import Console

    from stilts.runtime.progress import ExperimentProgress

    cells = grid_chains({}, phases("mnli"), phases("xnli"), [1], baselines=True)
    plans = plan_all(cell.config for cell in cells)
    store = Store(tmp_path)
    for chain in plans:
        for phase in chain.phases:  # the whole grid complete in the store
            phase_dir = store.phase_dir(phase.name, phase.fingerprint)
            write_json(phase_dir / PHASE_MANIFEST, {"fingerprint": phase.fingerprint, "dev": {}})
    baseline, chain = plans

    def note(force: bool) -> str:
        progress = ExperimentProgress(Console(file=io.StringIO()), plans, store, grid=True,
                                      force=force)  # fmt: skip
        with progress:
            for run in (baseline, chain):
                progress.on_run_begin(run)
                if force:
                    for phase in run.phases:
                        progress.on_phase_end(run, phase, {})
        return progress.progress.tasks[0].fields["note"]

    assert note(force=False) == "· phases: 0 trained, 3 reused, 0 to go"
    assert note(force=True) == "· phases: 3 trained, 0 reused, 0 to go"
