"""Law, for every policy: what the answer table says of a row (decided in this run, or loaded
from the table an earlier run saved) is what the engine decides for the row's own facts."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclingo_bridge import InputError, engine_for
from pyclingo_bridge.audit import AuditSettings, answer_fields, audit
from pyclingo_bridge.knowledge_base import knowledge_base
from pyclingo_bridge.table import TABLE_ENV

from .strategies import patient_facts

POLICIES = sorted(knowledge_base().policy_folders())


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # at most a few digits: the float prints as the decimal was written
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def _expected(policy: str, row: dict[str, Any], number: int) -> dict[str, Any]:
    try:
        decision = engine_for(policy).decide(row)
    except InputError as error:
        return {"error_fields": list(error.fields)}
    return {"row": number, "id": row["id"], **answer_fields(decision, explain=False)}


def _audited(policy: str, text: str) -> tuple[list[dict[str, Any]], int]:
    out = io.StringIO()
    tally = audit(io.StringIO(text), AuditSettings(policy, saved_table=True), out.write, jobs=1)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [{"error_fields": line["fields"]} if "error" in line else line for line in lines], tally.solved


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_table_answers_as_the_engine_decides(policy: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TABLE_ENV, str(tmp_path_factory.mktemp("tables")))
    vocabulary = engine_for(policy).vocabulary
    rows = data.draw(st.lists(patient_facts(vocabulary), min_size=1, max_size=15))
    rows = [{"id": f"p{number}", **{key: _json(value) for key, value in row.items()}} for number, row in enumerate(rows, start=1)]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    expected = [_expected(policy, row, number) for number, row in enumerate(rows, start=1)]
    first, _ = _audited(policy, text)
    assert first == expected
    again, solved = _audited(policy, text)  # every class from the saved table: no solve
    assert (again, solved) == (expected, 0)


def test_each_saved_row_is_a_class_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved table keys its rows by class code (one int each), refused classes included."""
    monkeypatch.setenv(TABLE_ENV, str(tmp_path))
    rows = [{"id": "a", "age": 40}, {"id": "b", "age": 12}, {"id": "c", "setting": "mcas", "mcas_in_place": False}]
    _audited("cmicb_clin086", "".join(json.dumps(row) + "\n" for row in rows))
    (saved,) = tmp_path.glob("table-audit-*.json")
    data = json.loads(saved.read_text())
    assert len(data["keys"]) == 3 and all(type(key) is int for key in data["keys"])
    assert sorted(outcome[0] for outcome in data["outcomes"]) == ["answer", "answer", "refused"]
