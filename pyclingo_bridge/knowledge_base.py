"""Where the knowledge base lives and which policies it holds.

Layout: ``core/*.lp`` are the suite's shared principles; each folder of ``policies/`` is one
policy (its ``*.lp`` files, and author cases beside them). Adding a policy adds files here
and never Python.

Two kinds of file sit beside a policy's program and are *not* part of it, so a query never
loads them:

* ``checks/*.lp`` (in ``core/`` or a policy folder): programs only ``policykb check`` loads,
  such as the author's invariants. They live in a subfolder because the query path loads
  every ``*.lp`` directly in ``core/`` and the policy folder, and nothing below.
* ``cases.yaml`` and ``*.cases.yaml``: author cases, run by ``policykb test`` and pytest.

What several policies share, and the core does not, is a *module*: a folder of ``modules/``
with its own ``*.lp`` (and ``checks/``), part of the program of every policy that declares
``uses_module(Name).`` (see kb/core/modules.lp). The policy's declaration is KB data: no Python
names a module or a policy.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from clingo import Symbol, SymbolType, parse_term

from .errors import KnowledgeBaseError, PolicyNotChosenError, UnknownPolicyError
from .program_cache import read_reading, reading_key, remember_reading
from .records import record

CORE_FOLDER = "core"
POLICIES_FOLDER = "policies"
MODULES_FOLDER = "modules"
USES_MODULE = "uses_module"
PROGRAM_SUFFIX = ".lp"
CHECKS_FOLDER = "checks"
CASES_FILE = "cases.yaml"
CASES_SUFFIX = ".cases.yaml"


def installed_kb_root() -> Path:
    """The knowledge base shipped with the package (``pyclingo_bridge.kb``).

    When the package is imported from a source checkout rather than installed (as
    ``python -m pytest`` does from the repository root), the KB is the checkout's ``kb/``.
    """
    # Found by the import system, as importlib.resources.files would find it, without
    # loading importlib.resources' readers (zipfile and more) at every start.
    spec = importlib.util.find_spec("pyclingo_bridge.kb")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    root = Path(locations[0]) if locations else Path(__file__).resolve().parent.parent / "kb"
    if not (root / CORE_FOLDER).is_dir():
        raise KnowledgeBaseError(f"no knowledge base at {root}: expected a {CORE_FOLDER}/ folder there")
    return root


@record
class KnowledgeBase:
    """A knowledge base folder: the shared core and one folder per policy."""

    root: Path

    @classmethod
    def installed(cls) -> KnowledgeBase:
        return cls(installed_kb_root())

    @property
    def core_files(self) -> tuple[Path, ...]:
        return _programs(self.root / CORE_FOLDER)

    def policy_folders(self) -> dict[str, Path]:
        """Policy folders by their lower-case id (the folder name)."""
        folder = self.root / POLICIES_FOLDER
        if not folder.is_dir():
            return {}
        return {
            child.name.lower(): child
            for child in sorted(folder.iterdir())
            if child.is_dir() and _programs(child)
        }

    def policy_folder(self, policy_id: str) -> Path:
        """The folder of ``policy_id`` (case-insensitive), or a did-you-mean error."""
        folders = self.policy_folders()
        found = folders.get(policy_id.lower())
        if found is not None:
            return found
        import difflib  # only for the message

        hint = difflib.get_close_matches(policy_id.lower(), list(folders), n=1)
        # Named as the KB names them (metadata reference), as the docs and every answer do.
        known = ", ".join(_reference(folder) for folder in folders.values()) or "none"
        suggestion = f" (did you mean {_reference(folders[hint[0]])}?)" if hint else ""
        raise UnknownPolicyError(f"unknown policy {policy_id!r}{suggestion}; known policies: {known}")

    def choose_policy(self, policy_id: str | None) -> str:
        """``policy_id``, or the only policy when none is given; with several, one must be named."""
        if policy_id is not None:
            return policy_id
        folders = self.policy_folders()
        if len(folders) == 1:
            return next(iter(folders.values())).name
        known = ", ".join(_reference(folder) for folder in folders.values()) or "none"
        raise PolicyNotChosenError(f"the knowledge base holds {len(folders)} policies, name one of: {known}")

    def module_folders(self) -> dict[str, Path]:
        """Module folders by their name (the folder name)."""
        folder = self.root / MODULES_FOLDER
        if not folder.is_dir():
            return {}
        return {child.name: child for child in sorted(folder.iterdir()) if child.is_dir() and _programs(child)}

    def modules_of(self, policy_id: str) -> tuple[Path, ...]:
        """The folders of the modules ``policy_id`` declares with ``uses_module(Name).``, in
        the order declared; an undeclared module is a KB fault that names the known ones."""
        known = self.module_folders()
        used = _fact_arguments(_programs(self.policy_folder(policy_id)), USES_MODULE)
        missing = [name for name in used if name not in known]
        if missing:
            raise KnowledgeBaseError(
                f"policy {policy_id} uses module {missing[0]!r}, which {self.root / MODULES_FOLDER} does not hold; "
                f"known modules: {', '.join(known) or 'none'}"
            )
        return tuple(known[name] for name in dict.fromkeys(used))

    def program_files(self, policy_id: str) -> tuple[Path, ...]:
        """Every ASP file that makes up ``policy_id``: the core, the modules it uses, then its own."""
        modules = tuple(path for module in self.modules_of(policy_id) for path in _programs(module))
        return self.core_files + modules + _programs(self.policy_folder(policy_id))

    def check_files(self, policy_id: str) -> tuple[Path, ...]:
        """The check-only programs of ``policy_id`` (``checks/*.lp`` of the core, its modules and the policy)."""
        folder = self.policy_folder(policy_id)
        modules = tuple(path for module in self.modules_of(policy_id) for path in _programs(module / CHECKS_FOLDER))
        return _programs(self.root / CORE_FOLDER / CHECKS_FOLDER) + modules + _programs(folder / CHECKS_FOLDER)

    def case_files(self, policy_id: str) -> tuple[Path, ...]:
        """The author case files beside ``policy_id``."""
        folder = self.policy_folder(policy_id)
        return tuple(sorted(path for path in folder.iterdir() if is_case_file(path)))


def knowledge_base(root: Path | None = None) -> KnowledgeBase:
    """The knowledge base at ``root``, or the installed one when None: the one place where
    the KB root is resolved (CLI ``--kb``, engines, the service, the check)."""
    return KnowledgeBase(root) if root is not None else KnowledgeBase.installed()


def is_case_file(path: Path) -> bool:
    """Whether ``path`` is named as an author case file."""
    return path.is_file() and (path.name == CASES_FILE or path.name.endswith(CASES_SUFFIX))


def _reference(folder: Path) -> str:
    """The policy's own id, ``metadata(reference, "...")`` in its programs; else the folder name."""
    found = [
        arguments[1].string
        for arguments in facts_in(_programs(folder), "metadata")
        if len(arguments) == 2 and str(arguments[0]) == "reference" and arguments[1].type == SymbolType.String
    ]
    return found[0] if found else folder.name


def _fact_arguments(files: tuple[Path, ...], name: str) -> list[str]:
    """The one constant argument of each fact ``name(c).`` in ``files``, in order."""
    return [
        arguments[0].name
        for arguments in facts_in(files, name)
        if len(arguments) == 1 and arguments[0].type == SymbolType.Function and not arguments[0].arguments
    ]


def facts_in(files: tuple[Path, ...], name: str) -> list[list[Symbol]]:
    """The arguments of every fact ``name(...)`` in ``files`` whose arguments are all symbols
    (read from the syntax tree: nothing is grounded or run). Kept beside the program cache,
    keyed by the files' contents (``program_cache.reading_key``): a start that finds it
    parses no KB file."""
    key = reading_key(f"facts {name}", files, Path(__file__))
    kept = read_reading(key)
    if isinstance(kept, list) and all(isinstance(args, list) and all(isinstance(t, str) for t in args) for args in kept):
        try:
            return [[parse_term(text) for text in arguments] for arguments in kept]
        except RuntimeError:  # not the terms it should be: read the files again
            pass
    found, parsed = _parsed_facts(files, name)
    if parsed:
        remember_reading(key, [[str(symbol) for symbol in arguments] for arguments in found])
    return found


def _parsed_facts(files: tuple[Path, ...], name: str) -> tuple[list[list[Symbol]], bool]:
    """``facts_in`` from the syntax tree, and whether every file parsed (one that does not
    is not kept: the loader will say why)."""
    from clingo import ast

    found: list[list[Symbol]] = []

    def visit(statement: ast.AST) -> None:
        if statement.ast_type == ast.ASTType.Rule and statement.head.ast_type == ast.ASTType.Literal and not statement.body:
            symbol = statement.head.atom.symbol
            if (
                symbol.ast_type == ast.ASTType.Function
                and symbol.name == name
                and all(argument.ast_type == ast.ASTType.SymbolicTerm for argument in symbol.arguments)
            ):
                found.append([argument.symbol for argument in symbol.arguments])

    try:
        ast.parse_files([str(path) for path in files], visit)
    except RuntimeError:
        return found, False
    return found, True


def _programs(folder: Path) -> tuple[Path, ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted(path for path in folder.iterdir() if path.suffix == PROGRAM_SUFFIX))
