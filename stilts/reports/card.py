"""A finished run (or phase) as the folder `stilts push` uploads: its model and a model card.

The card is what the hub shows and what a reader needs to trust the numbers: the chain that
produced the model, the base model and its commit, every dataset at its pinned commit, each
phase's hyperparameters, the seed, the package versions, and the zero-shot results per
language, as `model-index` evaluation results (`huggingface_hub.EvalResult`) so the hub
renders them. The run's recipe is embedded whole: ``stilts run`` on it plans the very same
fingerprints, so it reproduces the model with the same package versions.

The folder holds the phase's model directory as the store keeps it (safetensors, tokenizer,
config; a multi-task phase's heads and a stacked adapter as their own files), the card as
README.md, and, for a run, its recipe.yaml and results.json.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stilts.errors import StiltsError
from stilts.store.files import write_json, write_text
from stilts.store.integrity import read_manifest
from stilts.store.layout import PHASE_MANIFEST, RUN_MANIFEST
from stilts.store.results import ChainResult
from stilts.tasks import registry

HEAD_TASK_TYPES = {
    "classification": "text-classification",
    "multiple-choice": "multiple-choice",
    "tagging": "token-classification",
    "qa": "question-answering",
    "retrieval": "sentence-similarity",
}
"""The hub's task type of each head kind (what the hub files the results under)."""
RECIPE_FENCE = "```yaml"


@dataclass(frozen=True)
class Trained:
    """What a card is made of: a run's (or one phase's) records and its model directory."""

    model_dir: Path
    phases: list[dict[str, Any]]
    """Each trained phase's record, in training order (phase.json)."""
    manifest: dict[str, Any] | None = None
    """The run's manifest; None for a phase pushed on its own."""
    result: ChainResult | None = None
    """The run's results; None for a phase."""

    @classmethod
    def read(cls, path: Path) -> Trained:
        """The run or phase directory at `path`."""
        if (path / RUN_MANIFEST).is_file():
            manifest = read_manifest(path / RUN_MANIFEST, ("phases", "recipe", "results"))
            if not manifest["phases"]:
                raise StiltsError(f"run {path} trained no phase, so it has no model to push")
            model_dir = Path(manifest["phases"][-1]["dir"]) / "model"
            return cls(model_dir, list(manifest["phases"]), manifest, ChainResult.read(path))
        if (path / PHASE_MANIFEST).is_file():
            return cls(path / "model", [read_manifest(path / PHASE_MANIFEST, ("spec",))])
        raise StiltsError(
            f"{path} is neither a run nor a phase directory of a store (no {RUN_MANIFEST} or "
            f"{PHASE_MANIFEST}); pass e.g. stilts-runs/runs/mnli-xnli-…"
        )


def card_text(trained: Trained, repo_id: str) -> str:
    """The model card: `model-index` metadata, then the chain, results, training, and how
    to reproduce it."""
    from huggingface_hub import ModelCard, ModelCardData

    manifest = trained.manifest or {}
    start = trained.phases[0]["spec"]["start"]
    base = start.get("model", "")
    data = _datasets(manifest.get("data") or [r for p in trained.phases for r in p["data"]])
    result = trained.result
    metadata = ModelCardData(
        model_name=repo_id,
        library_name="transformers",
        base_model=base if "/" in base and not base.startswith("bundled:") else None,
        datasets=sorted(data),
        language=sorted(result.test) if result else None,
        tags=["stilts", "intermediate-task-training", "cross-lingual-transfer"],
        eval_results=_eval_results(result, data) if result else None,
    )
    sections = [
        f"# {repo_id}\n\n{_summary(trained, base, start)}",
        _results_section(result) if result else _dev_section(trained.phases[-1]),
        _training_section(trained, data),
        _reproduce_section(manifest),
    ]
    card = ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")
    return str(card)


def write_folder(trained: Trained, repo_id: str, folder: Path) -> Path:
    """The folder that is uploaded: the model as stored, README.md (the card), and for a run
    recipe.yaml and results.json."""
    if folder.exists() and any(folder.iterdir()):
        raise StiltsError(f"{folder} exists and is not empty; choose another --out")
    shutil.copytree(trained.model_dir, folder, dirs_exist_ok=True)
    write_text(folder / "README.md", card_text(trained, repo_id))
    if trained.manifest is not None:
        write_text(folder / "recipe.yaml", _recipe_yaml(trained.manifest))
        write_json(folder / "results.json", trained.manifest["results"])
    return folder


def recipe_in_card(text: str) -> str:
    """The recipe a card embeds (its first YAML block)."""
    start = text.index(RECIPE_FENCE) + len(RECIPE_FENCE)
    return text[start : text.index("```", start)].strip() + "\n"


def _summary(trained: Trained, base: str, start: Mapping[str, Any]) -> str:
    chain = " → ".join(phase["task"] for phase in trained.phases)
    where = f"`{base}`" + (f" at commit `{start['revision']}`" if start.get("revision") else "")
    result = trained.result
    target = (
        f", evaluated zero-shot on {result.target} in {len(result.test)} languages"
        if result
        else ""
    )
    return (
        f"An XLM-R-style encoder fine-tuned with stilts on the chain "
        f"**{chain}**, starting from {where}{target}. Each phase trained in turn from the "
        "model the one before it left; the last phase's training language is English, and "
        "every other language is zero-shot."
    )


def _results_section(result: ChainResult) -> str:
    lines = [
        f"## Results: {result.target}, {result.metric} on {result.split}",
        "",
        f"Trained in {result.train_language} (★), scored zero-shot in the other languages; the "
        "average is the plain mean over the languages, as XTREME reports it.",
        "",
        f"| language | {result.metric} |",
        "|---|---:|",
    ]
    for language, scores in result.test.items():
        star = " ★" if language == result.train_language else ""
        lines.append(f"| {language}{star} | {scores[result.metric]:.2f} |")
    lines.append(f"| **average** | **{result.average:.2f}** |")
    return "\n".join(lines)


def _dev_section(phase: Mapping[str, Any]) -> str:
    """A phase's own dev scores: by language, or, for a multi-task phase, by task."""
    lines = [f"## Dev scores of phase {phase['task']}", "", "| task | language | metric | score |",
             "|---|---|---|---:|"]  # fmt: skip
    by_task = phase["dev"] if "tasks" in phase["spec"] else {phase["task"]: phase["dev"]}
    for task, languages in by_task.items():
        for language, scores in languages.items():
            lines += [f"| {task} | {language} | {metric} | {value:.2f} |"
                      for metric, value in scores.items()]  # fmt: skip
    return "\n".join(lines)


def _training_section(trained: Trained, data: Mapping[str, set[str]]) -> str:
    lines = ["## Training", ""]
    manifest = trained.manifest or {}
    if "seed" in manifest:
        lines.append(f"- seed: {manifest['seed']}")
    if "precision" in manifest:
        lines.append(f"- precision: {manifest['precision']}")
    lines.append("- data, each at its pinned commit:")
    lines += [
        f"  - `{repo}` at `{', '.join(sorted(commits))}`" for repo, commits in sorted(data.items())
    ]
    lines += ["", "| phase | learning rate | epochs | batch | max length | steps | selected step |",
              "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for phase in trained.phases:
        hp = _hyperparameters(phase["spec"])
        selection = phase.get("selection", {})
        lines.append(
            f"| {phase['task']} | {hp.get('learning_rate', '')} | {hp.get('epochs', '')} | "
            f"{hp.get('batch_size', '')} | {hp.get('max_length', '')} | "
            f"{selection.get('steps', '')} | {selection.get('selected_step', '')} |"
        )
    packages = manifest.get("packages") or trained.phases[-1].get("packages", {})
    lines += [
        "",
        "Packages: " + ", ".join(f"{name} {version}" for name, version in packages.items()),
    ]
    return "\n".join(lines)


def _reproduce_section(manifest: Mapping[str, Any]) -> str:
    if not manifest:
        return (
            "## Reproduce\n\nThis is one phase of a stilts chain; its record (`phase.json` in "
            "the store) holds the spec its fingerprint is the hash of."
        )
    return (
        "## Reproduce\n\nWith the package versions above, this recipe trains the same phases "
        "(the same fingerprints) and scores them:\n\n"
        f"{RECIPE_FENCE}\n{_recipe_yaml(manifest)}```\n\n"
        "```\npip install stilts\nstilts run recipe.yaml\n```"
    )


def _recipe_yaml(manifest: Mapping[str, Any]) -> str:
    return yaml.safe_dump(manifest["recipe"], sort_keys=False, allow_unicode=True)


def _hyperparameters(spec: Mapping[str, Any]) -> dict[str, Any]:
    if "hyperparameters" in spec:
        return dict(spec["hyperparameters"])
    return dict(spec["tasks"][0]["hyperparameters"])  # a multi-task phase: one optimiser


def _datasets(records: list[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Each dataset repo read, with the commits it was read at."""
    data: dict[str, set[str]] = {}
    for record in records:
        data.setdefault(record["repo"], set()).add(str(record.get("revision") or "local copy"))
    return data


def _eval_results(result: ChainResult, data: Mapping[str, set[str]]) -> list[Any]:
    from huggingface_hub import EvalResult

    task = registry.load(result.target)
    task_type = HEAD_TASK_TYPES.get(task.head.kind, "other")
    # The last source is the one evaluated: a task whose training data lives elsewhere lists
    # it first (XNLI: GLUE's MNLI, then XTREME's XNLI).
    repo = task.sources[-1].repo
    revision = next(iter(sorted(data.get(repo, {"main"}))))
    return [
        EvalResult(
            task_type=task_type, dataset_type=repo, dataset_name=f"{result.target} ({language})",
            dataset_config=language, dataset_split=result.split, dataset_revision=revision,
            metric_type=result.metric, metric_value=scores[result.metric],
            metric_name=f"{result.metric} ({language})",
        )
        for language, scores in result.test.items()
    ]  # fmt: skip


REPO_ID = re.compile(r"(?!.*(--|\.\.))[\w.-]{1,96}/[\w.-]{1,96}")
"""USER/NAME as the hub takes it (huggingface_hub's validate_repo_id, which it does not
export for type checkers): letters, digits, '-', '_', '.', no '--' or '..'."""


def check_repo_id(repo_id: str) -> None:
    """Refuse a repo id the hub would refuse, before anything is written."""
    if not REPO_ID.fullmatch(repo_id) or repo_id[0] in "-." or repo_id[-1] in "-.":
        raise StiltsError(
            f"{repo_id!r} is not a hub repo id: write USER/NAME or ORG/NAME (letters, digits, "
            "'-', '_' and '.')"
        )


def upload(folder: Path, repo_id: str, *, private: bool, revision: str | None) -> str:
    """Create `repo_id` if needed (and branch `revision`), upload `folder`; the repo's URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision is not None:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        api.upload_folder(
            folder_path=folder, repo_id=repo_id, revision=revision,
            commit_message="Upload a model trained with stilts",
        )  # fmt: skip
    except (OSError, ValueError) as error:  # offline, refused, not logged in (HTTP errors too)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StiltsError(
            f"cannot push to {repo_id}: {first}; log in (`hf auth login`, or HF_TOKEN) with "
            "write access, or check it with --dry-run"
        ) from None
    return f"https://huggingface.co/{repo_id}" + (f"/tree/{revision}" if revision else "")
