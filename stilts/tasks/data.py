"""Where task data comes from: a hub dataset pinned to a commit, or a local mirror of it.

One code path reads the hub, a lab's mirror, the bundled sample and test fixtures: every source
is named by its hub repo and a `data_files` pattern, and a local root directory simply stands in
for the hub (``ROOT/<org>/<name>`` holds the same files as the hub repo at that revision). A
run may read several roots, the first that holds a source's files serving it: a plugin's own
data beside the bundled sample (``--data DIR --data sample``), or a mirror with the hub last.

A source is identified, in phase fingerprints, by content: a hub source by its commit (a
branch such as ``main`` moves, so a built-in source names a 40-hex commit), a local copy by
its files' hashes. Data that is never on the hub (a licensed corpus, a GitHub release) is
declared local-only (`local_source`) and is only ever identified by its files' hashes.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from stilts.errors import StiltsError

if TYPE_CHECKING:
    import datasets


COMMIT = re.compile(r"[0-9a-f]{40}")
"""A hub (git) commit id: the only revision that names content, where a branch or tag moves."""


def is_commit(revision: str | None) -> bool:
    return revision is not None and COMMIT.fullmatch(revision) is not None


Role = Literal["train", "dev", "test"]
"""What a table is for: training (English), model selection (English dev), zero-shot testing."""


@dataclass(frozen=True)
class RoleSplits:
    """The split of a source that serves each role.

    Most datasets name theirs train, validation and test; where one differs (GLUE hides its
    test labels, so its validation split serves as test) the source says so once, instead of
    every loader keeping a role -> split table of its own.
    """

    train: str = "train"
    dev: str = "validation"
    test: str = "test"


STANDARD_SPLITS = RoleSplits()
"""train, validation and test, as most hub datasets name their splits."""
DEV_AS_TEST = RoleSplits(test="validation")
"""For a dataset whose test labels are hidden (GLUE, SQuAD…) or that has no test split: its
validation split serves as dev and as test."""


@dataclass(frozen=True)
class HubSource:
    """One table family of a hub dataset repo, pinned to a revision.

    `files` is a glob of parquet files with a ``{split}`` placeholder, relative to the repo
    root, e.g. ``"mnli/{split}-*.parquet"``. Naming files instead of a config keeps
    script-based datasets (read through their parquet conversion) and plain parquet repos on
    one path.
    """

    repo: str
    revision: str
    files: str
    splits: RoleSplits = field(default=STANDARD_SPLITS, compare=False)
    """Which split serves each role. It chooses among the files and does not change their
    bytes, so it is neither in `DataLocator.identity` nor in equality: sources that differ in
    it alone read the same tables, which a `DataLocator` reads and records once."""
    local_only: bool = False
    """Never read from the hub, only from a copy under a `DataLocator` root (see
    `local_source`): `revision` is then a label, and the copy's file hashes identify it."""

    def __post_init__(self) -> None:
        """Refuse a placeholder other than ``{split}`` where the source is built (a plugin's
        import), not as a KeyError when a chain first reads it: a source is one language's
        files, and a per-language dataset has one source per language."""
        fields = {
            name for _, name, _, _ in string.Formatter().parse(self.files) if name is not None
        }
        if fields - {"split"}:
            raise StiltsError(
                f"HubSource {self.repo}: files {self.files!r} may hold no placeholder but "
                "{split}; for files per language build one source per language, "
                'files=f"{language}/{{split}}-*.parquet" (docs/writing-a-plugin.md, '
                "Files per language)"
            )

    def split(self, role: Role) -> str:
        """The split that serves `role`."""
        return getattr(self.splits, role)

    def pattern(self, split: str) -> str:
        return self.files.format(split=split)

    def download_hint(self, root: Path | str) -> str:
        return (
            f"hf download {self.repo} --repo-type dataset --revision {self.revision} "
            f"--local-dir {Path(root) / self.repo}"
        )


def local_source(
    repo: str, files: str, splits: RoleSplits = STANDARD_SPLITS, *, release: str = "local"
) -> HubSource:
    """Data that is not on the hub (licensed, or published elsewhere), named like a hub source
    so that a local root holds it at ``ROOT/<repo>`` as a mirror holds hub data. It is read
    only from there (`DataLocator.local_files`) and identified by its files' hashes, never by
    a revision: `release` only tells people which release the copy should be (a GitHub tag)."""
    return HubSource(repo, release, files, splits, local_only=True)


class DataLocator:
    """Loads the tables of hub sources from the hub or from local mirror roots, once each.

    `root` is a mirror directory, or None for the hub; `more` are further roots, each read
    only for the sources that those before it lack (`root_for`; None, the hub, only last).
    Keeps a record of every table it read (location, rows, content hash) for run manifests.
    """

    def __init__(self, root: Path | None = None, more: Sequence[Path | None] = ()) -> None:
        self.root = root
        """The first root: where a source none of the roots holds is looked for."""
        self.roots = (root, *more)
        if None in self.roots[:-1]:
            raise ValueError("the hub holds every source: only the last root can be it")
        self._tables: dict[tuple[HubSource, str], datasets.Dataset] = {}
        self._records: dict[tuple[HubSource, str], dict[str, Any]] = {}

    def __repr__(self) -> str:
        more = f", more={list(self.roots[1:])}" if len(self.roots) > 1 else ""
        return f"DataLocator(root={self.root}{more})"

    def root_for(self, source: HubSource) -> Path | None:
        """The root `source` is read from: the first local root holding any of its files, else
        the hub where it is a root (never for local-only data), else the first root, whose
        missing copy errors then name. With one root, that root, so a source read from one
        root is identified (`identity`) as it always was."""
        if len(self.roots) == 1:
            return self.root
        local = [root for root in self.roots if root is not None]
        for root in local:
            if any((root / source.repo).glob(source.pattern("*"))):
                return root
        if self.roots[-1] is None and not (source.local_only and local):
            return None
        return local[0]

    def where(self, source: HubSource) -> str:
        """A short human description of where `source` is read from."""
        root = self.root_for(source)
        if root is None:
            return f"hub {source.repo}@{source.revision}"
        return str(root / source.repo)

    def identity(self, source: HubSource) -> dict[str, str]:
        """What decides the bytes this locator reads for `source` (for phase fingerprints).

        A hub source read from the hub is its commit; anything read from a local copy is the
        hash of the copy's files. A local-only source without a root has no files, and
        hashes as such: a task that needs it fails when it reads it (`local_files`); one that
        can do without (mlm's own text) reads something else, which its other sources name.
        """
        ident = {"repo": source.repo, "revision": source.revision, "files": source.files}
        if self.root_for(source) is not None or source.local_only:
            ident["local_sha256"] = sha256_files(self._copy(source, source.pattern("*")))
        return ident

    def _copy(self, source: HubSource, pattern: str) -> list[Path]:
        """The files of the local copy of `source` that match `pattern`, in order (none
        without a root)."""
        root = self.root_for(source)
        if root is None:
            return []
        return sorted((root / source.repo).glob(pattern))

    def load(
        self,
        source: HubSource,
        split: str,
        *,
        columns: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> datasets.Dataset:
        """The table `split` of `source`, checked to have `columns`, each without an empty
        (null) cell but those in `optional` (a label left empty marks an unlabelled row)."""
        columns, optional = tuple(columns), set(optional)
        key = (source, split)
        if key not in self._tables:
            self._tables[key] = self._read(source, split)
        table = self._tables[key]
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise StiltsError(
                f"{self.where(source)} split '{split}' has no column "
                f"{', '.join(repr(c) for c in missing)} (it has {', '.join(table.column_names)}); "
                f"point --data at a copy in the schema of {source.repo}"
            )
        for column in columns:
            if column not in optional:
                _check_no_nulls(table, column, f"{self.where(source)} split '{split}'")
        return table

    def local_files(self, source: HubSource, splits: Iterable[str], *, what: str) -> list[Path]:
        """The files of `splits` of a source that is only ever read from a local copy
        (licensed, or not on the hub), in order; `what` names the data in errors."""
        splits = tuple(splits)
        local = self._check_copy(source, what=what)
        files = [path for split in splits for path in self._copy(source, source.pattern(split))]
        if not files:
            raise StiltsError(
                f"{local} has no {what} files (expected {local / source.pattern(splits[0])})"
            )
        return files

    def _check_copy(self, source: HubSource, *, what: str) -> Path:
        """Where the local copy of local-only data is; without a root, a one-line error."""
        root = self.root_for(source)
        if root is None:
            raise StiltsError(
                f"{what} is read from a local copy only: put it at DIR/{source.repo} and "
                "pass --data DIR"
            )
        return root / source.repo

    def records(self) -> list[dict[str, Any]]:
        """Every table read so far, with a content hash of its Arrow files."""
        return [self._records[key] for key in sorted(self._records, key=str)]

    def _read(self, source: HubSource, split: str) -> datasets.Dataset:
        import datasets

        # huggingface_hub exports its HTTP client (httpx or its successor) under this name in
        # a computed __all__, which mypy cannot read.
        from huggingface_hub.utils import httpx  # type: ignore[attr-defined]

        pattern = source.pattern(split)
        if source.local_only:
            self._check_copy(source, what=source.repo)
        root = self.root_for(source)
        if root is None:
            # hf:// paths through the parquet builder, not load_dataset(repo): a repo (or a
            # mirror of it) that still holds a loading script is refused by datasets >= 4
            # even when data_files are given; its parquet files read fine this way.
            files = f"hf://datasets/{source.repo}@{quote(source.revision, safe='')}/{pattern}"
        else:
            local = root / source.repo
            if not local.is_dir():
                raise StiltsError(
                    f"no local copy of {source.repo} under {self._searched(root)} (expected "
                    f"{local}); fetch it on a machine with hub access: "
                    f"{source.download_hint(root)}"
                )
            found = sorted(local.glob(pattern))
            if not found:
                raise StiltsError(
                    f"{local} has no files matching '{pattern}' (split '{split}' of "
                    f"{source.repo}); fetch them with: {source.download_hint(root)}"
                )
            for path in found:
                _check_parquet(path, source.download_hint(root))
            files = str(local / pattern)
        try:
            table = datasets.load_dataset("parquet", data_files={split: files}, split=split)
        except (ConnectionError, httpx.TransportError) as error:
            raise StiltsError(
                f"cannot reach the Hugging Face hub to read {source.repo} ({error}); "
                f"use a local mirror instead: {source.download_hint('DIR')} on a machine "
                f"with access, then pass --data DIR"
            ) from None
        except FileNotFoundError:
            raise StiltsError(
                f"{self.where(source)} has no files matching '{pattern}' (split '{split}'); "
                "check the repo, revision and file pattern of this source"
            ) from None
        except datasets.exceptions.DatasetGenerationError as error:  # files that disagree
            cause = _first_line(error.__cause__ or error)
            raise StiltsError(
                f"{self.where(source)} split '{split}' ({pattern}) cannot be read as one table: "
                f"{cause}; every file of a split must share one schema"
            ) from None
        if table.num_rows == 0:
            raise StiltsError(
                f"{self.where(source)} split '{split}' ({pattern}) holds no rows; fetch it "
                f"again: {source.download_hint(root or 'DIR')}"
            )
        self._records[(source, split)] = {
            "repo": source.repo,
            "revision": source.revision,
            "split": split,
            "location": self.where(source),
            "rows": table.num_rows,
            "sha256": sha256_files(Path(f["filename"]) for f in table.cache_files),
        }
        return table

    def _searched(self, root: Path) -> str:
        """`root`, or every root where there are several (`--data DIR --data sample`)."""
        if len(self.roots) == 1:
            return str(root)
        return " or ".join(str(r) for r in self.roots if r is not None)


def _check_parquet(path: Path, hint: str) -> None:
    """Refuse a file that is not whole parquet (cut off, empty, another format renamed) or
    holds no rows, with one line naming it, before `datasets` fails on it in its builder."""
    import pyarrow
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(path).num_rows
    except (pyarrow.ArrowInvalid, OSError) as error:
        raise StiltsError(
            f"{path} is not a readable parquet file ({_first_line(error)}); fetch it again: {hint}"
        ) from None
    if rows == 0:  # datasets' parquet builder fails on it with a logged traceback
        raise StiltsError(f"{path} holds no rows; fetch it again: {hint}")


def _check_no_nulls(table: datasets.Dataset, column: str, where: str) -> None:
    """Refuse an empty (null) cell in a column a task reads: tokenisers and metrics fail on it
    far from the file, with no row to look at."""
    import pyarrow.compute as pc

    cells = table.data.column(column)
    if cells.null_count:
        row = pc.index(pc.is_null(cells), True).as_py()
        more = f" (and {cells.null_count - 1} more)" if cells.null_count > 1 else ""
        raise StiltsError(
            f"{where} column '{column}' is empty (null) in row {row}{more}; fill or drop "
            "those rows in the copy"
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def sha256_files(paths: Iterable[Path]) -> str:
    """One hash over the bytes of `paths`, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
