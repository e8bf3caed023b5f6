"""The knowledge base's statements with their explanation rules, transformed once.

Walking clingo's AST from Python costs far more than parsing or grounding (tens of
milliseconds for one policy), and a CLI query pays it at every start. The result depends only
on the KB files, so it is kept in memory per process and on disk as program text (like
Python's ``.pyc``), keyed by a hash of the files' contents, of the transformer's source and
of the package version. The disk copy is only an optimisation: any failure to read or write
it is ignored. It is written only after the program grounded without error, so locations in
error messages always come from the real files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from clingo import ast

from . import cone, labels, syntax
from ._version import __version__
from .labels import with_explanations

CACHE_ENV = "POLICYKB_CACHE_DIR"


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policykb"


class ProgramSource:
    """The statements of some KB files, explained or plain, and where their text is cached."""

    def __init__(
        self, files: Sequence[Path], explain: bool, rewrite: Callable[[ast.AST], ast.AST] | None = None
    ) -> None:
        """``rewrite`` transforms each parsed statement first; a rewritten program is not cached."""
        self.files = tuple(files)
        self.explain = explain
        self.rewrite = rewrite
        # The transformer's own source is part of the key: changing it must not reuse old text.
        digest = hashlib.sha256(f"{__version__}\0{explain}\0".encode())
        digest.update(Path(labels.__file__).read_bytes() + Path(__file__).read_bytes())
        for path in self.files:
            digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
        self.key = digest.hexdigest()
        self.from_cache = False

    def statements(self) -> list[ast.AST]:
        statements: list[ast.AST] = []
        cached = self._cached_text() if self.rewrite is None else None
        if cached is not None:
            try:
                ast.parse_string(cached, statements.append)
                self.from_cache = True
                return statements
            except RuntimeError:
                statements.clear()
        rewrite = self.rewrite
        ast.parse_files(
            [str(path) for path in self.files],
            statements.append if rewrite is None else lambda statement: statements.append(rewrite(statement)),
        )
        return list(with_explanations(statements)) if self.explain else statements

    def remember(self, statements: Sequence[ast.AST]) -> None:
        """Keep the text of statements that grounded without error, for the next process."""
        if not self.from_cache and self.rewrite is None:
            _write(self.key, statements)

    def _cached_text(self) -> str | None:
        return _read(self.key)


class PrunedSource:
    """The statements a grounding that shows only ``shown`` keeps after pruning (``cone.py``),
    cached as program text beside the whole program's: pruning walks the AST too (about
    0.1 s per grounding), which a process that finds the text does not pay."""

    def __init__(self, source: ProgramSource, shown: Collection[str]) -> None:
        self.shown = frozenset(shown)
        digest = hashlib.sha256(f"{source.key}\0{','.join(sorted(shown))}\0".encode())
        digest.update(Path(cone.__file__).read_bytes() + Path(syntax.__file__).read_bytes())
        self.key = digest.hexdigest()
        self.from_cache = False

    def cached(self) -> list[ast.AST] | None:
        """The pruned statements from an earlier process, or None."""
        text = _read(self.key)
        if text is None:
            return None
        statements: list[ast.AST] = []
        try:
            ast.parse_string(text, statements.append)
        except RuntimeError:
            return None
        self.from_cache = True
        return statements

    def remember(self, statements: Sequence[ast.AST]) -> None:
        """Keep the text of pruned statements that grounded without error."""
        if not self.from_cache:
            _write(self.key, statements)


def _read(key: str) -> str | None:
    try:
        return (cache_dir() / f"{key}.lp").read_text()
    except OSError:
        return None


def _write(key: str, statements: Sequence[ast.AST]) -> None:
    import tempfile  # only when writing: a query that finds the cache does not pay for it

    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as out:
            out.write("\n".join(str(statement) for statement in statements))
        os.replace(out.name, folder / f"{key}.lp")
    except OSError:
        pass
