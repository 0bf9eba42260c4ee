"""What a model or dataset named by a moving ref holds: its commit, or its local files' hashes.

A branch or tag (``main``) moves: a phase fingerprinted by it would be reused after the repo
changed under it. So planning pins it, once per process: a hub ref is resolved to the commit it
names, asked of the hub when the hub answers, else read off the hub cache (its
``refs/<ref>`` file names the commit of the snapshot it holds, which is what the libraries load
offline). A 40-hex revision is a commit already and is used as given, without asking. A local
directory has no commit: the hashes of its files identify it.

huggingface_hub is imported only when a ref has to be resolved: planning on commits and local
copies, `stilts --help` and `stilts tasks` never load it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Literal

from stilts.errors import StiltsError
from stilts.tasks.data import is_commit, sha256_files

RepoType = Literal["model", "dataset"]
MODEL_FIX = (
    "name a commit (40 hex digits: --revision, or model.revision in a recipe) or a local copy "
    "(--model DIR)"
)


def model_identity(model: str, revision: str | None) -> dict[str, str]:
    """What decides a starting model's weights (part of phase fingerprints): a local
    directory's name and `directory_sha256`, or a hub model's commit."""
    local = Path(model).expanduser()
    if local.is_dir():
        return {"model": local.name, "sha256": directory_sha256(local)}
    return {"model": model, "revision": hub_commit(model, revision, "model", MODEL_FIX)}


@functools.cache
def hub_commit(repo: str, revision: str | None, repo_type: RepoType, fix: str) -> str:
    """The commit that `revision` (None: ``main``) of hub repo `repo` names now; `fix` ends
    the error when there is none to be had (how to name a commit or a local copy instead)."""
    ref = revision or "main"
    if is_commit(ref):
        return ref
    from huggingface_hub import constants
    from huggingface_hub.errors import HFValidationError

    why = "the hub is not asked (HF_HUB_OFFLINE is set)"
    if not constants.HF_HUB_OFFLINE:
        commit, why = _asked(repo, ref, repo_type, fix)
        if commit is not None:
            return commit
    cache = Path(constants.HF_HUB_CACHE)
    try:
        cached = cached_commit(cache, repo, ref, repo_type)
    except HFValidationError:  # a path that is not there, say
        raise StiltsError(f"{repo!r} is neither a local directory nor a hub id; {fix}") from None
    if cached is None:
        raise StiltsError(
            f"cannot pin {repo_type} {repo!r} at {ref!r} to a commit: {why}, and the hub cache "
            f"{cache} holds no snapshot of it; {fix}"
        )
    return cached


def cached_commit(cache: Path, repo: str, ref: str, repo_type: RepoType) -> str | None:
    """The commit of the snapshot of `repo` at `ref` that the hub cache `cache` holds (None:
    it holds none). A ref whose snapshot is gone names nothing that could be loaded."""
    from huggingface_hub.file_download import repo_folder_name

    folder = cache / repo_folder_name(repo_id=repo, repo_type=repo_type)
    named = folder / "refs" / ref
    if not named.is_file():
        return None
    commit = named.read_text(encoding="utf-8").strip()
    if not is_commit(commit) or not (folder / "snapshots" / commit).is_dir():
        return None
    return commit


def _asked(repo: str, ref: str, repo_type: RepoType, fix: str) -> tuple[str | None, str]:
    """(the commit the hub says `ref` names, or None and why it said none)."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    # huggingface_hub exports its HTTP client under this name in a computed __all__, which
    # mypy cannot read (as stilts.tasks.data).
    from huggingface_hub.utils import httpx  # type: ignore[attr-defined]

    api, timeout = HfApi(), constants.HF_HUB_ETAG_TIMEOUT
    info = api.model_info if repo_type == "model" else api.dataset_info
    try:
        return info(repo, revision=ref, timeout=timeout).sha, "the hub gave no commit"
    except RevisionNotFoundError:
        raise StiltsError(
            f"{repo_type} {repo!r} has no revision {ref!r} on the hub; {fix}"
        ) from None
    except RepositoryNotFoundError:
        raise StiltsError(
            f"the hub has no {repo_type} {repo!r} (a private or gated one needs `hf auth "
            f"login`); {fix}"
        ) from None
    except HFValidationError:
        raise StiltsError(f"{repo!r} is neither a local directory nor a hub id; {fix}") from None
    except (ConnectionError, httpx.TransportError, HfHubHTTPError) as error:
        said = (str(error).splitlines() or [type(error).__name__])[0]
        return None, f"the hub did not answer ({said})"


def directory_sha256(directory: Path) -> str:
    """One hash over a local model directory: the path (relative to it), size and content of
    each file, in path order. Contents are hashed whole (a fine-tuned checkpoint has the size
    of the one it started from), each file once per process while its size, modification
    time and inode stay the same, so a grid planned from one local model reads it once.
    Hidden files and folders are left out: no loader reads them, and ``hf download
    --local-dir`` keeps its download metadata, with timestamps, in ``.cache/``."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        stat = path.stat()
        content = _file_sha256(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{content}\n".encode())
    return digest.hexdigest()


@functools.cache
def _file_sha256(path: str, size: int, mtime_ns: int, inode: int) -> str:
    """The hash of one file's bytes; the stat fields key the cache, so a changed file is
    hashed again."""
    return sha256_files([Path(path)])
