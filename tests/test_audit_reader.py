"""Reading extracts: CSV cells typed by the vocabulary, formats from names, chunking."""

from __future__ import annotations

import io
from typing import Any

import pytest

from pyclingo_bridge import InputError, PolicyEngine
from pyclingo_bridge.audit import HeaderError, RowParser, format_of
from pyclingo_bridge.audit.reader import UnreadableRecord, open_source

CELLS: list[tuple[str, str, str, Any]] = [
    # name, column, cell, parsed value (validation then judges it)
    ("integer", "age", "45", 45),
    ("integer with spaces", "age", " 45 ", 45),
    ("integer not a number", "age", "45.5", "45.5"),
    ("boolean", "sciatica", "true", True),
    ("boolean in capitals", "sciatica", "FALSE", False),
    ("boolean not a boolean", "sciatica", "yes", "yes"),
    ("enum", "setting", "mcas", "mcas"),
    ("list of one", "red_flags", "cauda_equina", ["cauda_equina"]),
    ("list of two", "red_flags", "cauda_equina; suspected_fracture", ["cauda_equina", "suspected_fracture"]),
    ("empty list", "red_flags", "[]", []),
    ("id", "id", "007", "007"),
]


@pytest.mark.parametrize(("column", "cell", "value"), [c[1:] for c in CELLS], ids=[c[0] for c in CELLS])
def test_csv_cell_is_typed_by_its_fact(engine: PolicyEngine, column: str, cell: str, value: Any) -> None:
    parser = RowParser(engine.vocabulary, "csv", [column])
    assert parser.parse((cell,)) == {column: value}


def test_empty_csv_cell_is_an_absent_fact(engine: PolicyEngine) -> None:
    parser = RowParser(engine.vocabulary, "csv", ["age", "setting"])
    assert parser.parse(("", "mcas")) == {"setting": "mcas"}


HEADERS = [
    ("unknown column", "id,agee", ["agee"]),
    ("column twice", "age,age", ["age"]),
    ("no header", "", ["header"]),
]


@pytest.mark.parametrize(("header", "fields"), [h[1:] for h in HEADERS], ids=[h[0] for h in HEADERS])
def test_bad_csv_header_is_refused(engine: PolicyEngine, header: str, fields: list[str]) -> None:
    with pytest.raises(HeaderError) as raised:
        open_source(io.StringIO(header + "\n"), "csv", engine.vocabulary, 10)
    assert list(raised.value.fields) == fields


def test_json_duplicate_key_is_an_error(engine: PolicyEngine) -> None:
    with pytest.raises(InputError) as raised:
        RowParser(engine.vocabulary, "jsonl").parse('{"age": 1, "age": 2}\n')
    assert str(raised.value) == "age: given more than once"


def test_rows_come_in_bounded_chunks_with_their_numbers(engine: PolicyEngine) -> None:
    source = open_source(io.StringIO("{}\n{}\n\n{}\n{}\n{}\n"), "jsonl", engine.vocabulary, 2)
    chunks = list(source.chunks)
    assert [[number for number, _ in chunk] for chunk in chunks] == [[1, 2], [4, 5], [6]]


FORMATS = [("extract.jsonl", "jsonl"), ("EXTRACT.CSV", "csv"), ("x.ndjson", "jsonl"), ("x.json", None), ("<stdin>", None)]


@pytest.mark.parametrize(("name", "expected"), FORMATS, ids=[f[0] for f in FORMATS])
def test_format_of_a_name(name: str, expected: str | None) -> None:
    assert format_of(name) == expected


def test_a_csv_record_the_csv_module_cannot_read_is_an_error_row_and_reading_goes_on(engine: PolicyEngine) -> None:
    source = open_source(io.StringIO('id,age\na,40\nb,"4"0\n\nc,41\n'), "csv", engine.vocabulary, 10)
    rows = [row for chunk in source.chunks for row in chunk]
    problem = (
        "not a readable CSV record: the quoted cell opened at line 3, column 3 is closed at column 5, "
        "and text follows before the next comma (a quote inside a cell is written twice)"
    )
    assert rows == [(1, ("a", "40")), (2, UnreadableRecord(problem)), (4, ("c", "41"))]
    parser = RowParser(engine.vocabulary, "csv", ["id", "age"])
    assert parser.split_id(rows[1][1]) is None
    with pytest.raises(InputError) as raised:
        parser.parse(rows[1][1])
    assert str(raised.value) == f"input: {problem}"
