"""Nothing is fingerprinted by a moving ref: a hub branch is pinned to the commit it names, a
local model to its files' hashes, and a commit is used as given.

No test asks the hub: offline (HF_HUB_OFFLINE, set for the whole suite), a branch is read off
a hub cache built here in the layout huggingface_hub writes (``refs/<ref>`` holding the
commit of a snapshot under ``snapshots/<commit>/``). huggingface_hub reads HF_HUB_CACHE once,
when first imported, so planning against such a cache runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.experiment.revisions import cached_commit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"
CHAIN = {"phases": ["mnli", "xnli"], "data": "sample"}
REVIEWS = {
    "kind": "classification", "repo": "acme/reviews", "files": "{split}-*.parquet",
    "columns": {"text": "review"}, "labels": ["negative", "positive"],
}  # fmt: skip
PROBE = """
import json, sys
from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
try:
    chain = plan(ChainConfig.model_validate(json.loads(sys.argv[1])))
except StiltsError as error:
    print(json.dumps({"error": str(error)}))
else:
    first = chain.phases[0]
    print(json.dumps({"spec": first.spec, "fingerprint": first.fingerprint,
                      "revision": chain.model_revision}))
"""


def cache_snapshot(cache: Path, repo: str, repo_type: str, refs: dict[str, str]) -> None:
    """A hub cache holding `repo` at each ref of `refs` (ref -> commit), as a download
    leaves it: the ref's file names the commit, whose snapshot holds the repo's files."""
    folder = cache / f"{repo_type}s--{repo.replace('/', '--')}"
    for ref, commit in refs.items():
        (folder / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
        (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (folder / "snapshots" / commit / "config.json").write_text("{}")


def planned_offline(config: dict[str, Any], cache: Path) -> dict[str, Any]:
    """The first phase's spec and fingerprint and the start commit, as a fresh interpreter
    plans `config` offline against the hub cache `cache` (or its one-line error)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(config)],
        capture_output=True, text=True, env=env, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def test_offline_a_branch_is_pinned_to_the_commit_the_hub_cache_holds(tmp_path):
    cache_snapshot(tmp_path, "acme/encoder", "model", {"main": COMMIT, "v2": OTHER})
    for revision, commit in ((None, COMMIT), ("v2", OTHER)):
        model = {"id": "acme/encoder", "revision": revision}
        got = planned_offline({**CHAIN, "model": model}, tmp_path)
        assert got["spec"]["start"] == {"model": "acme/encoder", "revision": commit}
        assert got["revision"] == commit  # what the runtime loads
        # The branch and the commit it names are one starting point: the same phases.
        pinned = plan(ChainConfig.model_validate({**CHAIN, "model": {**model, "revision": commit}}))
        assert got["fingerprint"] == pinned.phases[0].fingerprint


def test_offline_a_branch_without_a_cached_snapshot_is_a_one_line_error(tmp_path):
    got = planned_offline({**CHAIN, "model": {"id": "acme/encoder"}}, tmp_path / "empty")
    assert got["error"] == (
        "cannot pin model 'acme/encoder' at 'main' to a commit: the hub is not asked "
        f"(HF_HUB_OFFLINE is set), and the hub cache {tmp_path / 'empty'} holds no snapshot "
        "of it; name a commit (40 hex digits: --revision, or model.revision in a recipe) or a "
        "local copy (--model DIR)"
    )


def test_a_ref_names_a_commit_only_while_the_cache_holds_its_snapshot(tmp_path):
    cache_snapshot(tmp_path, "acme/encoder", "model", {"main": COMMIT})
    assert cached_commit(tmp_path, "acme/encoder", "main", "model") == COMMIT
    assert cached_commit(tmp_path, "acme/encoder", "v2", "model") is None
    assert cached_commit(tmp_path, "acme/encoder", "main", "dataset") is None
    (tmp_path / "models--acme--encoder" / "snapshots" / COMMIT).rename(tmp_path / "gone")
    assert cached_commit(tmp_path, "acme/encoder", "main", "model") is None


def test_a_commit_is_kept_as_given_without_asking_the_hub():
    """Offline and with no cache of the model, a commit still plans: it is not resolved."""
    model = {"id": "acme/x", "revision": OTHER}
    chain = plan(ChainConfig.model_validate({**CHAIN, "model": model}))
    assert chain.phases[0].spec["start"] == {"model": "acme/x", "revision": OTHER}
    assert chain.model_revision == OTHER


def test_a_declared_task_read_from_the_hub_is_pinned_to_its_commit(tmp_path):
    cache_snapshot(tmp_path, "acme/reviews", "dataset", {"main": COMMIT})
    config = {
        "phases": ["reviews"], "model": {"id": "acme/x", "revision": OTHER}, "data": "hub",
        "tasks": {"reviews": {**REVIEWS, "revision": "main"}},
    }  # fmt: skip
    got = planned_offline(config, tmp_path)
    assert got["spec"]["declaration"]["revision"] == COMMIT
    assert [source["revision"] for source in got["spec"]["data"]] == [COMMIT]
    declared = {"reviews": {**REVIEWS, "revision": COMMIT}}
    pinned = plan(ChainConfig.model_validate({**config, "tasks": declared}))
    assert got["fingerprint"] == pinned.phases[0].fingerprint


def write_model(directory: Path, weights: bytes) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text('{"model_type": "xlm-roberta"}')
    (directory / "model.safetensors").write_bytes(weights)


def local_fingerprint(directory: Path) -> str:
    config = {**CHAIN, "model": {"id": str(directory)}}
    chain = plan(ChainConfig.model_validate(config))
    assert chain.model_revision is None  # loaded from the directory
    return chain.phases[0].fingerprint


def test_a_local_model_is_identified_by_its_files(tmp_path):
    model = tmp_path / "encoder"
    write_model(model, b"weights-1")
    first = local_fingerprint(model)
    assert local_fingerprint(model) == first
    write_model(model, b"weights-2")  # fine-tuned: the same size, other bytes
    second = local_fingerprint(model)
    assert second != first
    write_model(model, b"weights-1")  # rewritten as it was: content, not time, counts
    assert local_fingerprint(model) == first
    hidden = model / ".cache" / "huggingface" / "download" / "model.safetensors.metadata"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("downloaded at 12:00")  # `hf download --local-dir` keeps these
    assert local_fingerprint(model) == first
    (model / "tokenizer.json").write_text("{}")
    third = local_fingerprint(model)
    assert third not in (first, second)
    (model / "model.safetensors").rename(model / "pytorch_model.bin")  # the same bytes
    assert local_fingerprint(model) not in (first, second, third)
