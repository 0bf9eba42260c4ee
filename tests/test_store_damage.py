"""A damaged store never crashes a run and is never trusted.

Whatever is damaged (a phase's manifest or weights, a run's manifest, results or predictions,
the bundled model), the run that needs it says which file is damaged and builds that artefact
again, and only that one, to the same results; a phase written before stilts recorded its
files is still reused, its weights checked by their safetensors headers. A store that cannot
be written is one error line before anything runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FinishedChain, stilts_cli
from test_cli_errors import assert_user_error
from test_light_imports import heavy_modules

from stilts.experiment.bundled import key
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.runner import Outcome, Runner
from stilts.store.files import read_json, write_json
from stilts.store.integrity import FILES, Damaged, check_safetensors
from stilts.store.layout import PHASE_MANIFEST, Store, phase_record


class Said(RunCallback):
    """What the runner said: damaged files, phases trained."""

    def __init__(self) -> None:
        self.damaged: list[str] = []
        self.trained: list[str] = []

    def on_damaged(self, chain, damage):
        self.damaged.append(damage)

    def on_phase_begin(self, chain, phase, start):
        self.trained.append(phase.name)


@pytest.fixture
def demo(mnli_xnli: FinishedChain, tmp_path: Path) -> Iterator[FinishedChain]:
    """A copy of the demo chain's store (its model, phases and run), to damage."""
    source, root = mnli_xnli.store.root, tmp_path / "store"
    for path in (
        mnli_xnli.store.model_dir("tiny-xlmr", key()),
        mnli_xnli.phase_dir(0),
        mnli_xnli.phase_dir(1),
        mnli_xnli.run_dir,
    ):
        shutil.copytree(path, root / path.relative_to(source))
    yield FinishedChain(mnli_xnli.plan, Store(root), mnli_xnli.result)


def rerun(demo: FinishedChain) -> tuple[Outcome, Said]:
    said = Said()
    return Runner(demo.store, callbacks=[said]).run(demo.plan), said


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize(
    ("file", "damage", "problem"),
    [
        ("manifest.json", lambda p: p.write_text("garbage"), "not JSON"),
        ("results.json", lambda p: write_json(p, []), "its manifest records"),
        ("predictions/xnli/test-de.tsv", truncate, "its manifest records"),
    ],
    ids=["manifest-not-json", "results-a-list", "predictions-cut-short"],
)
def test_a_damaged_run_is_scored_again_from_its_phases(demo, file, damage, problem):
    """Not read back (a manifest of garbage used to be, silently), nor a crash: the run says
    which file is damaged and scores its phases' model again."""
    damage(demo.run_dir / file)
    outcome, said = rerun(demo)
    assert len(said.damaged) == 1 and said.damaged[0].startswith(f"{demo.run_dir / file}: ")
    assert problem in said.damaged[0]
    assert not outcome.reused and said.trained == []
    assert outcome.result == demo.result
    assert Runner(demo.store).finished(demo.plan) == demo.result  # whole again


@pytest.mark.parametrize(
    ("file", "damage", "problem"),
    [
        (PHASE_MANIFEST, lambda p: write_json(p, [1, 2]), "a JSON list, not an object"),
        ("model/model.safetensors", truncate, "its manifest records"),
    ],
    ids=["manifest-a-list", "weights-cut-short"],
)
def test_a_damaged_phase_is_trained_again_alone(demo, file, damage, problem):
    damage(demo.phase_dir(1) / file)
    shutil.rmtree(demo.run_dir)
    outcome, said = rerun(demo)
    assert len(said.damaged) == 1 and said.damaged[0].startswith(f"{demo.phase_dir(1) / file}: ")
    assert problem in said.damaged[0]
    assert said.trained == ["xnli"]  # mnli, undamaged, is reused
    assert outcome.result == demo.result
    assert phase_record(demo.phase_dir(1)) is not None


def test_a_damaged_bundled_model_is_built_again(demo):
    """Its phases are reused, so nothing would load the cut-off weights this run: they are
    found by size all the same, and built again (the same bytes)."""
    model = demo.store.model_dir("tiny-xlmr", key())
    weights = (model / "model.safetensors").read_bytes()
    truncate(model / "model.safetensors")
    shutil.rmtree(demo.run_dir)
    outcome, said = rerun(demo)
    assert said.damaged == [
        f"{model / 'model.safetensors'}: {len(weights) // 2} bytes, its manifest records "
        f"{len(weights)}"
    ]
    assert (model / "model.safetensors").read_bytes() == weights
    assert said.trained == [] and outcome.result == demo.result


def without_recorded_files(phase_dir: Path) -> None:
    """The phase as stilts 0.2.0 wrote it: its manifest records no files."""
    record = read_json(phase_dir / PHASE_MANIFEST)
    del record[FILES]
    write_json(phase_dir / PHASE_MANIFEST, record)


def test_a_phase_written_before_files_were_recorded_is_reused(demo):
    for index in (0, 1):
        without_recorded_files(demo.phase_dir(index))
    shutil.rmtree(demo.run_dir)
    outcome, said = rerun(demo)
    assert said.damaged == [] and said.trained == []
    assert outcome.result == demo.result


def test_a_phase_written_before_files_were_recorded_is_checked_by_its_weights_header(demo):
    without_recorded_files(demo.phase_dir(1))
    truncate(demo.phase_dir(1) / "model" / "model.safetensors")
    shutil.rmtree(demo.run_dir)
    outcome, said = rerun(demo)
    assert "its safetensors header describes" in said.damaged[0]
    assert said.trained == ["xnli"] and outcome.result == demo.result


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"garbage", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'"phase"', "a JSON str, not an object"),
        (b'{"fingerprint": "abc"}', "it lacks 'dev'"),
        (b'{"fingerprint": "abc", "dev": {}, "files": {"model/x": 3}}', "'files' are not"),
    ],
)
def test_a_phase_manifest_that_is_not_one_is_damage(tmp_path, text, problem):
    (tmp_path / PHASE_MANIFEST).write_bytes(text)
    with pytest.raises(Damaged, match=problem) as raised:
        phase_record(tmp_path)
    assert raised.value.path == tmp_path / PHASE_MANIFEST


def test_a_safetensors_file_cut_anywhere_is_found_by_its_header(mnli_xnli, tmp_path):
    whole = mnli_xnli.phase_dir(1) / "model" / "model.safetensors"
    check_safetensors(whole)
    data = whole.read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    for size in (0, 5, 8, header - 1, header, len(data) - 1):
        cut = tmp_path / f"cut-{size}.safetensors"
        cut.write_bytes(data[:size])
        with pytest.raises(Damaged):
            check_safetensors(cut)


def test_a_store_that_is_a_file_is_one_error_line(tmp_path):
    store = tmp_path / "store"
    store.write_text("not a directory")
    result = stilts_cli("chain", "mnli", "xnli", "--store", str(store))
    assert_user_error(result, f"the store {store} is a file, not a directory", "--store DIR")
    assert store.read_text() == "not a directory"


def as_a_user_permissions_bind() -> list[str]:
    """The command prefix under which file permissions hold: none for a user; for root (who
    may write anything), `setpriv` dropping its power to override them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("run as root without setpriv: a read-only directory is writable to root")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_read_only_store_is_one_error_line(tmp_path):
    store = tmp_path / "store"
    store.mkdir(mode=0o555)
    result = subprocess.run(
        [*as_a_user_permissions_bind(), sys.executable, "-m", "stilts", "chain", "mnli", "xnli",
         "--store", str(store)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(result, f"cannot write the store {store} (Permission denied)", "--store DIR")
    assert list(store.iterdir()) == []


def test_a_read_only_store_is_read_but_not_written(demo):
    """Its finished chain is read back; a grid of it, which would write its study table, is
    one error line."""
    for path in [demo.store.root, *demo.store.root.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    root = str(demo.store.root)
    chain = subprocess.run(
        [*as_a_user_permissions_bind(), sys.executable, "-m", "stilts", "chain", "mnli", "xnli",
         "--store", root],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert chain.returncode == 0, chain.stderr
    grid = subprocess.run(
        [*as_a_user_permissions_bind(), sys.executable, "-m", "stilts", "grid", "--intermediate",
         "mnli", "--target", "xnli", "--no-baselines", "--no-plot", "--store", root],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(grid, f"cannot write the store {root} (Permission denied)")
    assert not (demo.store.root / "grids").exists()


def test_the_manifests_record_every_published_file(mnli_xnli):
    """What the cheap check and `stilts store verify` compare with: each phase's model files,
    the run's results and predictions, the bundled model's files."""
    phase = read_json(mnli_xnli.phase_dir(1) / PHASE_MANIFEST)[FILES]
    assert {"model/model.safetensors", "model/config.json", "model/tokenizer.json"} <= set(phase)
    run = read_json(mnli_xnli.run_dir / "manifest.json")[FILES]
    assert {"results.json", "results.csv", "predictions/xnli/test-de.tsv"} <= set(run)
    assert all(set(entry) == {"bytes", "sha256"} for entry in [*phase.values(), *run.values()])
    model = read_json(mnli_xnli.store.model_dir("tiny-xlmr", key()) / "model.json")[FILES]
    assert "model.safetensors" in model


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return stilts_cli("store", "verify", *args, env=env)


def test_verify_finds_a_whole_store_whole_without_the_heavy_libraries(demo):
    result = verify(env={"STILTS_STORE": str(demo.store.root)})  # the store by default
    assert result.returncode == 0, result.stderr
    assert f"{demo.store.root}: 4 finished artefacts, 0 damaged" in " ".join(result.stdout.split())
    assert heavy_modules(["store", "verify", str(demo.store.root)]) == ""


def test_verify_names_each_damaged_artefact_in_one_line(demo):
    """By hash, it finds what a run's size check cannot: a byte changed in place."""
    weights = demo.phase_dir(0) / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    results = demo.run_dir / "results.csv"
    size = results.stat().st_size
    truncate(results)
    write_json(demo.phase_dir(1) / PHASE_MANIFEST, [])
    (demo.store.root / "phases" / "pawsx-0123456789ab" / "checkpoints").mkdir(parents=True)
    result = verify(str(demo.store.root))
    root = demo.store.root
    assert result.stdout.splitlines()[:3] == [
        f"{weights.relative_to(root)}: its sha256 differs from the one its manifest records",
        f"{(demo.phase_dir(1) / PHASE_MANIFEST).relative_to(root)}: a JSON list, not an object",
        f"{results.relative_to(root)}: {size // 2} bytes, its manifest records {size}",
    ]
    summary = " ".join(result.stdout.split())
    assert f"{root}: 4 finished artefacts, 3 damaged; 1 unfinished" in summary
    assert_user_error(result, f"3 damaged in {root}: the next run that needs one builds it again")
    single = verify(str(demo.phase_dir(0)))  # one artefact
    assert single.returncode == 2 and single.stdout.startswith("model/model.safetensors: ")


def test_verify_says_what_it_could_not_check_of_a_phase_an_earlier_stilts_wrote(demo):
    without_recorded_files(demo.phase_dir(0))
    result = verify(str(demo.store.root))
    assert result.returncode == 0, result.stderr
    summary = " ".join(result.stdout.split())
    assert "0 damaged; 1 written by an earlier stilts record no files" in summary


def test_verify_of_something_that_is_no_store_is_one_error_line(tmp_path):
    assert_user_error(verify(str(tmp_path)), f"{tmp_path} is not a stilts store")


def test_the_progress_counts_a_damaged_phase_as_one_to_train(tmp_path):
    """Not as reused (it will train): the grid's count of phases to go never goes negative."""
    import io

    from rich.console import Console

    from stilts.runtime.progress import ExperimentProgress

    chain = plan(ChainConfig(phases=("mnli", "xnli")))
    store = Store(tmp_path)
    for phase in chain.phases:
        manifest = store.phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST
        write_json(manifest, {"fingerprint": phase.fingerprint, "dev": {}})
    write_json(manifest, [])  # the xnli phase's
    progress = ExperimentProgress(Console(file=io.StringIO()), [chain], store, grid=True,
                                  force=False)  # fmt: skip
    with progress:
        progress.on_run_begin(chain)
        progress.on_phase_end(chain, chain.phases[1], {})
    assert progress.progress.tasks[0].fields["note"] == "· phases: 1 trained, 1 reused, 0 to go"
