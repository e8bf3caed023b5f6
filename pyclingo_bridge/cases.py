"""Author cases: patients with the decision a policy author expects, kept beside the policy.

A case file (``cases.yaml`` or ``*.cases.yaml`` in a policy folder) reads::

    policy: CMICB_Clin086
    base_facts:            # every case starts from these (optional)
      age: 45
    cases:
      - name: 1.2 primary care
        description: Imaging asked for by a GP is not routinely commissioned.
        facts: {setting: primary_care}      # add to or replace base_facts; null = unknown
        status: not_commissioned
        clauses: [1.2]                      # exactly the clauses that decided it
        missing: [setting]                  # optional: the facts an undetermined case asks for
        version: "2"                        # optional: pin a policy version (also file-wide)
        possible: [commissioned, not_commissioned]   # optional, for undetermined cases

Clause numbers may be written unquoted (``1.10`` stays ``"1.10"``: YAML floats are not
read). Each case is decided by the same engine as every query; its result compares status,
clauses and, when given, ``missing`` and ``possible``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .decision import STATUSES, Decision, clause_order
from .engine import PolicyEngine, engine_for
from .errors import InputError, PolicyKBError
from .knowledge_base import CORE_FOLDER, POLICIES_FOLDER, KnowledgeBase, is_case_file
from .versions import decision_date
from .vocabulary import REQUEST_DATE_FIELD

FILE_KEYS = ("policy", "version", "base_facts", "cases")
CASE_KEYS = ("name", "description", "version", "facts", "status", "clauses", "missing", "possible")


class CaseFileError(PolicyKBError):
    """A case file that cannot be read: names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Case:
    """One author case."""

    name: str
    facts: Mapping[str, Any]
    status: str
    clauses: tuple[str, ...]
    description: str = ""
    missing: tuple[str, ...] | None = None
    possible: tuple[str, ...] | None = None
    file: Path = Path()
    line: int = 0
    policy: str = ""
    version: str | None = None
    """The policy version the case is pinned to: its own ``version:``; else its facts'
    ``request_date`` chooses, else its file's ``version:``, else the run's date."""


@dataclass(frozen=True)
class CaseFile:
    path: Path
    policy: str
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class CaseResult:
    """A case run: the decision, and what differs from the expectation (empty when it passes)."""

    case: Case
    decision: Decision | None
    problems: tuple[str, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.problems and self.error is None

    @property
    def outcome(self) -> str:
        return "PASS" if self.passed else ("ERROR" if self.error is not None else "FAIL")


def load_case_file(path: Path) -> CaseFile:
    """Read and check the structure of a case file; raises CaseFileError."""
    try:
        with path.open(encoding="utf-8") as stream:  # named, so that marks name the file
            data = yaml.load(stream, Loader=_Loader)  # _Loader is a SafeLoader
    except OSError as error:
        raise CaseFileError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise CaseFileError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, Mapping):
        raise CaseFileError(f"{path}: expected a mapping with keys {', '.join(FILE_KEYS)}")
    _check_keys(path, data, FILE_KEYS, required=("policy", "cases"))
    policy = data["policy"]
    if not isinstance(policy, str):
        raise CaseFileError(f"{path}:{_line(data)}: policy: expected a policy id")
    base = data.get("base_facts") or {}
    if not isinstance(base, Mapping):
        raise CaseFileError(f"{path}:{_line(data)}: base_facts: expected a mapping of facts")
    entries = data["cases"]
    if not isinstance(entries, list) or not entries:
        raise CaseFileError(f"{path}:{_line(data)}: cases: expected a list of cases")
    pinned = data.get("version")
    if pinned is not None and not isinstance(pinned, (str, int)):
        raise CaseFileError(f"{path}:{_line(data)}: version: expected a version number")
    cases = [_case(path, policy, base, entry, None if pinned is None else str(pinned)) for entry in entries]
    seen: set[str] = set()
    for case in cases:
        if case.name in seen:
            raise CaseFileError(f"{path}:{case.line}: case {case.name!r} is named twice")
        seen.add(case.name)
    return CaseFile(path, policy, tuple(cases))


def find_case_files(paths: Iterable[Path]) -> list[Path]:
    """Case files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(candidate for candidate in path.rglob("*.yaml") if is_case_file(candidate))
        else:
            found.append(path)
    return found


def kb_root_of(path: Path) -> Path | None:
    """The knowledge base a case file sits in (``ROOT/policies/<policy>/cases.yaml``), if any."""
    folder = path.resolve().parent
    root = folder.parent.parent
    if folder.parent.name == POLICIES_FOLDER and (root / CORE_FOLDER).is_dir():
        return root
    return None


def engine_for_case_file(case_file: CaseFile, kb_root: Path | None = None, as_of: date | None = None) -> PolicyEngine:
    """The engine a case file runs against: the KB it sits in, else ``kb_root`` or the
    installed one; the version in force on ``as_of`` (default today)."""
    return engine_for(case_file.policy, kb_root_of(case_file.path) or kb_root, as_of=as_of)


def case_engine(engine: PolicyEngine, case: Case) -> PolicyEngine:
    """The engine of the version ``case`` pins, by number or by its facts' ``request_date``;
    ``engine`` itself when it pins none."""
    if case.version is None and case.facts.get(REQUEST_DATE_FIELD) is None:
        return engine
    if case.version is not None:
        return engine_for(engine.model.id, engine.kb.root, case.version)
    return engine_for(engine.model.id, engine.kb.root, as_of=decision_date(case.facts, None))


def run_case(engine: PolicyEngine, case: Case) -> CaseResult:
    """Decide ``case`` (under the version it pins, if any) and compare the decision with what
    the author expects."""
    try:
        decision = case_engine(engine, case).decide(case.facts)
    except InputError as error:
        return CaseResult(case, None, error="invalid facts: " + "; ".join(str(p) for p in error.problems))
    except PolicyKBError as error:
        return CaseResult(case, None, error=str(error))
    return CaseResult(case, decision, tuple(expectation_problems(case, decision)))


def expectation_problems(case: Case, decision: Decision) -> list[str]:
    """What in ``decision`` differs from ``case``'s expectation, one line each."""
    problems = []
    if decision.status != case.status:
        problems.append(f"status: expected {case.status}, derived {decision.status}")
    if tuple(decision.clauses) != case.clauses:
        problems.append(f"clauses: expected {_listed(case.clauses)}, derived {_listed(decision.clauses)}")
    if case.missing is not None:
        derived = tuple(sorted(missing.fact for missing in decision.missing))
        if derived != case.missing:
            problems.append(f"missing: expected {_listed(case.missing)}, derived {_listed(derived)}")
    if case.possible is not None:
        derived = tuple(sorted(possibility.status for possibility in decision.possible))
        if derived != case.possible:
            problems.append(f"possible: expected {_listed(case.possible)}, derived {_listed(derived)}")
    return problems


def policy_case_files(kb: KnowledgeBase, policy_id: str) -> list[CaseFile]:
    """The loaded case files beside one policy."""
    return [load_case_file(path) for path in kb.case_files(policy_id)]


def _case(path: Path, policy: str, base: Mapping[str, Any], entry: object, version: str | None = None) -> Case:
    if not isinstance(entry, Mapping):
        raise CaseFileError(f"{path}: each case must be a mapping with keys {', '.join(CASE_KEYS)}")
    line = _line(entry)
    _check_keys(path, entry, CASE_KEYS, required=("name", "status"))
    name = entry["name"]
    if not isinstance(name, str) or not name:
        raise CaseFileError(f"{path}:{line}: name: expected text")
    where = f"{path}:{line}: case {name!r}"
    facts = entry.get("facts") or {}
    if not isinstance(facts, Mapping):
        raise CaseFileError(f"{where}: facts: expected a mapping of facts")
    status = entry["status"]
    if status not in STATUSES:
        raise CaseFileError(f"{where}: status: {status!r} is not one of {', '.join(STATUSES)}")
    if "clauses" not in entry and status != "undetermined":
        raise CaseFileError(f"{where}: clauses: expected the clauses that decide it (a list)")
    return Case(
        name=name,
        description=str(entry.get("description") or ""),
        facts={**base, **facts},
        status=status,
        clauses=_clause_list(where, "clauses", entry.get("clauses", [])),
        missing=_sorted_names(where, "missing", entry.get("missing")),
        possible=_sorted_names(where, "possible", entry.get("possible")),
        file=path,
        line=line,
        policy=policy,
        # A case's own version comes first, then its request_date, then its file's version.
        version=str(entry["version"]) if entry.get("version") is not None else (
            version if {**base, **facts}.get(REQUEST_DATE_FIELD) is None else None
        ),
    )


def _clause_list(where: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, (str, int)) for item in value):
        raise CaseFileError(f"{where}: {key}: expected a list of clause numbers")
    return tuple(sorted((str(item) for item in value), key=clause_order))


def _sorted_names(where: str, key: str, value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CaseFileError(f"{where}: {key}: expected a list of names")
    return tuple(sorted(value))


def _check_keys(path: Path, data: Mapping[Any, Any], allowed: Sequence[str], required: Sequence[str]) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f" (did you mean {hint[0]}?)" if hint else ""
            raise CaseFileError(
                f"{path}:{_line(data)}: unknown key {key!r}{suggestion}; allowed: {', '.join(allowed)}"
            )
    for key in required:
        if key not in data:
            raise CaseFileError(f"{path}:{_line(data)}: {key}: required")


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def _line(data: object) -> int:
    return getattr(data, "line", 0)


class _LocatedMapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, for messages that point at the case."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit floats (clause 1.10 is text), duplicate keys refused."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LocatedMapping:
    seen: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                raise CaseFileError(f"{key.start_mark.name}:{key.start_mark.line + 1}: {key.value!r} is given twice")
            seen.add(key.value)
    mapping = _LocatedMapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
