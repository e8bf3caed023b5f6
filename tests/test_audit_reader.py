"""Reading extracts: CSV cells typed by the vocabulary, formats from names, chunking."""

from __future__ import annotations

import codecs
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine, engine_for
from pyclingo_bridge.audit import HeaderError, RowParser, format_of
from pyclingo_bridge.audit.reader import UnreadableRecord, open_source
from pyclingo_bridge.class_codes import ClassCodes
from pyclingo_bridge.classes import AUDIT_ATOMS, classes_for
from pyclingo_bridge.cli import main

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
    """A JSONL chunk is so many lines; a blank one is no row, and a row's number is its line's."""
    source = open_source(io.StringIO("{}\n{}\n\n{}\n{}\n{}\n"), "jsonl", engine.vocabulary, 2)
    chunks = list(source.chunks)
    assert [[number for number, _ in chunk] for chunk in chunks] == [[1, 2], [4], [5, 6]]


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


QUOTES = [
    # name, line after the header "id,age,setting", the problem (None: the line is read)
    ("unterminated quote", 'r1,"47,mcas',
     ("the quote at line 2, column 4 opens a quoted cell that the line does not close "
     "(a record is one line; a quote inside a cell is written twice)")),
    ("unterminated quote in the last cell", 'r1,47,"mcas',
     ("the quote at line 2, column 7 opens a quoted cell that the line does not close "
     "(a record is one line; a quote inside a cell is written twice)")),
    ("text after the closing quote", 'r1,"47"x,mcas',
     ("the quoted cell opened at line 2, column 4 is closed at column 7, and text follows before the next comma "
     "(a quote inside a cell is written twice)")),
    ("a doubled quote left open", 'r1,"4""7,mcas',
     ("the quote at line 2, column 4 opens a quoted cell that the line does not close "
     "(a record is one line; a quote inside a cell is written twice)")),
    ("quoted cells", '"r1","47","mcas"', None),
    ("a doubled quote inside a quoted cell", '"r""1",47,mcas', None),
    ("a quote inside an unquoted cell is text", 'r"1,47,mcas', None),
]


@pytest.mark.parametrize(("line", "problem"), [q[1:] for q in QUOTES], ids=[q[0] for q in QUOTES])
def test_a_stray_quote_is_an_error_row_and_every_later_line_is_read(
    engine: PolicyEngine, line: str, problem: str | None
) -> None:
    later = "".join(f"r{number},4{number},mcas\n" for number in range(2, 6))
    source = open_source(io.StringIO(f"id,age,setting\n{line}\n{later}"), "csv", engine.vocabulary, 3)
    rows = [row for chunk in source.chunks for row in chunk]
    assert [number for number, _ in rows] == [1, 2, 3, 4, 5]
    assert rows[1:] == [(number, (f"r{number}", f"4{number}", "mcas")) for number in range(2, 6)]
    if problem is None:
        assert isinstance(rows[0][1], tuple)
    else:
        assert rows[0][1] == UnreadableRecord(f"not a readable CSV record: {problem}")


STRAY = '"47'


def test_a_stray_quote_in_an_extract_of_1000_rows_loses_no_row(tmp_path: Path) -> None:
    """The fault: one ``"47`` swallowed the 998 records after it into one cell."""
    lines = ["id,age,setting"] + [f"r{row},{STRAY if row == 2 else 47},mcas" for row in range(1, 1001)]
    extract = tmp_path / "extract.csv"
    extract.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", str(extract)])
    assert result.exit_code == 1
    assert result.stderr.endswith("Error: 1 of 1,000 rows could not be decided (see their error lines)\n")
    out = [json.loads(line) for line in result.stdout.split("\n")[:-1]]
    assert [line["row"] for line in out] == list(range(1, 1001))
    assert [line["id"] for line in out if "status" in line] == [f"r{row}" for row in range(1, 1001) if row != 2]
    assert out[1] == {
        "row": 2,
        "id": 2,
        "error": "row 2: input: not a readable CSV record: the quote at line 3, column 4 opens a quoted cell that "
        "the line does not close (a record is one line; a quote inside a cell is written twice)",
        "fields": ["input"],
    }


STARTS = [
    # name, bytes of the file, format, the message
    ("UTF-16 CSV with a byte-order mark (LE)", "id,age\nr1,40\n".encode("utf-16"), "csv",
     "encoding: UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8: save it as UTF-8"),
    ("UTF-16 CSV with a byte-order mark (BE)", codecs.BOM_UTF16_BE + "id,age\n".encode("utf-16-be"), "csv",
     "encoding: UTF-16 text (it starts with the byte-order mark FE FF), not UTF-8: save it as UTF-8"),
    ("UTF-16 JSONL without a byte-order mark", '{"age": 40}\n'.encode("utf-16-le"), "jsonl",
     "encoding: UTF-16 text (every other byte of its first line is NUL), not UTF-8: save it as UTF-8"),
    ("CSV without a header", b"r1,40,mcas\n", "csv",
     ("header: the first line names no column of the vocabulary, so it is not a header: the first line of a CSV "
     "extract names its columns; allowed columns: ")),
    ("CSV header with a quote left open", b'"id,age\n', "csv",
     ("header: the CSV header (line 1) cannot be read: the quote at line 1, column 1 opens a quoted cell that the "
     "line does not close (a record is one line; a quote inside a cell is written twice)")),
]


@pytest.mark.parametrize(("data", "input_format", "message"), [s[1:] for s in STARTS], ids=[s[0] for s in STARTS])
def test_a_file_that_is_not_an_extract_is_one_clear_error_before_any_row(
    tmp_path: Path, data: bytes, input_format: str, message: str
) -> None:
    extract = tmp_path / f"extract.{input_format}"
    extract.write_bytes(data)
    result = CliRunner().invoke(main, ["audit", "--policy", "CMICB_Clin086", str(extract)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"Error: invalid input: {message}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_utf8_byte_order_mark_is_dropped_from_a_stream_too(engine: PolicyEngine) -> None:
    source = open_source(io.StringIO('\ufeff{"age": 40}\n'), "jsonl", engine.vocabulary, 10)
    rows = [row for chunk in source.chunks for row in chunk]
    assert rows == [(1, '{"age": 40}\n')]
    assert RowParser(engine.vocabulary, "jsonl").parse(rows[0][1]) == {"age": 40}


BREAST_REDUCTION = "DRAFT_EBI_BreastReduction"
NUMBERS = st.one_of(
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,3})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,2})?", fullmatch=True),
)
"""Numbers as a JSON line may spell them: fractions long and short, trailing zeros, exponents."""


@settings(max_examples=400, deadline=None)
@given(
    number=NUMBERS,
    before=st.sampled_from(['{"id": "r1", ', "{", '{"id": "\\"bmi\\": 1", ', '{"age": 40, ']),
    spacing=st.sampled_from(["", " ", "\t "]),
    key=st.sampled_from(['"bmi"', '"b\\u006di"', '"a\\"bmi"']),
    after=st.sampled_from(["}", ', "age": 50.5}', ', "bmi": 30.0}', ', "sex_at_birth": "female"}']),
)
def test_a_decimal_read_the_fast_way_is_the_strict_readers_decimal(
    number: str, before: str, spacing: str, key: str, after: str
) -> None:
    """Whatever the fast reader gives (None: it leaves the line to the strict one) holds the
    strict reader's values, Decimal for Decimal in a decimal fact: the number's own text
    decides its class, never a float near it. A fraction elsewhere stays a float, which the
    class code refuses (the strict reader then reads the row)."""
    vocabulary = engine_for(BREAST_REDUCTION).vocabulary
    parser = RowParser(vocabulary, "jsonl")
    line = f"{before}{key}:{spacing}{number}{after}"
    try:
        strict = parser.parse(line)
    except InputError:
        return  # not JSON, or a key twice: the strict reader's error stands
    fast = parser.parse_plain(line)
    if fast is None:
        return
    assert isinstance(strict, dict) and fast.keys() == strict.keys()
    for member, value in fast.items():
        decimal = member in vocabulary.specs and vocabulary.specs[member].type == "decimal"
        if type(strict[member]) is Decimal and not decimal:
            assert type(value) is float
            assert ClassCodes(classes_for(engine_for(BREAST_REDUCTION), AUDIT_ATOMS), vocabulary, True).of_row(fast) is None
        else:
            assert (value, type(value)) == (strict[member], type(strict[member]))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"bmi": 28.40}', {"bmi": Decimal("28.40")}),  # the trailing zero kept, as validation sees it
        ('{"id": "r1", "bmi":2.84e1}', {"id": "r1", "bmi": Decimal("2.84e1")}),
        ('{"bmi": 28}', {"bmi": 28}),  # no fraction: an int, as the strict reader gives
        ('{"b\\u006di": 28.4}', None),  # the key's text is not its name: left to the strict reader
        ('{"bmi": 28.4, "a\\"bmi": 1.5}', None),  # the opening twice
    ],
)
def test_a_decimal_fact_is_read_from_its_text(line: str, expected: dict[str, object] | None) -> None:
    parser = RowParser(engine_for(BREAST_REDUCTION).vocabulary, "jsonl")
    fast = parser.parse_plain(line)
    assert fast == expected and (fast is None or {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in expected.items()})  # type: ignore[union-attr]
