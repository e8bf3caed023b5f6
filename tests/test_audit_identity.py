"""Law: every row of an audit equals ``policykb query`` on the same facts, unknowns included."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine, engine_for
from pyclingo_bridge.audit import AuditSettings, answer_fields, audit, batch
from pyclingo_bridge.vocabulary import FactSpec

from .conftest import POLICY, patient
from .strategies import closed_defaults, consistent

VOCABULARY = engine_for(POLICY).vocabulary


def _value(spec: FactSpec) -> st.SearchStrategy[Any]:
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "integer":
        assert spec.low is not None and spec.high is not None
        return st.integers(spec.low, spec.high)
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    return st.lists(st.sampled_from(spec.values), unique=True, max_size=3)


# Each fact is absent (unknown or closed-world default), null where allowed, or a value.
ROWS = st.fixed_dictionaries(
    {},
    optional={
        key: (_value(spec) | st.none()) if spec.world == "open" else _value(spec)
        for key, spec in VOCABULARY.specs.items()
    },
)
# Now and then a value the vocabulary does not allow, so error rows are compared too.
BAD_VALUES = st.sampled_from(
    [
        ("age", -1), ("age", "forty"), ("age", True), ("age", 45.0), ("sciatica", 1), ("setting", "ward"),
        ("red_flags", ["itch"]), ("red_flags", [1]), ("colour", 1), ("id", 7),
    ]
)


def _expected(engine: PolicyEngine, row: dict[str, Any], number: int, explain: bool) -> dict[str, Any]:
    try:
        decision = engine.decide(row)
    except InputError as error:
        return {"error_fields": list(error.fields)}
    return {"row": number, "id": row.get("id") or number, **answer_fields(decision, explain)}


def _audited(rows: list[dict[str, Any]], explain: bool, jobs: int = 1, chunk_size: int = 2000) -> list[dict[str, Any]]:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    out = io.StringIO()
    audit(io.StringIO(text), AuditSettings(POLICY, explain=explain), out.write, jobs=jobs, chunk_size=chunk_size)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [{"error_fields": line["fields"]} if "error" in line else line for line in lines]


@pytest.mark.parametrize("explain", [False, True], ids=["fields", "with explanation"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ROWS, st.none() | BAD_VALUES), min_size=1, max_size=25))
def test_row_equals_query(engine: PolicyEngine, explain: bool, rows: list[tuple[dict[str, Any], Any]]) -> None:
    facts = []
    for number, (row, bad) in enumerate(rows, start=1):
        row = {"id": f"p{number}", **row}
        if bad is not None:
            row[bad[0]] = bad[1]
        facts.append(row)
    # The same rows again under other ids: answers replayed from the caches must hold too.
    facts += [{**row, "id": f"again{number}"} if row.get("id") != 7 else row for number, row in enumerate(facts)]
    expected = [_expected(engine, row, number, explain) for number, row in enumerate(facts, start=1)]
    assert _audited(facts, explain) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROWS, min_size=2, max_size=40), ages=st.lists(st.integers(0, 130), min_size=2, max_size=40))
def test_same_interval_other_age_equals_query(engine: PolicyEngine, rows: list[dict[str, Any]], ages: list[int]) -> None:
    """Rows that differ only in age share a cached answer: each must still equal its own query."""
    facts = [{**row, "age": age} for row, age in zip(rows, ages)]
    facts += [{**row, "age": age} for row in rows[:1] for age in ages]
    expected = [_expected(engine, row, number, False) for number, row in enumerate(facts, start=1)]
    assert _audited(facts, False) == expected


@pytest.mark.parametrize("explain", [False, True], ids=["fields", "with explanation"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROWS, min_size=2, max_size=30))
def test_rows_decided_on_two_workers_equal_query(engine: PolicyEngine, explain: bool, rows: list[dict[str, Any]]) -> None:
    """Chunks of two rows on two workers that pass each other their answers: each row is still its query."""
    facts = [{"id": f"p{number}", **row} for number, row in enumerate(rows + rows, start=1)]
    expected = [_expected(engine, row, number, explain) for number, row in enumerate(facts, start=1)]
    assert _audited(facts, explain, jobs=2, chunk_size=2) == expected


IDS = st.none() | st.text(max_size=6) | st.sampled_from(['a"b', "a\\b", "tab\there", "café", "", " x ", "\ud800"]) | st.just(7)
LAYOUTS = st.sampled_from(["default", "unicode", "compact", "id last"])


def _line(row: dict[str, Any], layout: str) -> str:
    if layout == "id last":
        row = {**{k: v for k, v in row.items() if k != "id"}, "id": row["id"]}
    if layout == "compact":
        return json.dumps(row, separators=(",", ":")) + "\n"
    return json.dumps(row, ensure_ascii=layout != "unicode") + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ROWS, st.lists(st.tuples(IDS, LAYOUTS), min_size=1, max_size=4)), min_size=1, max_size=8))
def test_rows_repeated_under_other_ids_equal_query(engine: PolicyEngine, rows: list[tuple[dict[str, Any], list[tuple[Any, str]]]]) -> None:
    """A row whose text repeats an earlier one's under another id is answered without being
    parsed again: ids with quotes, escapes, control characters, non-ASCII, not strings, and
    other layouts must still each read as their own query."""
    lines, expected = [], []
    for row, copies in rows:
        for record_id, layout in copies:
            facts = {"id": record_id, **row}
            text = _line(facts, layout)
            lines.append(text)
            number = len(lines)
            try:
                decision = engine.decide(json.loads(text))
            except InputError:
                expected.append({"error": True})
                continue
            expected.append({"row": number, "id": number if record_id is None else record_id, **answer_fields(decision, False)})
    out = io.StringIO()
    audit(io.StringIO("".join(lines)), AuditSettings(POLICY), out.write, jobs=1)
    got = [json.loads(line) for line in out.getvalue().split("\n") if line]
    assert [{"error": True} if "error" in line else line for line in got] == expected


def _varied_inputs() -> list[dict[str, Any]]:
    """Every combination of the open enums and booleans (some differ only in facts no rule reads)."""
    choices = [
        [(key, value) for value in (spec.values if spec.type == "enum" else (True, False))]
        for key, spec in VOCABULARY.specs.items()
        if spec.type in ("enum", "boolean") and spec.world == "open"
    ]
    consistent_ = consistent(engine_for(POLICY))
    return [dict(combination) for combination in itertools.product(*choices) if consistent_(dict(combination))]


def test_workers_share_what_they_decide() -> None:
    """An input met by one worker is not decided again by the other once the news has reached it.

    Each input in a chunk of its own, then all of them again in reverse order (so that each
    repeat lands on the other worker), then once more: without sharing both workers would
    decide nearly every input. A repeat can beat the news only within the chunks in flight
    (three per worker).
    """
    inputs = _varied_inputs()
    text = "".join(json.dumps(row) + "\n" for row in inputs + inputs[::-1] + inputs)
    one = audit(io.StringIO(text), AuditSettings(POLICY), lambda _: None, jobs=1, chunk_size=1)
    two = audit(io.StringIO(text), AuditSettings(POLICY), lambda _: None, jobs=2, chunk_size=1)
    assert one.solved >= 15  # distinct consistent inputs, each decided once by one process
    assert (two.rows, two.statuses, two.clauses) == (one.rows, one.statuses, one.clauses)
    assert one.solved <= two.solved <= one.solved + 3 * 2 + 1


CLOSED_DEFAULTS = closed_defaults(VOCABULARY)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=ROWS.filter(consistent(engine_for(POLICY))), stated=st.lists(st.sets(st.sampled_from(sorted(CLOSED_DEFAULTS))), min_size=1, max_size=6))
def test_closed_defaults_given_or_left_out_share_one_solve(engine: PolicyEngine, row: dict[str, Any], stated: list[set[str]]) -> None:
    """Rows that differ only in stating closed-world defaults (false, empty) are one input:
    decided once, and each row still equals its own query."""
    base = {key: value for key, value in row.items() if key not in CLOSED_DEFAULTS}
    facts = [base] + [{**base, **{key: CLOSED_DEFAULTS[key] for key in keys}} for keys in stated]
    expected = [_expected(engine, facts_, number, False) for number, facts_ in enumerate(facts, start=1)]
    assert _audited(facts, False) == expected
    text = "".join(json.dumps(facts_) + "\n" for facts_ in facts)
    assert audit(io.StringIO(text), AuditSettings(POLICY), lambda _: None, jobs=1).solved == 1


def test_workers_tally_as_one_process() -> None:
    """Counts and the follow-up rows (first ones, in input order) do not depend on the split."""
    settings_by_row = ["mcas", "primary_care", ...]  # commissioned, not_commissioned, undetermined
    rows = [{"id": f"t{n}", **patient(age=20 + n % 50, setting=settings_by_row[n % 3])} for n in range(900)]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    settings = AuditSettings(POLICY, follow_up_limit=25)
    one = audit(io.StringIO(text), settings, lambda _: None, jobs=1, chunk_size=40)
    two = audit(io.StringIO(text), settings, lambda _: None, jobs=2, chunk_size=40)
    assert (two.statuses, two.clauses, two.errors, two.rows) == (one.statuses, one.clauses, one.errors, one.rows)
    assert two.follow_up == one.follow_up
    assert [f.row for f in two.follow_up["not_commissioned"]] == list(range(2, 76, 3))
    assert [f.row for f in two.follow_up["undetermined"]] == list(range(3, 76, 3))


def test_workers_keep_input_order() -> None:
    """Two processes, many small chunks: the output is the single-process output, in order."""
    rows = [{"id": f"w{n}", "age": n % 131, "setting": ["mcas", "primary_care", "secondary_care"][n % 3]} for n in range(600)]
    rows[7] = {"id": "bad", "age": "old"}
    one = _audited(rows, False, jobs=1, chunk_size=50)
    two = _audited(rows, False, jobs=2, chunk_size=50)
    assert two == one
    assert [line.get("row") for line in two if "row" in line] == [n for n in range(1, 601) if n != 8]
    assert two[7] == {"error_fields": ["age"]}


TYPED = [
    ("integer then boolean", [{"age": 1}, {"age": True}]),
    ("boolean then integer", [{"sciatica": True}, {"sciatica": 1}]),
    ("integer then float", [{"age": 45}, {"age": 45.0}]),
    ("list then string", [{"red_flags": ["cauda_equina"]}, {"red_flags": "cauda_equina"}]),
    ("same members, other order", [{"age": 40, "setting": "ward"}, {"setting": "ward", "age": 40}]),
]


@pytest.mark.parametrize("rows", [t[1] for t in TYPED], ids=[t[0] for t in TYPED])
def test_values_equal_in_python_are_not_confused(engine: PolicyEngine, rows: list[dict[str, Any]]) -> None:
    """1 == True == 1.0 in Python, but not to the vocabulary: each row is validated as itself."""
    expected = [_expected(engine, row, number, False) for number, row in enumerate(rows, start=1)]
    assert _audited(rows, False) == expected


def test_repeated_row_texts_are_remembered_in_two_bounded_generations(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table of row texts holds at most two generations; a text the older one holds is
    still answered without parsing, under the new row's own id."""
    monkeypatch.setattr(batch, "TEXT_CACHE_SIZE", 4)
    auditor = AuditSettings(POLICY).auditor()
    parsed: set[object] = set()  # the row texts read, the fast way or strictly
    for reading in ("parse", "parse_plain"):
        read = getattr(auditor.parser, reading)
        monkeypatch.setattr(auditor.parser, reading, lambda raw, read=read: parsed.add(raw) or read(raw))
    texts = [json.dumps({"id": f"r{n}", "age": 20 + n, "setting": "mcas"}) + "\n" for n in range(7)]
    # Rows 0-3 fill a generation, 4-6 start the next; row 0 again is in the older one.
    auditor.decide_chunk(list(enumerate(texts, start=1)))
    assert parsed == set(texts)
    assert len(auditor._by_text) + len(auditor._by_text_older) <= 2 * batch.TEXT_CACHE_SIZE
    again = texts[0].replace('"r0"', '"again"')
    result = auditor.decide_chunk([(8, again)])
    assert again not in parsed, "a text of the older generation is not parsed again"
    assert json.loads(result.text)["id"] == "again"
    for number in range(40):  # many more texts: the tables stay bounded
        auditor.decide_chunk([(9 + number, json.dumps({"age": number, "sciatica": number % 2 == 0}) + "\n")])
    assert len(auditor._by_text) + len(auditor._by_text_older) <= 2 * batch.TEXT_CACHE_SIZE


def test_a_process_stops_looking_rows_up_by_text_when_texts_do_not_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``TEXT_TRIAL`` rows not found by their text with too few found, texts are no
    longer cut or remembered (a varied extract); every row still gets its own answer."""
    monkeypatch.setattr(batch, "TEXT_TRIAL", 8)
    auditor = AuditSettings(POLICY).auditor()
    rows = [{"id": f"r{n}", "age": n, "setting": "primary_care", "red_flags": []} for n in range(30)]
    rows += [{**row, "id": f"again{number}"} for number, row in enumerate(rows)]
    result = auditor.decide_chunk(list(enumerate((json.dumps(row) + "\n" for row in rows), start=1)))
    assert auditor._texts_tried == -1 and not auditor._by_text and not auditor._by_text_older
    engine = engine_for(POLICY)
    lines = [json.loads(line) for line in result.text.splitlines()]
    assert lines == [_expected(engine, row, number, False) for number, row in enumerate(rows, start=1)]


def test_a_process_keeps_looking_rows_up_by_text_while_texts_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "TEXT_TRIAL", 8)
    auditor = AuditSettings(POLICY).auditor()
    texts = [json.dumps({"id": f"r{n}", "age": 20 + n % 3}) + "\n" for n in range(40)]
    for start in range(0, 40, 5):  # a chunk's new texts are remembered once it is decided
        auditor.decide_chunk(list(enumerate(texts[start : start + 5], start=start + 1)))
    assert auditor._texts_tried >= 0 and auditor._texts_found > 0
