"""Reading an extract: JSONL or CSV rows, streamed in bounded chunks, parsed into fact mappings.

The input is read with ``errors="surrogateescape"`` (see the CLI), so that bytes that are not
UTF-8 make an error row of their own rather than end the run. Reading and parsing are split
so that the parent process only cuts the input into chunks (cheap) and the workers parse
(JSON decoding is a good part of the cost of a row). A raw row
is the JSONL line or the tuple of CSV cells; :class:`RowParser` turns it into the mapping the
query contract takes, or an :class:`InputError` naming the field. Every value check is left to
:meth:`Vocabulary.validate`, so a bad cell reads exactly as the same bad value sent to
``policykb query``.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from ..errors import FieldProblem, InputError
from ..fact_types import EMPTY_LIST, LIST_SEPARATOR
from ..json_input import DuplicateKeyError, loads_strict
from ..vocabulary import ID_FIELD, Vocabulary

InputFormat = Literal["jsonl", "csv"]
INPUT_FORMATS: tuple[InputFormat, ...] = ("jsonl", "csv")


@dataclass(frozen=True)
class UnreadableRecord:
    """A CSV record the csv module could not read: it becomes an error row of its own."""

    problem: str


RawRow = str | tuple[str, ...] | UnreadableRecord
"""A JSONL line, the cells of a CSV record, or a CSV record that could not be read."""

Chunk = list[tuple[int, RawRow]]
"""Consecutive rows with their 1-based row numbers."""

CSV_FIELD_LIMIT = 2**31 - 1
"""The csv module refuses a field over 131,072 characters by default, which stopped the
whole run; a long cell is read, and validation says what is wrong with it."""
_ID_PREFIXES = ('{"id": "', '{"id":"')


def format_of(name: str) -> InputFormat | None:
    """The input format a file name implies by its extension, or None."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return None


class HeaderError(InputError):
    """A CSV header that names a column the vocabulary does not have (a fault of every row)."""


@dataclass(frozen=True)
class Source:
    """An opened extract: its format, its CSV header, and its rows in chunks."""

    format: InputFormat
    header: tuple[str, ...] | None
    chunks: Iterator[Chunk]


def open_source(stream: TextIO, input_format: InputFormat, vocabulary: Vocabulary, chunk_size: int) -> Source:
    """Read ``stream`` lazily; a CSV header naming an unknown column raises HeaderError."""
    if input_format == "jsonl":
        return Source("jsonl", None, _chunks(_jsonl_rows(stream), chunk_size))
    csv.field_size_limit(CSV_FIELD_LIMIT)
    records = csv.reader(stream)
    try:
        header = tuple(cell.strip() for cell in next(records, []))
    except csv.Error as error:
        raise HeaderError([FieldProblem("header", f"the CSV header cannot be read: {error}")]) from None
    check_header(header, vocabulary)
    return Source("csv", header, _chunks(_csv_rows(records), chunk_size))


def check_header(header: Sequence[str], vocabulary: Vocabulary) -> None:
    """Every column must be a field of the vocabulary, once."""
    problems = []
    if not header:
        problems.append(FieldProblem("header", "the CSV file has no header row"))
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.append(FieldProblem(column, "column given more than once in the CSV header"))
        elif column not in vocabulary.fields:
            hint = difflib.get_close_matches(column, vocabulary.fields, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(
                FieldProblem(column, f"unknown CSV column{suggestion}; allowed columns: " + ", ".join(vocabulary.fields))
            )
        seen.add(column)
    if problems:
        raise HeaderError(problems)


def _jsonl_rows(stream: TextIO) -> Iterator[tuple[int, RawRow]]:
    # Row number = line number, so that an error points at the line; blank lines are no rows.
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def _csv_rows(records: Iterator[list[str]]) -> Iterator[tuple[int, RawRow]]:
    # A record the csv module cannot read is an error row, and reading goes on with the
    # next line, as the csv module does.
    number = 0
    while True:
        number += 1
        try:
            cells = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, UnreadableRecord(f"not a readable CSV record: {error}")
            continue
        if cells:
            yield number, tuple(cells)


def _chunks(rows: Iterator[tuple[int, RawRow]], size: int) -> Iterator[Chunk]:
    chunk: Chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RowParser:
    """Turns raw rows into fact mappings (the query contract), raising InputError for bad rows."""

    def __init__(self, vocabulary: Vocabulary, input_format: InputFormat, header: Sequence[str] | None = None) -> None:
        self.vocabulary = vocabulary
        self.format = input_format
        self.header = tuple(header or ())
        # The converter of each column, from its declared type: CSV cells are text.
        self._convert = [_cell_converter(vocabulary, column) for column in self.header]
        self._id_column = self.header.index(ID_FIELD) if ID_FIELD in self.header else None

    def split_id(self, raw: RawRow) -> tuple[Hashable, str | None] | None:
        """The row without its id, and the id, when that can be told without parsing; else None.

        Two rows whose text is the same apart from the id are the same facts under another
        id, so the auditor answers a repeated row without parsing it again. For JSONL that is
        a line that opens with the id member, ``{"id": "..."`` (as exports and ``json.dumps``
        write it), whose id is plain printable ASCII without escapes: then the id's text is
        its value and the rest of the line, from its closing quote, is the other members. A
        CSV record splits at the id column (or has no id).
        """
        if isinstance(raw, str):
            for prefix in _ID_PREFIXES:
                if raw.startswith(prefix):
                    start = len(prefix)
                    end = raw.find('"', start)
                    identifier = raw[start:end]
                    if end > 0 and identifier.isascii() and identifier.isprintable() and "\\" not in identifier:
                        return raw[end + 1 :], identifier
                    return None
            return None
        if isinstance(raw, UnreadableRecord) or len(raw) != len(self.header):
            return None  # an error: let parsing say so
        if self._id_column is None:
            return raw, None
        identifier = raw[self._id_column].strip()
        if not identifier.isascii():
            return None  # let parsing check its text
        return raw[: self._id_column] + raw[self._id_column + 1 :], identifier or None

    def parse(self, raw: RawRow) -> object:
        """The row as a JSON-like value; ``validate`` checks it against the vocabulary."""
        if isinstance(raw, str):
            if not raw.isascii():
                _check_utf8(raw)
            return _parse_json(raw)
        if isinstance(raw, UnreadableRecord):
            raise InputError([FieldProblem("input", raw.problem)])
        for cell in raw:
            if not cell.isascii():
                _check_utf8(cell)
        return self._parse_cells(raw)

    def _parse_cells(self, cells: tuple[str, ...]) -> dict[str, object]:
        if len(cells) != len(self.header):
            raise InputError(
                [FieldProblem("input", f"{len(cells)} cells where the header has {len(self.header)} columns")]
            )
        facts: dict[str, object] = {}
        for column, convert, cell in zip(self.header, self._convert, cells):
            text = cell.strip()
            if text:  # an empty cell is an absent fact
                facts[column] = convert(text)
        return facts


def _cell_converter(vocabulary: Vocabulary, column: str) -> Any:
    """Typed conversion by the column's fact type (``FactType.cell``); text that does not
    convert is passed on unchanged so that validation names the field and what it allows."""
    spec = vocabulary.specs.get(column)
    return str if spec is None else spec.fact_type.cell(spec)


def _check_utf8(text: str) -> None:
    """Text read with ``errors="surrogateescape"`` holds each byte that is not UTF-8 as a
    lone surrogate: such a row is an error of its own, and the rows around it go on."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(text[error.start]) - 0xDC00
        problem = f"not UTF-8 text: byte 0x{byte:02x} at character {error.start + 1}" if 0x80 <= byte <= 0xFF else "not UTF-8 text"
        raise InputError([FieldProblem("input", problem)]) from None


def _parse_json(line: str) -> object:
    # Duplicate keys are an error, as in `policykb query`, never a silent overwrite.
    try:
        return loads_strict(line.rstrip("\r\n"))
    except json.JSONDecodeError as error:
        raise InputError([FieldProblem("input", f"not valid JSON: {error.msg} (column {error.colno})")]) from None
    except DuplicateKeyError as error:
        raise InputError([FieldProblem(error.key, "given more than once")]) from None


__all__ = [
    "EMPTY_LIST",
    "ID_FIELD",
    "INPUT_FORMATS",
    "LIST_SEPARATOR",
    "Chunk",
    "HeaderError",
    "InputFormat",
    "RawRow",
    "RowParser",
    "Source",
    "UnreadableRecord",
    "check_header",
    "format_of",
    "open_source",
]
