"""MkDocs hook: the README is the site's home page, read from the file itself at build time.

The README is the repository's front page and the site's at once, so it is included, never
copied (a copy would drift). Its relative links are written from the repository root
(``docs/recipes.md``), the site's pages from ``docs/``: each link is re-pointed to the same
file from the page's place. A link to a file outside ``docs/`` is left as it is, so the
strict build reports it rather than the site shipping a dead link.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

HOME = "index.md"
LINK = re.compile(r"(\]\()([^)\s#]+)([)#\s])")
"""A Markdown link's target, up to its anchor, title or closing parenthesis."""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the home page, made from README.md."""
    docs = Path(config.docs_dir)
    readme = docs.parent / "README.md"
    text = home_page(readme.read_text(encoding="utf-8"), readme.parent, docs)
    files.append(File.generated(config, HOME, content=text))
    return files


def home_page(readme: str, root: Path, docs: Path) -> str:
    """`readme` with its links from `root` re-pointed to where they lead from `docs`."""

    def repoint(match: re.Match[str]) -> str:
        target = match[2]
        if "://" in target or target.startswith("mailto:"):
            return match[0]
        path = (root / target).resolve()
        if not path.is_relative_to(docs.resolve()):
            return match[0]
        return f"{match[1]}{os.path.relpath(path, docs.resolve())}{match[3]}"

    return LINK.sub(repoint, readme)


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when the README changes, as for a page under docs/."""
    server.watch(str(Path(config.docs_dir).parent / "README.md"))
    return server
