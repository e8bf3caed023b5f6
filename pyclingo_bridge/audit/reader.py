"""Reading an extract: JSONL or CSV rows, streamed in bounded chunks, parsed into fact mappings.

The input is read with ``errors="surrogateescape"`` (see the CLI), so that bytes that are not
UTF-8 make an error row of their own rather than end the run. Reading and parsing are split
so that the parent process only cuts the input into chunks (cheap) and the workers parse
(JSON decoding is a good part of the cost of a row). A raw row
is the JSONL line or the tuple of CSV cells; :class:`RowParser` turns it into the mapping the
query contract takes, or an :class:`InputError` naming the field. Every value check is left to
:meth:`Vocabulary.validate`, so a bad cell reads exactly as the same bad value sent to
``policykb query``.

A CSV record is one line (:class:`_OneLine`): a quote left open, or text after a closing
quote, makes its line an error row naming the line and the column where the quote opened,
and the next line is read as usual. A quote inside an unquoted cell (``4"7``) is text, which
validation then judges. An extract that is UTF-16, or a CSV file whose first line is no
header, is one error before any row.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import itertools
import json
import operator
import os
import re
import stat
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TextIO

from orjson import loads as _fast_loads

from ..errors import FieldProblem, InputError
from ..fact_types import EMPTY_LIST, LIST_SEPARATOR
from ..json_input import DuplicateKeyError, loads_strict
from ..text_input import utf16_hint
from ..vocabulary import ID_FIELD, Vocabulary

InputFormat = Literal["jsonl", "csv"]
INPUT_FORMATS: tuple[InputFormat, ...] = ("jsonl", "csv")


@dataclass(frozen=True)
class UnreadableRecord:
    """A CSV record the csv module could not read: it becomes an error row of its own."""

    problem: str


RawRow = str | tuple[str, ...] | UnreadableRecord
"""A JSONL line, the cells of a CSV record, or a CSV record that could not be read."""

@dataclass(frozen=True)
class Lines:
    """Consecutive lines of a JSONL extract, the first of them line ``start``: cut by the
    process that reads the extract at C speed (``itertools.islice``), numbered by the one
    that decides them. A blank line is no row; a row's number is its line's."""

    start: int
    lines: list[str]

    def __iter__(self) -> Iterator[tuple[int, RawRow]]:
        # The numbered lines that are not blank, at C speed (a generator cost a tenth of a row).
        return itertools.compress(zip(itertools.count(self.start), self.lines), map(str.strip, self.lines))


@dataclass(frozen=True)
class Span:
    """Consecutive lines of a JSONL file, the first of them line ``start``: the ``length``
    bytes at ``offset`` of the file open as ``fd``, read by the process that decides them
    (forked workers share the parent's descriptors), so that no line crosses a pipe. They
    read as the CLI's text stream reads them: UTF-8 with ``errors``, and universal newlines
    (CR LF and a lone CR end a line as LF does)."""

    start: int
    fd: int
    offset: int
    length: int
    errors: str = "surrogateescape"

    def __iter__(self) -> Iterator[tuple[int, RawRow]]:
        data = os.pread(self.fd, self.length, self.offset)
        while len(data) < self.length:  # a short read (the file shrank, or a signal)
            more = os.pread(self.fd, self.length - len(data), self.offset + len(data))
            if not more:
                break
            data += more
        text = data.decode("utf-8", self.errors)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        last = lines.pop()  # "" after a final line break
        lines = list(map(operator.add, lines, itertools.repeat("\n")))
        if last:
            lines.append(last)
        return iter(Lines(self.start, lines))


Chunk = list[tuple[int, RawRow]] | Lines | Span
"""Consecutive rows with their 1-based row numbers."""

SPAN_READ = 1 << 20
"""Bytes the parent reads at a time to cut a file into spans."""

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


def open_source(stream: TextIO, input_format: InputFormat, vocabulary: Vocabulary, chunk_size: int, spans: bool = False) -> Source:
    """Read ``stream`` lazily. A CSV header naming an unknown column, or no header, raises
    HeaderError; UTF-16 text raises InputError (before any row, either format).

    ``spans``: ``stream`` reads a file as the CLI opens it (UTF-8 or UTF-8 with a
    byte-order mark, universal newlines) and nothing has read it yet; a JSONL extract in a
    regular file is then cut into :class:`Span` chunks, which the deciding processes read."""
    file = _regular_file(stream) if spans and input_format == "jsonl" else None
    if file is not None:
        fd, marked = file
        return Source("jsonl", None, _span_chunks(fd, chunk_size, getattr(stream, "errors", None) or "strict", marked))
    first = stream.readline()
    first = first.removeprefix("\ufeff")  # a UTF-8 byte-order mark (the CLI's utf-8-sig drops it already)
    hint = utf16_hint(first)
    if hint is not None:
        raise InputError([FieldProblem("encoding", hint)])
    lines = itertools.chain((first,), stream) if first else iter(())
    if input_format == "jsonl":
        return Source("jsonl", None, _line_chunks(lines, chunk_size))
    csv.field_size_limit(CSV_FIELD_LIMIT)
    source = _OneLine(lines)
    # strict: text after a closing quote ("47"x) is an error, not silently the cell 47x.
    records = csv.reader(source, strict=True)
    try:
        header = tuple(cell.strip() for cell in next(records, []))
    except (csv.Error, _QuoteOpen) as error:
        problem = _quote_problem(source.line) or str(error)
        raise HeaderError([FieldProblem("header", f"the CSV header (line 1) cannot be read: {problem}")]) from None
    check_header(header, vocabulary)
    return Source("csv", header, _chunks(csv_rows(records, source), chunk_size))


def check_header(header: Sequence[str], vocabulary: Vocabulary) -> None:
    """Every column must be a field of the vocabulary, once."""
    problems = []
    if not header:
        problems.append(FieldProblem("header", "the CSV file has no header row"))
    elif not set(header) & set(vocabulary.fields):  # a data line: one message, not one per cell
        message = (
            "the first line names no column of the vocabulary, so it is not a header: the first line "
            "of a CSV extract names its columns; allowed columns: " + ", ".join(vocabulary.fields)
        )
        raise HeaderError([FieldProblem("header", message)])
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


def _regular_file(stream: TextIO) -> tuple[int, bool] | None:
    """The descriptor of a regular file that ``stream`` reads as UTF-8, and whether it reads
    it as UTF-8 with a byte-order mark (utf-8-sig); None for any other stream."""
    try:
        fd = stream.fileno()
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
        return None
    encoding = getattr(stream, "encoding", None)
    name = codecs.lookup(encoding).name if isinstance(encoding, str) else None
    if not regular or name not in ("utf-8", "utf-8-sig"):
        return None
    return fd, name == "utf-8-sig"


def _span_chunks(fd: int, size: int, errors: str, marked: bool) -> Iterator[Span]:
    """The file read from its current offset in spans of about ``size`` lines (as many
    bytes as ``size`` lines of the first megabyte take), each ending at a line end. The
    reads move the offset (a progress bar reads it); the deciding processes read each span
    again. The first line is checked at once, and its byte-order marks dropped, as
    ``open_source`` does after the stream's decoder (``marked``: utf-8-sig) dropped one."""
    base = os.lseek(fd, 0, os.SEEK_CUR)
    data = os.read(fd, SPAN_READ)
    more = data
    while more and b"\n" not in data and b"\r" not in data:  # the whole first line, as readline reads it
        more = os.read(fd, SPAN_READ)
        data += more
    for _ in range(1 + marked):
        if data.startswith(codecs.BOM_UTF8):
            data, base = data[len(codecs.BOM_UTF8) :], base + len(codecs.BOM_UTF8)
    first = _first_end(data, 0)
    hint = utf16_hint(data[: first if first >= 0 else len(data)].decode("utf-8", "surrogateescape"))
    if hint is not None:
        raise InputError([FieldProblem("encoding", hint)])
    return _spans(fd, size, errors, base, data)


def _spans(fd: int, size: int, errors: str, base: int, data: bytes) -> Iterator[Span]:
    """The spans of ``_span_chunks``, from ``data``, read at offset ``base``."""
    target = max(1, size * len(data) // max(1, data.count(b"\n")))
    start, position, ended = 1, 0, False
    while position < len(data) or not ended:
        end = position + target
        if len(data) <= end and not ended:  # one byte past the target, to see what follows a \r
            more = os.read(fd, max(SPAN_READ, target))
            ended = not more
            data, base, end, position = data[position:] + more, base + position, end - position, 0
            continue
        # The last line end before the target (a \r\n whole), else the first after it.
        cut = max(data.rfind(b"\n", position, end), data.rfind(b"\r", position, end)) + 1
        if cut <= position:
            cut = _first_end(data, end)
            if (cut < 0 or cut == len(data) and data.endswith(b"\r")) and not ended:
                target = 2 * max(target, len(data) - position)  # a line past the target: read on
                continue
            if cut < 0:
                cut = len(data)
        if data[cut - 1 : cut + 1] == b"\r\n":
            cut += 1
        yield Span(start, fd, base + position, cut - position, errors)
        start += _lines_in(data, position, cut)
        position = cut


def _first_end(data: bytes, start: int) -> int:
    """Just after the first line end at or after ``start`` (a CR LF whole); -1 if none."""
    ends = [found for found in (data.find(b"\n", start), data.find(b"\r", start)) if found >= 0]
    if not ends:
        return -1
    cut = min(ends) + 1
    return cut + 1 if data[cut - 1 : cut + 1] == b"\r\n" else cut


def _lines_in(data: bytes, start: int, end: int) -> int:
    """The lines of ``data[start:end]`` as universal newlines count them (the last may lack its end)."""
    ends = data.count(b"\n", start, end)
    if data.find(b"\r", start, end) >= 0:
        ends += data.count(b"\r", start, end) - data.count(b"\r\n", start, end)
    return ends + (data[end - 1 : end] not in (b"\n", b"\r"))


def _line_chunks(lines: Iterator[str], size: int) -> Iterator[Lines]:
    # Row number = line number, so that an error points at the line.
    start = 1
    while batch := list(itertools.islice(lines, size)):
        yield Lines(start, batch)
        start += len(batch)


class _QuoteOpen(Exception):
    """The csv reader asked for a second line for one record: a quote is open at the end of a line."""


class _OneLine:
    """The lines of a CSV extract, handed to the csv reader one record at a time.

    A record is one line. A quoted cell could hold a line break, but in an extract a quote
    that is never closed (``"47``) would then swallow every later line into one cell: 998
    of 1,000 rows were lost that way. So when the reader asks for another line before it has
    ended a record, :class:`_QuoteOpen` stops it; that line is an error row, and reading
    starts again at the next line. ``asked`` is reset before each record.
    """

    __slots__ = ("asked", "line", "lines")

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.line = ""
        self.asked = False

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        if self.asked:
            raise _QuoteOpen
        self.asked = True
        self.line = next(self.lines)
        return self.line


def csv_rows(records: Iterator[list[str]], source: _OneLine) -> Iterator[tuple[int, RawRow]]:
    """The records after the header, numbered, for the audit and the routed audit alike."""
    # Row n is the n-th line after the header (line n + 1). A line the csv module cannot read
    # is an error row, and reading goes on with the next line.
    number = 0
    while True:
        number += 1
        source.asked = False
        try:
            cells = next(records)
        except StopIteration:
            return
        except (csv.Error, _QuoteOpen) as error:
            problem = _quote_problem(source.line, number + 1) or f"line {number + 1}: {error}"
            yield number, UnreadableRecord(f"not a readable CSV record: {problem}")
            continue
        if cells:
            yield number, tuple(cells)


def _quote_problem(line: str, line_number: int = 1) -> str | None:
    """What is wrong with the quotes of a CSV line, naming the line and the column where the
    quote opened; None when its quotes are sound. Scans as the csv module does: a quote
    opens a quoted cell only at the start of a cell, ``""`` inside it is one quote, and the
    closing quote must end the cell."""
    text = line.rstrip("\r\n")
    position, length = 0, len(text)
    while position <= length:
        if position < length and text[position] == '"':
            opened = position
            position += 1
            while True:
                close = text.find('"', position)
                if close < 0:
                    return (f"the quote at line {line_number}, column {opened + 1} opens a quoted cell that the line "
                            "does not close (a record is one line; a quote inside a cell is written twice)")
                if text.startswith('""', close):
                    position = close + 2
                    continue
                position = close + 1
                break
            if position < length and text[position] != ",":
                return (f"the quoted cell opened at line {line_number}, column {opened + 1} is closed at column "
                        f"{position}, and text follows before the next comma (a quote inside a cell is written twice)")
        comma = text.find(",", position)
        if comma < 0:
            return None
        position = comma + 1
    return None


def _chunks(rows: Iterator[tuple[int, RawRow]], size: int) -> Iterator[Chunk]:
    chunk: list[tuple[int, RawRow]] = []
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
        self._decimals = tuple((key, f'"{key}":') for key, spec in vocabulary.specs.items() if spec.type == "decimal")
        """Each decimal fact and how its member opens in a line (``parse_plain`` reads its
        number's text)."""

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

    def parse_plain(self, raw: RawRow) -> dict[str, Any] | None:
        """A JSONL row read the fast way (orjson), when that is sure to be what ``parse`` gives
        apart from numbers with a fraction in any member but a decimal fact's (floats here,
        which no fast reader accepts, see ``ClassCodes.of_row``); else None, and ``parse``
        reads it.

        Sure means: an object whose members hold no object and whose text has as many colons
        as it has members, so no key came twice (orjson keeps the last silently). Any text
        orjson refuses (a lone surrogate, NaN, nesting too deep) is left to ``parse`` too, whose
        error names the problem. An integer too long for 64 bits is a float here: refused
        by the fast readers, so ``parse`` reads it exactly. A decimal fact's number is read
        from its text as ``parse`` reads it (``_exact_decimal``)."""
        if raw.__class__ is not str:
            return None
        try:
            value = _fast_loads(raw)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            return None
        if value.__class__ is not dict or raw.count(":") != len(value):
            return None
        for key, opening in self._decimals:
            number = value.get(key)
            if number.__class__ is float:
                exact = _exact_decimal(raw, opening, number)
                if exact is None:
                    return None
                value[key] = exact
        return value

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


_JSON_FRACTION = re.compile(r"[ \t\r\n]*(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")
"""A JSON number after a member's colon (RFC 8259 §6)."""


def _exact_decimal(raw: str, opening: str, number: float) -> Decimal | None:
    """The Decimal the strict reader makes of the number orjson read as ``number`` in the
    member that ``opening`` (``"key":``) opens, from the number's own text; None unless that
    is sure. ``opening`` can only stand in a line where a key is: a quote inside a string is
    escaped, so a key that merely ends in the name (``"a\\"bmi":``, an unknown field) is the
    one other place, and a second ``opening`` in the line is refused as doubtful. The number
    must have a fraction or an exponent (what the strict reader gives ``Decimal``) and be
    the one orjson read (its float, correctly rounded both ways)."""
    at = raw.find(opening)
    if at < 0 or raw.find(opening, at + 1) >= 0:
        return None
    match = _JSON_FRACTION.match(raw, at + len(opening))
    if match is None:
        return None
    text = match.group(1)
    if not ("." in text or "e" in text or "E" in text) or float(text) != number:
        return None
    return Decimal(text)


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
    "Lines",
    "RawRow",
    "RowParser",
    "Source",
    "UnreadableRecord",
    "check_header",
    "format_of",
    "open_source",
]
