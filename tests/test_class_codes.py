"""Class codes (class_codes.py): one integer per input class, read from facts or from a raw row."""

from __future__ import annotations

import functools
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge.audit.reader import RowParser
from pyclingo_bridge.class_codes import ClassCodes
from pyclingo_bridge.classes import ANSWER_ATOMS, AUDIT_ATOMS, classes_for
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.errors import InputError
from pyclingo_bridge.knowledge_base import knowledge_base

from .strategies import patient_facts
from .test_classes import same_class

POLICIES = sorted(knowledge_base().policy_folders())
READS = [pytest.param(ANSWER_ATOMS, id="answer"), pytest.param(AUDIT_ATOMS, id="audit row")]


@functools.cache  # one per policy, as an audit has: what it remembers of lists is tested too
def codes_for(policy: str, read: frozenset[str]) -> tuple[Any, Any, ClassCodes]:
    engine = engine_for(policy)
    classes = classes_for(engine, read)
    return engine, classes, ClassCodes(classes, engine.vocabulary, default_is_absent=read is AUDIT_ATOMS)


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_code_exactly_for_one_class_key(policy: str, read: frozenset[str], data: st.DataObject) -> None:
    """Two inputs have the same code exactly when they have the same class key: another
    input of the same class (values swapped within their classes), and any other input."""
    engine, classes, codes = codes_for(policy, read)
    first = engine.vocabulary.validate(data.draw(patient_facts(engine.vocabulary)))
    alike = same_class(first, classes, engine, random.Random(data.draw(st.integers(0, 2**32))))
    other = engine.vocabulary.validate(data.draw(patient_facts(engine.vocabulary)))
    code = codes.of_facts(first)
    assert code is not None and 0 <= code < codes.size
    assert codes.of_facts(alike) == code
    assert (code == codes.of_facts(other)) == (classes.key(first) == classes.key(other))


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 300), st.text(max_size=6), st.floats(allow_nan=False),
    st.lists(st.one_of(st.text(max_size=4), st.integers(0, 3)), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_raw_row_is_coded_only_when_validation_accepts_it_and_as_validation_codes_it(policy: str, data: st.DataObject) -> None:
    """``of_row`` never accepts a row validation refuses, and codes what it accepts as
    ``of_facts`` codes the validated facts, with the same id."""
    engine, _, codes = codes_for(policy, AUDIT_ATOMS)
    vocabulary = engine.vocabulary
    row = dict(data.draw(patient_facts(vocabulary)))
    # Some keys with values of any JSON shape (and sometimes a field that does not exist).
    for key in data.draw(st.lists(st.sampled_from([*vocabulary.fields, "agee"]), max_size=3)):
        row[key] = data.draw(ODD_VALUES)
    # Members of a list drawn from the allowed ones and repeated, as an extract may list them.
    lists = [key for key, spec in vocabulary.specs.items() if spec.type == "list"]
    if lists and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(lists))
        row[key] = data.draw(st.lists(st.sampled_from(vocabulary.specs[key].values), max_size=6))
    coded = codes.of_row(row)
    assert codes.of_row(row) == coded  # read again: from what it remembers of the row's lists
    assert_coded_as_validation_reads(codes, vocabulary, coded, lambda: row)


def assert_coded_as_validation_reads(codes: ClassCodes, vocabulary: Any, coded: Any, parsed: Any) -> None:
    """``coded`` (None: not coded) is never a row validation refuses, and is the code and id
    of the validated facts of ``parsed()`` (the row as the strict path reads it)."""
    try:
        facts = vocabulary.validate(parsed())
    except InputError:
        assert coded is None
        return
    if coded is not None:
        assert coded == (codes.of_facts(facts), facts.record_id)


def test_a_plain_row_is_coded_without_validation() -> None:
    """An extract's usual row (known fields, plain values) has a code of its own."""
    engine, _, codes = codes_for("cmicb_clin086", AUDIT_ATOMS)
    row = {"id": "r1", "age": 40, "red_flags": ["cauda_equina"], "sciatica": True}
    coded = codes.of_row(row)
    assert coded is not None and coded[1] == "r1"
    assert coded[0] == codes.of_facts(engine.vocabulary.validate(row))
    assert codes.of_row({**row, "request_date": "2026-01-01"}) is None  # chooses a version: the full way


def _json_text(row: dict[str, Any], draw: Any) -> str:
    """``row`` as a JSONL line, sometimes with a key given twice, a decimal with a trailing zero,
    or a whole number written as a fraction."""
    members = []
    for key, value in row.items():
        if isinstance(value, Decimal):
            text = str(value) + draw(st.sampled_from(["", "0"]))
        elif isinstance(value, (frozenset, set)):
            text = json.dumps(sorted(value))
        elif type(value) is int and draw(st.booleans()):
            text = draw(st.sampled_from([str(value), f"{value}.0", f"{value}e0", str(value) + "0" * 20]))
        else:
            text = json.dumps(value)
        members.append(f"{json.dumps(key)}: {text}")
    if members and draw(st.booleans()):
        members.append(draw(st.sampled_from(members)))  # a key given twice
    return "{" + ", ".join(members) + "}"


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_row_read_the_fast_way_is_coded_as_the_strict_reading_is(policy: str, data: st.DataObject) -> None:
    """A JSONL line that the fast reader (orjson) and ``of_row`` take has the code and id of
    the same line read strictly and validated; a line the strict path refuses is never coded."""
    engine, _, codes = codes_for(policy, AUDIT_ATOMS)
    vocabulary = engine.vocabulary
    parser = RowParser(vocabulary, "jsonl")
    row = dict(data.draw(patient_facts(vocabulary)))
    for key in data.draw(st.lists(st.sampled_from(list(vocabulary.specs)), max_size=2)):
        row[key] = data.draw(ODD_VALUES)
    line = _json_text(row, data.draw)
    plain = parser.parse_plain(line)
    fast = None if plain is None else codes.of_row(plain)
    assert_coded_as_validation_reads(codes, vocabulary, fast, lambda: parser.parse(line))


def test_the_fast_reader_leaves_what_it_cannot_be_sure_of_to_the_strict_one() -> None:
    engine, _, codes = codes_for("cmicb_clin086", AUDIT_ATOMS)
    parser = RowParser(engine.vocabulary, "jsonl")
    assert parser.parse_plain('{"id": "r1", "age": 40}') == {"id": "r1", "age": 40}
    for line in ['{"age": 40, "age": 12}', '{"id": "a:b", "age": 40}', '{"age": NaN}', '{"id": "\\ud800"}',
                 '{"procedure": {"system": "opcs4", "code": "F34.1"}}', '[1]']:
        assert parser.parse_plain(line) is None, line
    assert codes.of_row(parser.parse_plain('{"age": 40.0}') or {}) is None  # an age is a JSON integer


@pytest.mark.parametrize("order", [("28.4", "28.40"), ("28.40", "28.4")])
def test_a_decimal_remembered_by_its_text_not_its_value(order: tuple[str, str]) -> None:
    """28.4 and 28.40 are equal Decimals, but at scale 1 validation takes only the first:
    whichever comes first, the other is read as validation reads it."""
    engine = engine_for("draft_ebi_breastreduction")
    codes = ClassCodes(classes_for(engine, AUDIT_ATOMS), engine.vocabulary, default_is_absent=True)
    for text in order:
        row = {"bmi": Decimal(text)}
        coded = codes.of_row(row)
        if text == "28.4":
            assert coded == (codes.of_facts(engine.vocabulary.validate(row)), None)
        else:
            assert coded is None
            with pytest.raises(InputError):
                engine.vocabulary.validate(row)
