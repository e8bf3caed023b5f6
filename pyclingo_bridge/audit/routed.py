"""An audit whose rows name their procedure: each row decided under the policy that governs it.

``policykb audit --procedure-column NAME`` reads the code in that column (OPCS-4 by default,
as routine hospital data records it) and routes the row to the one policy that governs it
(:mod:`..routing`). Rows are grouped by policy, so each policy's rows go through the ordinary
audit (:func:`.run.audit`: its chunks, workers and memory of equal inputs) in one run.

Each policy's rows are written to a file of its own *at their line numbers*, the other lines
left blank (blank lines are no rows, in JSONL as in CSV): the row numbers, the default ids,
the error messages and the follow-up rows of every policy's audit are then those of the
extract itself, and the outputs are merged by row number into input order. A row no policy
governs, or one that names no code, is an error row that says so; the rest go on.
"""

from __future__ import annotations

import contextlib
import csv
import heapq
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TextIO

from .. import routing
from ..engine import engine_for
from ..errors import FieldProblem, InputError
from ..json_input import loads_strict
from ..knowledge_base import knowledge_base
from ..model import PolicyModel
from ..text_input import utf16_hint
from ..versions import VersionError, decision_date, policy_versions, version_in_force
from ..vocabulary import ID_FIELD, REQUEST_DATE_FIELD, is_text
from .reader import (
    CSV_FIELD_LIMIT,
    HeaderError,
    UnreadableRecord,
    _OneLine,
    _QuoteOpen,
    _regular_file,
    check_header,
    csv_rows,
)
from .run import CHUNK_SIZE, AuditInterrupted, AuditSettings, DirectOutput, _signals_held, audit
from .summary import Tally, summary_text

DEFAULT_SYSTEM = "opcs4"
"""The code system of a procedure column unless told: routine hospital data codes procedures in OPCS-4."""
_ROW = re.compile(r'\{"row": (\d+),')


@dataclass
class RoutedTally:
    """The whole run's tally, and each policy's (by reference) with its version."""

    total: Tally
    by_policy: dict[tuple[str, str], Tally] = field(default_factory=dict)
    """Each (policy reference, version) that decided rows: a row's request_date chooses the version."""


@dataclass
class _Group:
    """One policy's rows, written at their line numbers to a file of their own."""

    model: PolicyModel
    file: IO[str]
    version: str | None = None
    """The policy version in force on the rows' request_date (versions.py)."""
    header: tuple[str, ...] | None = None
    lines: int = 0

    def put(self, line: int, text: str) -> None:
        """Write ``text`` as line ``line`` of the file (the lines before it left blank)."""
        self.file.write("\n" * (line - 1 - self.lines) + text + "\n")
        self.lines = line


def audit_routed(
    stream: TextIO,
    settings: AuditSettings,
    write: Callable[[str], object],
    procedure_column: str,
    system: str = DEFAULT_SYSTEM,
    jobs: int | None = None,
) -> RoutedTally:
    """Audit an extract whose column ``procedure_column`` holds each row's procedure code in
    ``system``; ``write`` receives the JSONL output in input order (``settings`` gives the
    format, the KB and whether to explain; its policy is ignored)."""
    models = routing.models(settings.kb_root)
    if not routing.known_system(models, system):
        raise InputError([FieldProblem("--procedure-system", f"no code system {system!r} in the knowledge base; "
                                       f"known: {', '.join(routing.system_names(models))}")])

    def split(folder: Path, files: contextlib.ExitStack, errors: list[tuple[int, str]], tally: Tally) -> dict[str, _Group]:
        return _split(stream, settings, models, procedure_column, system, folder, files, errors, tally)

    return _audit_groups(split, settings, write, jobs)


def audit_by_version(
    stream: TextIO,
    settings: AuditSettings,
    write: Callable[[str], object],
    jobs: int | None = None,
    direct_output: DirectOutput | None = None,
) -> RoutedTally:
    """Audit an extract of ``settings.policy_id``, each row under the policy version in force
    on its own ``request_date`` (else ``settings.as_of``, else today); ``write`` receives the
    JSONL output in input order. Rows are grouped by version as :func:`audit_routed` groups
    them by policy; a row whose date no version covers is an error row naming the versions.
    ``direct_output``: as :func:`.run.audit`'s, for an extract whose rows all fall to one
    version, which is then audited straight to the output."""

    if _undated(stream, settings.input_format):
        # No row can name a request_date: every row is the undated version's, audited as it is.
        undated = _InForce(settings).version(settings.policy_id, None)
        if not undated.startswith("="):
            raise VersionError(undated.removeprefix(f"{REQUEST_DATE_FIELD}: "))
        version = undated[1:]
        tally = audit(stream, replace(settings, version=version), write, jobs=jobs, direct_output=direct_output, direct_input=True)
        reference = engine_for(settings.policy_id, settings.kb_root, version).policy.reference
        return RoutedTally(tally, {(reference, version): tally})

    def split(folder: Path, files: contextlib.ExitStack, errors: list[tuple[int, str]], tally: Tally) -> dict[str, _Group]:
        return _split_by_date(stream, settings, folder, files, errors, tally)

    return _audit_groups(split, settings, write, jobs, direct_output)


def _undated(stream: TextIO, input_format: str) -> bool:
    """Whether no row of ``stream``, a regular file of UTF-8 nothing has read yet, can name
    a request_date: JSONL that holds neither the name nor a backslash (an escape could spell
    it), or CSV whose header does not name the column. Read with ``os.pread``, which leaves
    the stream where it was; False for any other stream."""
    file = _regular_file(stream)
    if file is None:
        return False
    fd = file[0]
    name, offset, overlap = REQUEST_DATE_FIELD.encode(), os.lseek(fd, 0, os.SEEK_CUR), b""
    while block := os.pread(fd, UNDATED_READ, offset):
        text = overlap + block
        if input_format == "csv":  # the header: the first line
            end = text.find(b"\n")
            if name in (text if end < 0 else text[:end]):
                return False
            if end >= 0:
                return True
        elif name in text or b"\\" in block:
            return False
        overlap, offset = text[-len(name) :], offset + len(block)
    return True


UNDATED_READ = 1 << 20
"""Bytes read at a time to look for a request_date."""


def dates_choose_versions(kb_root: Path | None, policy_id: str) -> bool:
    """Whether a row's ``request_date`` can change the version that decides it: not for a
    policy of one version in force on every date (its audit needs no grouping)."""
    versions = policy_versions(knowledge_base(kb_root), policy_id)
    return not (len(versions) == 1 and versions[0].effective_from is None and versions[0].effective_to is None)


_Splitter = Callable[[Path, contextlib.ExitStack, list[tuple[int, str]], Tally], dict[str, "_Group"]]


def _audit_groups(
    split: _Splitter,
    settings: AuditSettings,
    write: Callable[[str], object],
    jobs: int | None,
    direct_output: DirectOutput | None = None,
) -> RoutedTally:
    """Split the rows into groups (``split``, which adds the rows it refuses to its error lines
    and tally), audit each group, and hand the lines to ``write`` merged into input order. A
    single group and no refused row need no merge: that group's audit writes the output
    itself (its lines are the extract's, in order)."""
    errors: list[tuple[int, str]] = []
    routed = Tally(limit=settings.follow_up_limit)
    tallies: dict[tuple[str, str], Tally] = {}
    written = 0  # lines handed to ``write``: none before the merge, so a stop before it leaves no line
    one_group = False
    """A single group's audit writes the lines itself, and counts them in its stop."""
    import tempfile  # only for rows grouped by version: a plain audit starts without it

    try:
        with tempfile.TemporaryDirectory(prefix="policykb-audit-") as folder, contextlib.ExitStack() as files:
            groups = split(Path(folder), files, errors, routed)
            if len(groups) == 1 and not errors:
                one_group = True
                (group,) = groups.values()
                group.file.seek(0)
                policy_settings = replace(settings, policy_id=group.model.id, version=group.version, header=None)
                tally = audit(group.file, policy_settings, write, jobs=jobs, direct_output=direct_output, direct_input=True)  # type: ignore[arg-type]
                return RoutedTally(tally, {(group.model.info.reference, group.version or group.model.info.version): tally})
            outputs: list[Iterator[tuple[int, str]]] = [iter(errors)]
            for group in groups.values():
                group.file.seek(0)
                output = files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder))
                policy_settings = replace(settings, policy_id=group.model.id, version=group.version, header=None)
                tally = audit(group.file, policy_settings, output.write, jobs=jobs)  # type: ignore[arg-type]
                tallies[(group.model.info.reference, group.version or group.model.info.version)] = tally
                output.seek(0)
                outputs.append(_numbered(output))
            merged = (line for _, line in heapq.merge(*outputs))
            while batch := list(itertools.islice(merged, CHUNK_SIZE)):
                with _signals_held():  # a stop waits for the batch: the output is whole lines
                    write("".join(batch))
                    written += len(batch)
    except AuditInterrupted as stop:
        if not one_group:
            stop.rows = written
        raise
    total = Tally(limit=settings.follow_up_limit)
    for tally in tallies.values():
        total.merge(tally)
    total.merge(routed)
    for kept in total.follow_up.values():
        kept.sort(key=lambda follow_up: follow_up.row)
    return RoutedTally(total, tallies)


def routed_summary(result: RoutedTally, each_under: str, seconds: float) -> str:
    """The summary of a routed audit: the rows of each policy (and version), then the counts of
    the whole run; ``each_under`` says how a row's policy or version was chosen."""
    whole = summary_text(result.total, "the policy its procedure names", "", seconds).splitlines(keepends=True)
    rows = f"{result.total.rows:,} row" + ("" if result.total.rows == 1 else "s")
    rate = f", {result.total.rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    lines = [f"audited {rows}, each under {each_under}, in {seconds:.2f} s{rate}\n"]
    lines += [f"  {reference} version {version}: {tally.rows:,} rows\n" for (reference, version), tally in result.by_policy.items()]
    routed = sum(tally.rows for tally in result.by_policy.values())
    if result.total.rows > routed:
        lines.append(f"  refused before any policy read them: {result.total.rows - routed:,} rows (error rows)\n")
    return "".join(lines + whole[1:])


def _numbered(output: IO[str]) -> Iterator[tuple[int, str]]:
    for line in output:
        match = _ROW.match(line)
        yield (int(match.group(1)) if match else 0), line


def _split(
    stream: TextIO,
    settings: AuditSettings,
    models: dict[str, PolicyModel],
    column: str,
    system: str,
    folder: Path,
    files: contextlib.ExitStack,
    errors: list[tuple[int, str]],
    tally: Tally,
) -> dict[str, _Group]:
    """Route every row to its policy's group; the rows that cannot be routed become error lines."""
    groups: dict[str, _Group] = {}
    first = stream.readline().removeprefix("\ufeff")
    hint = utf16_hint(first)
    if hint is not None:
        raise InputError([FieldProblem("encoding", hint)])
    lines = itertools.chain((first,), stream) if first else iter(())

    def error(number: int, record_id: str | int, message: str, fields: list[str]) -> None:
        text = f"row {number}: {message}"
        tally.add_error(number, record_id, text)
        line = json.dumps({"row": number, "id": record_id, "error": text, "fields": fields}, ensure_ascii=False)
        errors.append((number, _writable(line) + "\n"))

    routes: dict[str, str] = {}  # code → its policy's id, or why it has none (an extract repeats few codes)
    in_force = _InForce(settings)

    def group_of(number: int, record_id: str | int, code: object, day: object = None) -> _Group | None:
        if not isinstance(code, str) or not code.strip():
            error(number, record_id, f"{column}: no procedure code, so no policy to decide it under", [column])
            return None
        route = routes.get(code)
        if route is None:
            procedure = routing.Procedure(system, code.strip())
            found = routing.governing(models, [procedure])
            named = ", ".join(r.reference for r in found)
            why = f"governed by several policies ({named}): audit them with --policy" if found else "no policy governs it"
            route = routes[code] = found[0].policy_id if len(found) == 1 else f"{column}: {procedure}: {why}"
        if route not in models:
            error(number, record_id, route, [column])
            return None
        version = in_force.version(route, day)
        if not version.startswith("="):
            error(number, record_id, version, [REQUEST_DATE_FIELD])
            return None
        key = f"{route}\0{version[1:]}"
        if key not in groups:
            file = _group_file(files, folder)
            groups[key] = _Group(models[route], file, version[1:])
        return groups[key]

    if settings.input_format == "jsonl":
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = loads_strict(line)
            except ValueError as problem:  # JSONDecodeError, a key given twice: cannot be routed unread
                error(number, number, f"not valid JSON ({problem}), so its procedure cannot be read", ["input"])
                continue
            if not isinstance(row, dict):
                error(number, number, f"not a JSON object naming its procedure in {column!r}", ["input"])
                continue
            given_id = row.get(ID_FIELD)
            group = group_of(number, given_id if isinstance(given_id, str) else number, row.pop(column, None),
                             row.get(REQUEST_DATE_FIELD))
            if group is not None:
                group.put(number, json.dumps(row, ensure_ascii=False))
        return groups
    csv.field_size_limit(CSV_FIELD_LIMIT)
    source = _OneLine(lines)  # one record per line: an open quote does not swallow the lines after it
    records = csv.reader(source, strict=True)
    try:
        header = tuple(cell.strip() for cell in next(records, []))
    except (csv.Error, _QuoteOpen) as problem:
        raise HeaderError([FieldProblem("header", f"the CSV header (line 1) cannot be read: {problem}")]) from None
    if column not in header:
        raise HeaderError([FieldProblem(column, f"no such column in the CSV header (--procedure-column); columns: {', '.join(header)}")])
    known = {ID_FIELD, REQUEST_DATE_FIELD} | {key for model in models.values() for key in model.vocabulary.specs}
    unknown = [name for name in header if name not in known and name != column]
    if unknown:
        raise HeaderError([FieldProblem(name, "unknown CSV column: no policy of the knowledge base has this fact") for name in unknown])
    at = header.index(column)
    for number, cells in csv_rows(records, source):
        if isinstance(cells, UnreadableRecord):
            error(number, number, f"input: {cells.problem}", ["input"])  # as the audit words it
            continue
        record_id: str | int = number
        if ID_FIELD in header and len(cells) == len(header) and cells[header.index(ID_FIELD)].strip():
            record_id = cells[header.index(ID_FIELD)].strip()
        if len(cells) != len(header):
            error(number, record_id, f"{len(cells)} cells where the header has {len(header)} columns", ["input"])
            continue
        dated = cells[header.index(REQUEST_DATE_FIELD)].strip() if REQUEST_DATE_FIELD in header else None
        group = group_of(number, record_id, cells[at], dated)
        if group is None:
            continue
        columns = (ID_FIELD, REQUEST_DATE_FIELD, *group.model.vocabulary.specs)
        if group.header is None:  # its first row: the header, of the columns this policy reads
            group.header = tuple(name for name in header if name in columns) or (ID_FIELD,)
            group.put(1, _csv_line(group.header))
        stray = [name for name, cell in zip(header, cells) if name not in columns and name != column and cell.strip()]
        if stray:
            error(number, record_id, f"{', '.join(stray)}: not a fact of {group.model.info.reference}, "
                  f"the policy its procedure is routed to", stray)
            continue
        kept = dict(zip(header, cells))
        group.put(number + 1, _csv_line(tuple(kept.get(name, "") for name in group.header)))  # row n: line n + 1
    return groups


class _InForce:
    """The version in force for each (policy, request_date) of an extract (it repeats few)."""

    def __init__(self, settings: AuditSettings) -> None:
        self.kb = knowledge_base(settings.kb_root)
        self.as_of = settings.as_of
        self._known: dict[tuple[str, str | None], str] = {}

    def version(self, policy_id: str, day: object) -> str:
        """``=<number>`` of the version in force on ``day`` (a row's request_date; None or
        empty: ``--as-of``, else today), or the error message of a row dated otherwise."""
        dated = (policy_id, day if isinstance(day, str) or day is None else repr(day))
        version = self._known.get(dated)
        if version is None:
            # The row's request_date chooses the version (else --as-of, else today), as for a query.
            try:
                chosen = decision_date({REQUEST_DATE_FIELD: day or None}, self.as_of)
                version = "=" + version_in_force(self.kb, policy_id, chosen).number
            except (InputError, VersionError) as problem:
                version = f"{REQUEST_DATE_FIELD}: {problem}" if isinstance(problem, VersionError) else str(problem)
            self._known[dated] = version
        return version


def _split_by_date(
    stream: TextIO,
    settings: AuditSettings,
    folder: Path,
    files: contextlib.ExitStack,
    errors: list[tuple[int, str]],
    tally: Tally,
) -> dict[str, _Group]:
    """Put every row of one policy's extract, as it is written, in the group of the version in
    force on its request_date. A row that cannot be read, or has no request_date, goes to the
    version of ``--as-of`` (else today), whose audit reports it as an audit of that version alone
    would; only a row dated where no version is in force becomes an error line here."""
    groups: dict[str, _Group] = {}
    in_force = _InForce(settings)
    undated = in_force.version(settings.policy_id, None)
    if not undated.startswith("="):  # --as-of itself in no version: one error, before any row
        raise VersionError(undated.removeprefix(f"{REQUEST_DATE_FIELD}: "))
    first = stream.readline().removeprefix("\ufeff")
    hint = utf16_hint(first)
    if hint is not None:
        raise InputError([FieldProblem("encoding", hint)])
    lines = itertools.chain((first,), stream) if first else iter(())
    header: tuple[str, ...] | None = None

    def group_of(number: int, record_id: object, day: object) -> _Group | None:
        version = in_force.version(settings.policy_id, day)
        if not version.startswith("="):
            shown = record_id if isinstance(record_id, str) and is_text(record_id) and record_id else number
            tally.add_error(number, shown, f"row {number}: {version}")
            line = json.dumps({"row": number, "id": shown, "error": f"row {number}: {version}",
                               "fields": [REQUEST_DATE_FIELD]}, ensure_ascii=False)
            errors.append((number, _writable(line) + "\n"))
            return None
        if version not in groups:
            file = _group_file(files, folder)
            model = engine_for(settings.policy_id, settings.kb_root, version[1:]).model
            groups[version] = _Group(model, file, version[1:])
            if header is not None:
                groups[version].put(1, _csv_line(header))
        return groups[version]

    if settings.input_format == "jsonl":
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if REQUEST_DATE_FIELD not in line and "\\" not in line:
                # No member can be named request_date (without an escape, the name is in the
                # text as it is): the undated version's, without parsing the row here.
                undated_group = group_of(number, None, None)
                assert undated_group is not None  # the undated version is in force, checked above
                undated_group.put(number, line.rstrip("\r\n"))
                continue
            try:
                row = loads_strict(line)
            except ValueError:
                row = None  # its group's audit says what is wrong with it
            fields = row if isinstance(row, dict) else {}
            group = group_of(number, fields.get(ID_FIELD), fields.get(REQUEST_DATE_FIELD))
            if group is not None:
                group.put(number, line.rstrip("\r\n"))
        return groups
    csv.field_size_limit(CSV_FIELD_LIMIT)
    source = _OneLine(lines)  # one record per line, as the audit reads them
    records = csv.reader(source, strict=True)
    try:
        header = tuple(cell.strip() for cell in next(records, []))
    except (csv.Error, _QuoteOpen) as problem:
        raise HeaderError([FieldProblem("header", f"the CSV header (line 1) cannot be read: {problem}")]) from None
    check_header(header, engine_for(settings.policy_id, settings.kb_root, undated[1:]).vocabulary)
    at = header.index(REQUEST_DATE_FIELD) if REQUEST_DATE_FIELD in header else None
    record_at = header.index(ID_FIELD) if ID_FIELD in header else None
    number = 0
    while True:
        number += 1
        source.asked = False
        try:
            cells: list[str] | None = next(records)
        except StopIteration:
            break
        except (csv.Error, _QuoteOpen):
            cells = None  # unreadable: its group's audit says why
        if cells == []:
            continue
        whole = cells is not None and len(cells) == len(header)
        day = cells[at].strip() if whole and cells and at is not None else None
        record_id = cells[record_at].strip() if whole and cells and record_at is not None else None
        group = group_of(number, record_id, day)
        if group is not None:
            group.put(number + 1, source.line.rstrip("\r\n"))  # row n: line n + 1
    return groups


def _group_file(files: contextlib.ExitStack, folder: Path) -> IO[str]:
    """A temporary file for one group's rows, closed with the run."""
    import tempfile

    return files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogateescape", dir=folder))


def _csv_line(cells: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _writable(text: str) -> str:
    return text if is_text(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


__all__ = ["DEFAULT_SYSTEM", "RoutedTally", "audit_by_version", "audit_routed", "dates_choose_versions", "routed_summary"]
