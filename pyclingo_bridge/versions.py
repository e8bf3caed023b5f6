"""Policy versions by date: which versions a policy holds, and which one is in force on a day.

Layout (docs/versions.md): the ``*.lp`` files of a policy folder are shared by every version;
``versions/<number>/*.lp`` holds what one version adds: its document control
(``metadata(version, "2")``, ``metadata(effective_from, "2026-04-01")``,
``metadata(effective_to, ...)`` once superseded, ``metadata(ratified, ...)``,
``metadata(status, "draft"|"ratified")``) and the facts that differ, such as a parameter.
A revision is then reviewed as ``diff -r versions/1 versions/2``. A folder without
``versions/`` is one implicit version, read from the policy's own metadata, in force on
every date its metadata does not exclude.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from clingo import SymbolType

from .errors import FieldProblem, InputError, PolicyKBError
from .knowledge_base import KnowledgeBase, facts_in
from .records import record
from .vocabulary import REQUEST_DATE_FIELD

VERSIONS_FOLDER = "versions"
PROGRAM_SUFFIX = ".lp"
STATUSES = ("draft", "ratified")


class VersionError(PolicyKBError):
    """No version of the policy answers: none in force on the date, or no such number."""


@record
class PolicyVersion:
    """One version of a policy and the dates it is in force (both ends inclusive)."""

    number: str
    effective_from: date | None
    effective_to: date | None
    ratified: str | None
    status: str
    files: tuple[Path, ...]
    """The version's own programs (``versions/<number>/*.lp``); empty for an implicit version."""

    def covers(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def dates(self) -> str:
        """``2024-04-01 to 2026-03-31``, ``from 2026-04-01``, or ``every date``."""
        start, end = self.effective_from, self.effective_to
        if start and end:
            return f"{start.isoformat()} to {end.isoformat()}"
        if start:
            return f"from {start.isoformat()}"
        if end:
            return f"to {end.isoformat()}"
        return "every date"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "ratified": self.ratified,
            "status": self.status,
        }


def policy_versions(kb: KnowledgeBase, policy_id: str) -> tuple[PolicyVersion, ...]:
    """The versions of ``policy_id``, in order of their numbers (an implicit one when the
    folder has no ``versions/``); raises VersionError for metadata that is no date."""
    return _versions(kb, kb.policy_folder(policy_id))


@functools.lru_cache(maxsize=64)
def _versions(kb: KnowledgeBase, folder: Path) -> tuple[PolicyVersion, ...]:
    # Read once per process and folder: a query or a service request must not parse the KB.
    shared = _programs(folder)
    root = folder / VERSIONS_FOLDER
    if not root.is_dir():
        return (_version(_metadata(shared), (), folder.name),)
    found = []
    for child in sorted((c for c in root.iterdir() if c.is_dir() and _programs(c)), key=lambda c: _number_order(c.name)):
        files = _programs(child)
        metadata = _metadata(files)
        found.append(_version({"version": child.name, **metadata}, files, f"{folder.name}/{VERSIONS_FOLDER}/{child.name}"))
    return tuple(found)


def choose_version(kb: KnowledgeBase, policy_id: str, number: str) -> PolicyVersion:
    """The version numbered ``number``, or an error naming the versions there are."""
    versions = policy_versions(kb, policy_id)
    for version in versions:
        if version.number == number:
            return version
    raise VersionError(f"{_reference(kb, policy_id)} has no version {number!r}; {describe(versions)}")


def version_in_force(kb: KnowledgeBase, policy_id: str, day: date) -> PolicyVersion:
    """The version of ``policy_id`` in force on ``day``, or an error naming every version
    and its dates."""
    versions = policy_versions(kb, policy_id)
    for version in versions:
        if version.covers(day):
            return version
    raise VersionError(f"no version of {_reference(kb, policy_id)} is in force on {day.isoformat()}; {describe(versions)}")


def _reference(kb: KnowledgeBase, policy_id: str) -> str:
    """The policy as its metadata names it, for messages."""
    folder = kb.policy_folder(policy_id)
    return _metadata(_programs(folder)).get("reference", folder.name)


def describe(versions: Sequence[PolicyVersion]) -> str:
    """``versions: 1 (2024-04-01 to 2026-03-31), 2 (from 2026-04-01)``."""
    return "versions: " + ", ".join(f"{v.number} ({v.dates})" for v in versions)


def date_problems(versions: Sequence[PolicyVersion]) -> list[str]:
    """What is wrong with the versions' dates: ranges that overlap, a gap between one
    version's end and the next one's start, a version superseded without an end date, an
    end before the start. Empty when the ranges tile time from the first start."""
    problems = []
    for version in versions:
        if version.effective_from and version.effective_to and version.effective_to < version.effective_from:
            problems.append(f"version {version.number} ends ({version.effective_to}) before it starts ({version.effective_from})")
    dated = sorted(versions, key=lambda v: v.effective_from or date.min)
    for earlier, later in itertools.pairwise(dated):
        if earlier.effective_to is None:
            problems.append(
                f"version {earlier.number} has no effective_to but version {later.number} starts on {_iso(later.effective_from)}: "
                f"the ranges overlap (give version {earlier.number} an effective_to)"
            )
            continue
        start = later.effective_from or date.min
        if start <= earlier.effective_to:
            problems.append(f"versions {earlier.number} ({earlier.dates}) and {later.number} ({later.dates}) overlap")
        elif start > earlier.effective_to + timedelta(days=1):
            gap_from, gap_to = earlier.effective_to + timedelta(days=1), start - timedelta(days=1)
            problems.append(
                f"no version is in force from {gap_from.isoformat()} to {gap_to.isoformat()}, "
                f"between version {earlier.number} ({earlier.dates}) and version {later.number} ({later.dates})"
            )
    return problems


def parse_date(text: object, field: str) -> date:
    """An ISO 8601 calendar date (``2026-04-01``), or an InputError naming ``field``."""
    if isinstance(text, str) and len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InputError([FieldProblem(field, "expected a date as YYYY-MM-DD, such as 2026-04-01")])


def request_date(facts: object) -> date | None:
    """The ``request_date`` of an input object, validated; None when it has none."""
    if not isinstance(facts, Mapping) or facts.get(REQUEST_DATE_FIELD) is None:
        return None
    return parse_date(facts[REQUEST_DATE_FIELD], REQUEST_DATE_FIELD)


def fhir_request_date(bundle: object) -> str | None:
    """The date part of the first ServiceRequest's ``authoredOn`` in a FHIR Bundle (as JSON),
    as ``request_date`` takes it; None when there is none (the FHIR reader reports a bundle
    that is malformed)."""
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping) and resource.get("resourceType") == "ServiceRequest":
            authored = resource.get("authoredOn")
            return authored[:10] if isinstance(authored, str) else None
    return None


def decision_date(facts: object, as_of: date | None, today: date | None = None) -> date:
    """The date that chooses the version: the record's own ``request_date``, else ``--as-of``,
    else today (a record says when it was requested; the option dates the records that do not)."""
    return request_date(facts) or as_of or today or date.today()


def _version(metadata: Mapping[str, str], files: tuple[Path, ...], where: str) -> PolicyVersion:
    status = metadata.get("status", "ratified" if metadata.get("ratified") else "draft")
    if status not in STATUSES:
        raise VersionError(f"{where}: metadata(status, {status!r}) is not one of {', '.join(STATUSES)}")
    return PolicyVersion(
        number=metadata.get("version", "1"),
        effective_from=_metadata_date(metadata, "effective_from", where),
        effective_to=_metadata_date(metadata, "effective_to", where),
        ratified=metadata.get("ratified"),
        status=status,
        files=files,
    )


def _metadata_date(metadata: Mapping[str, str], key: str, where: str) -> date | None:
    text = metadata.get(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise VersionError(f"{where}: metadata({key}, {text!r}) is not a date as YYYY-MM-DD") from None


def _metadata(files: Sequence[Path]) -> dict[str, str]:
    """The ``metadata(Key, "Value")`` facts written in ``files``, the first of each key (read
    without grounding: the dates are needed to choose which version to ground)."""
    found: dict[str, str] = {}
    for arguments in facts_in(tuple(files), "metadata"):
        if len(arguments) == 2 and arguments[1].type == SymbolType.String:
            found.setdefault(str(arguments[0]), arguments[1].string)
    return found


def _programs(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted(path for path in folder.iterdir() if path.suffix == PROGRAM_SUFFIX)) if folder.is_dir() else ()


def _number_order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (10**9, number)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "any date"


__all__ = [
    "REQUEST_DATE_FIELD",
    "PolicyVersion",
    "VersionError",
    "choose_version",
    "date_problems",
    "decision_date",
    "describe",
    "fhir_request_date",
    "parse_date",
    "policy_versions",
    "request_date",
    "version_in_force",
]
