"""The knowledge base's statements with their explanation rules, transformed once.

Walking clingo's AST from Python costs far more than parsing or grounding (tens of
milliseconds for one policy), and a CLI query pays it at every start. The result depends only
on the KB files, so it is kept in memory per process and on disk as program text (like
Python's ``.pyc``), keyed by a hash of the files' contents, of the transformer's source and
of the package version. The disk copy is only an optimisation: any failure to read or write
it is ignored. It is written only after the program grounded without error, so locations in
error messages always come from the real files.

Each grounding's own text (the program with only its ``#show`` lines, pruned or not) is kept
too (:class:`GroundingText`): a process that finds it hands it to clingo as text, and neither
imports ``clingo.ast`` nor walks a syntax tree, which is most of a CLI query's start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .errors import KnowledgeBaseError
from .provenance import sha256

if TYPE_CHECKING:  # clingo.ast is imported only where a syntax tree is walked
    from clingo import ast

CACHE_ENV = "POLICYKB_CACHE_DIR"
HERE = Path(__file__).parent
# The transformers' own sources are part of the keys (changing one must not reuse old text);
# read as files, so that a process that finds the text never imports them.
TRANSFORMER_SOURCES = (HERE / "labels.py", HERE / "program_cache.py")
PRUNING_SOURCES = (HERE / "cone.py", HERE / "syntax.py")


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
        digest = sha256(f"{__version__}\0{explain}\0".encode())
        digest.update(b"".join(path.read_bytes() for path in TRANSFORMER_SOURCES))
        for path in self.files:
            digest.update(b"\0" + path.name.encode() + b"\0" + kb_bytes(path))
        self.key = digest.hexdigest()
        self.from_cache = False

    def statements(self) -> list[ast.AST]:
        from clingo import ast

        from .labels import with_explanations

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


class GroundingText:
    """The text of the statements one grounding adds: the program with only the ``#show``
    lines of ``shown`` (all of them when None), and, ``pruned``, without the rules nothing
    shown depends on (``cone.py``), cached beside the whole program's text."""

    def __init__(self, source: ProgramSource, shown: Collection[str] | None, pruned: bool = False) -> None:
        self.shown = frozenset(shown) if shown is not None else None
        # All shown and nothing pruned: the whole program's own text, kept by the source.
        self.whole = self.shown is None and not pruned
        if self.whole:
            self.key = source.key
        else:
            names = ",".join(sorted(self.shown)) if self.shown is not None else "*"
            digest = sha256(f"{source.key}\0{names}\0{'pruned' if pruned else 'all'}\0".encode())
            if pruned:
                digest.update(b"".join(path.read_bytes() for path in PRUNING_SOURCES))
            self.key = digest.hexdigest()
        self.from_cache = False

    def text(self) -> str | None:
        """The grounding's text from an earlier process, or None."""
        return _read(self.key)

    def cached(self) -> list[ast.AST] | None:
        """The grounding's statements from an earlier process, or None."""
        from clingo import ast

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
        """Keep the text of the grounding's statements, which grounded without error."""
        if not self.from_cache and not self.whole:
            _write(self.key, statements)


class PrunedSource(GroundingText):
    """The statements a grounding that shows only ``shown`` keeps after pruning (``cone.py``):
    pruning walks the AST too (about 0.1 s per grounding), which a process that finds the
    text does not pay."""

    def __init__(self, source: ProgramSource, shown: Collection[str]) -> None:
        super().__init__(source, shown, pruned=True)


def reading_key(what: str, files: Sequence[Path], reader: Path) -> str:
    """The key of what the module ``reader`` reads from ``files`` without grounding them
    (``what``: say, the ``metadata`` facts): a hash of the package version, the reader's
    source, and each file's name and bytes, as the program text's key is."""
    digest = sha256(f"{__version__}\0{what}\0".encode() + reader.read_bytes())
    for path in files:
        digest.update(b"\0" + path.name.encode() + b"\0" + kb_bytes(path))
    return digest.hexdigest()


def kb_bytes(path: Path) -> bytes:
    """A KB file's bytes: one that cannot be read (a folder named ``*.lp``, no permission) is
    one error naming it, never a traceback."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise KnowledgeBaseError(f"cannot read {path}: {error.strerror or error}") from None


def read_reading(key: str) -> object:
    """A reading kept by an earlier process (JSON, never pickle: a foreign file must not run
    code), or None; the caller checks its shape."""
    import json

    try:
        return json.loads((cache_dir() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def remember_reading(key: str, value: object) -> None:
    """Keep a reading of KB files for the next process (any failure is ignored)."""
    import json

    _write_text(f"{key}.json", json.dumps(value))


def _read(key: str) -> str | None:
    try:
        return (cache_dir() / f"{key}.lp").read_text()
    except OSError:
        return None


def _write(key: str, statements: Sequence[ast.AST]) -> None:
    _write_text(f"{key}.lp", "\n".join(str(statement) for statement in statements))


def _write_text(name: str, text: str) -> None:
    """Write a cache file whole or not at all: to a temporary file, renamed into place."""
    import tempfile  # only when writing: a query that finds the cache does not pay for it

    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as out:
            out.write(text)
        os.replace(out.name, folder / name)
    except OSError:
        pass
