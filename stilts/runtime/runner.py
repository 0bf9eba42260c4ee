"""The one runner: what to train, what to reuse and what to score, for every command.

`stilts chain`, `stilts grid`, `stilts run` and `stilts eval` all run planned chains through
a `Runner`, so "is this already done?" and "what does --force redo?" have one answer:

* A run whose manifest the store holds is finished: its results are read back (no torch is
  imported for that, so a finished grid reads back in a second).
* A phase whose phase.json the store holds is complete and is reused; otherwise it trains,
  resuming from its last Trainer checkpoint if a killed run left one.
* A run or phase whose files are damaged (`stilts.store.integrity`) is unfinished: the runner
  says which file is damaged (`RunCallback.on_damaged`) and builds it again.
* One process scores and writes a run, as one trains a phase (`stilts.store.lock`): a second
  process running the same chain reuses the phases, waits for the first to write the run,
  then reads it back.
* With ``force``, each phase and each run is redone the first time this runner meets it and
  reused after that: a grid retrains an intermediate phase once, and every chain after it
  uses the retrained phase, exactly as a single chain would.

What happens is told to `RunCallback`s (progress, logs). The heavy work (Trainer, models,
datasets) is in `stilts.runtime.engine`, imported only once something must train or score.
Only the main process writes under a distributed launch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from stilts import __version__
from stilts.errors import StiltsError
from stilts.eval.submission import path_for
from stilts.experiment.jobs import chains_of
from stilts.experiment.plan import ChainPlan, PlannedPhase
from stilts.experiment.recipe import Recipe
from stilts.runtime.callbacks import CallbackHandler, RunCallback
from stilts.store.files import write_json, write_text
from stilts.store.integrity import FILES, Damaged, recorded
from stilts.store.layout import RUN_MANIFEST, Store, phase_record, whole_phase
from stilts.store.lock import directory_lock
from stilts.store.results import ChainResult
from stilts.tasks.task import Task

if TYPE_CHECKING:
    from accelerate import PartialState

    from stilts.runtime.options import RunOptions
    from stilts.runtime.predict import Evaluation
    from stilts.runtime.training import ModelSource
    from stilts.tasks.task import AnyTask

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome:
    """What became of one chain: its results, and whether they were read back whole."""

    result: ChainResult
    reused: bool
    run_dir: Path


class Runner:
    """Runs planned chains in one store; see the module docstring for what it decides."""

    def __init__(
        self,
        store: Store,
        options: RunOptions | None = None,
        callbacks: Sequence[RunCallback] = (),
        *,
        force: bool = False,
    ) -> None:
        self.store = store
        self.options = options
        """How phases run (per-device batch, Trainer callbacks); not what they compute."""
        self.callbacks = CallbackHandler(callbacks)
        self.force = force
        self._redone: set[str] = set()
        """Fingerprints of the phases and runs this runner has (re)done, so that --force
        redoes each once."""

    def add_callback(self, callback: RunCallback) -> None:
        """Tell `callback` of what the runner does from now on (as `Trainer.add_callback`)."""
        self.callbacks = CallbackHandler((*self.callbacks.callbacks, callback))

    def finished(self, chain: ChainPlan) -> ChainResult | None:
        """The results of this very run if the store holds it whole, undamaged (and --force has
        redone it already, or is not given)."""
        try:
            return self._stored(chain)
        except Damaged:
            return None

    def _stored(self, chain: ChainPlan) -> ChainResult | None:
        """As `finished`, raising `Damaged` for a damaged run."""
        if self._redo(chain.run_fingerprint):
            return None
        return ChainResult.stored(self.run_dir(chain))

    def run_dir(self, chain: ChainPlan) -> Path:
        return self.store.run_dir(chain.config.names, chain.run_fingerprint)

    def run_all(self, chains: Sequence[ChainPlan]) -> list[Outcome]:
        """Each chain in turn (phases shared between chains train once)."""
        return [self.run(chain) for chain in chains]

    def run(self, chain: ChainPlan) -> Outcome:
        """Train what the store lacks, score the target, write the run; or read it back."""
        self.callbacks.emit("on_run_begin", chain)
        done = self._undamaged(chain, self._stored, chain)
        if done is not None:
            outcome = Outcome(done, True, self.run_dir(chain))
        else:
            outcome = self._execute(chain)
        self.callbacks.emit("on_run_end", chain, outcome.result, outcome.run_dir, outcome.reused)
        return outcome

    def evaluate(self, chain: ChainPlan, named: str) -> Outcome:
        """Score the starting model of a one-phase `chain` on its task, training nothing
        (`stilts eval`); `named` is how the user named the model. Results go under
        ``STORE/evals``."""
        from stilts.runtime import engine

        started = time.perf_counter()
        engine.check_start(chain)
        engine.set_threads(chain)
        self.store.check_writable()
        state = engine.process_state()
        on_wait = self._waiting(chain, chain.target)
        source = engine.start_source(chain, self.store, state, on_wait, self._damaged(chain))
        target = chain.target.task.bound(chain.data)
        if isinstance(target, Task):
            engine.check_head(target, source)
        self.callbacks.emit("on_evaluate", chain, chain.languages)
        evaluation = engine.score(chain, target, source, self.options)
        out = self.store.root / "evals" / f"{target.name}-{chain.target.fingerprint[:12]}"
        result = _result(chain, target, evaluation, dev={})
        manifest = {
            **self._manifest(chain, started, evaluation),
            "model": {"name": named, "start": chain.phases[0].spec["start"]},
        }
        with self._one_writer(out, state, on_wait, locked=True):
            if state.is_main_process:
                _write(out, target, evaluation, result, manifest)
        return Outcome(result, False, out)

    def _redo(self, fingerprint: str) -> bool:
        """Whether --force still has to redo what `fingerprint` names."""
        return self.force and fingerprint not in self._redone

    def _execute(self, chain: ChainPlan) -> Outcome:
        """Train the phases the store lacks, then score and write the run as its one writer;
        or read it back, if another process wrote it meanwhile."""
        from stilts.runtime import engine

        started = time.perf_counter()
        state = engine.process_state()
        run_dir = self.run_dir(chain)
        if self._redo(chain.run_fingerprint) and state.is_main_process:
            (run_dir / RUN_MANIFEST).unlink(missing_ok=True)  # unfinished until rewritten
        records, source = self._train(chain, chain.trained, state)
        with self._one_writer(run_dir, state, self._waiting(chain, chain.target), locked=True):
            done = self.finished(chain)  # another process wrote it while this one trained
            if done is not None:
                return Outcome(done, True, run_dir)
            result = self._score(chain, source, records, started, state)
        return Outcome(result, False, run_dir)

    def run_job(self, plans: Sequence[ChainPlan], job_id: str) -> list[Outcome]:
        """Do job `job_id` of the graph of `plans` (`stilts.experiment.jobs`): run the chains
        it ends (their earlier phases reused from the store), or train the phase it names."""
        chains, phase = chains_of(plans, job_id)
        if not chains:
            raise StiltsError(
                f"the experiment has no job {job_id}; `--print-jobs` lists the jobs it has left"
            )
        if phase is None:
            return [self.run(chain) for chain in chains]
        (chain,) = chains
        from stilts.runtime import engine

        phases = chain.trained[: chain.trained.index(phase) + 1]
        self._train(chain, phases, engine.process_state())
        return []

    def _train(
        self, chain: ChainPlan, phases: Sequence[PlannedPhase], state: PartialState
    ) -> tuple[list[dict[str, Any]], ModelSource]:
        """Reuse or train `phases` (the chain's first ones, in order), after the checks that
        fail bad input before anything is written; their records, and the model handed on."""
        from stilts.runtime import engine

        engine.preflight(chain)  # bad data and lengths fail before anything is written
        engine.check_start(chain)
        engine.set_threads(chain)
        self.store.check_writable()
        on_wait, on_damaged = self._waiting(chain, chain.phases[0]), self._damaged(chain)
        source = start = engine.start_source(chain, self.store, state, on_wait, on_damaged)
        records = []
        for phase in phases:
            record, source = self._phase(chain, phase, source, start, state)
            records.append(record)
        return records, source

    def _score(
        self,
        chain: ChainPlan,
        source: ModelSource,
        records: list[dict[str, Any]],
        started: float,
        state: PartialState,
    ) -> ChainResult:
        """Score the chain's target on the model its phases handed on; write the run."""
        from stilts.runtime import engine

        target = chain.target.task.bound(chain.data)
        self.callbacks.emit("on_evaluate", chain, chain.languages)
        evaluation = engine.score(chain, target, source, self.options)
        self._redone.add(chain.run_fingerprint)
        dev = records[-1]["dev"] if isinstance(target, Task) else {}  # what selected the model
        result = _result(chain, target, evaluation, dev)
        manifest = {
            **self._manifest(chain, started, evaluation),
            "recipe": Recipe.of_chain(chain.config).dump(),
            "model": {"name": chain.config.model.id, "start": chain.phases[0].spec["start"]},
            "seed": chain.config.seed,
            "phases": records,
            "results": result.as_dict(),
        }
        if state.is_main_process:
            _write(self.run_dir(chain), target, evaluation, result, manifest)
        return result

    def _phase(
        self,
        chain: ChainPlan,
        phase: PlannedPhase,
        source: ModelSource,
        start: ModelSource,
        state: PartialState,
    ) -> tuple[dict[str, Any], ModelSource]:
        """Reuse or train one phase; its record for the run's manifest, and its model."""
        from stilts.runtime import engine

        phase_dir = self.store.phase_dir(phase.name, phase.fingerprint)
        redo = self._redo(phase.fingerprint)
        locked = redo or not whole_phase(phase_dir)
        with self._one_writer(phase_dir, state, self._waiting(chain, phase), locked=locked):
            record = None if redo else self._undamaged(chain, phase_record, phase_dir)
            reused = record is not None
            if record is not None:
                self.callbacks.emit("on_phase_reused", chain, phase, phase_dir)
            else:
                self.callbacks.emit("on_phase_begin", chain, phase, source.name)
                record = engine.train(chain, phase, source, start, phase_dir, self.options, state)
                self._redone.add(phase.fingerprint)
                self.callbacks.emit("on_phase_end", chain, phase, record)
        if reused and phase.aggregate is not None:  # as asked now, from the recorded scores
            record["dev_aggregate"] = engine.dev_aggregate(phase, record["dev"])
        handed_on = engine.phase_model(phase_dir, chain.config.model.trust_remote_code)
        return {**record, "dir": str(phase_dir), "reused": reused}, handed_on

    def _undamaged(self, chain: ChainPlan, read: Callable[[T], R | None], what: T) -> R | None:
        """`read(what)`: a finished artefact, or None; a damaged one is None too, told to the
        callbacks (whoever called this builds it again)."""
        try:
            return read(what)
        except Damaged as damage:
            self._damaged(chain)(damage.short)
            return None

    def _damaged(self, chain: ChainPlan) -> Callable[[str], None]:
        return lambda damage: self.callbacks.emit("on_damaged", chain, damage)

    def _waiting(self, chain: ChainPlan, phase: PlannedPhase) -> Callable[[str], None]:
        return lambda message: self.callbacks.emit("on_phase_wait", chain, phase, message)

    @contextmanager
    def _one_writer(
        self, directory: Path, state: PartialState, on_wait: Callable[[str], None], *, locked: bool
    ) -> Iterator[None]:
        """The block during which `directory` may be written: the main process holds its lock
        (waiting for another run that holds it), then every process looks at the store again."""
        held = directory_lock(directory, on_wait) if locked and state.is_main_process else None
        with held or nullcontext():
            state.wait_for_everyone()  # the others wait with it; then all see what it sees
            yield

    def _manifest(self, chain: ChainPlan, started: float, evaluation: Evaluation) -> dict[str, Any]:
        """What every manifest records: the configuration and the machine and software."""
        from stilts.runtime import engine

        return {
            "stilts": __version__,
            "config": chain.config.model_dump(mode="json", by_alias=True),
            "data": chain.data.records(),
            "packages": engine.package_versions(),
            "hardware": engine.hardware(),
            "precision": chain.precision,
            "seconds": {"test": evaluation.seconds, "total": time.perf_counter() - started},
        }


def _result(
    chain: ChainPlan, target: AnyTask, evaluation: Evaluation, dev: dict[str, Any]
) -> ChainResult:
    return ChainResult(
        tasks=chain.config.names,
        target=target.name,
        metric=target.main_metric,
        train_language=target.train_language,
        dev=dev,
        test=evaluation.scores,
        split=chain.split,
    )


def _write(
    out: Path,
    target: AnyTask,
    evaluation: Evaluation,
    result: ChainResult,
    manifest: dict[str, Any],
) -> None:
    """Predictions, results, then the manifest: written last, it marks the run whole, and
    records the others' sizes and hashes."""
    written = []
    for language, (extension, text) in evaluation.submissions.items():
        path = out / "predictions" / path_for(target.name, language, extension)
        write_text(path, text)
        written.append(path)
    written += result.write(out)
    write_json(out / RUN_MANIFEST, {**manifest, FILES: recorded(out, written)})
