"""The table of fact types: what each type accepts and says, and the exact decimal type.

No shipped policy has a decimal fact yet, so the decimal tests use a copy of the KB with a
``bmi`` fact (scale 1, kg/m2, 10.0 to 90.0) and one labelled rule that compares it with a
cited parameter at 27.0.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pyclingo_bridge import InputError, PolicyEngine
from pyclingo_bridge.audit import RowParser
from pyclingo_bridge.audit.batch import Auditor
from pyclingo_bridge.check import check_policy
from pyclingo_bridge.cli import main
from pyclingo_bridge.fact_types import FACT_TYPES
from pyclingo_bridge.json_input import loads_strict
from pyclingo_bridge.knowledge_base import KnowledgeBase

from .conftest import POLICY, patient

AGE_ALLOWED = "expected an integer from 0 to 130 (or null / leave it out when unknown)"
RED_FLAGS_ALLOWED = (
    "expected a list of suspected_infection, suspected_malignancy, suspected_fracture, suspected_inflammatory_disease, "
    "suspected_cord_compression, cauda_equina, "
    "sphincter_disturbance, progressive_motor_weakness, perineal_anaesthesia, bilateral_nerve_root_involvement, "
    "serious_neurological_deficit (or null / leave it out when unknown)"
)

# name, facts, the one problem
MESSAGES = [
    ("a list for an integer", {"age": [40]}, f"age: a list was given; {AGE_ALLOWED}"),
    ("an object for an integer", {"age": {"years": 40}}, f"age: an object was given; {AGE_ALLOWED}"),
    ("a null list member", {"red_flags": [None]}, f"red_flags: a list member cannot be null; {RED_FLAGS_ALLOWED}"),
    ("a list as a member", {"red_flags": [["cauda_equina"]]}, f"red_flags: a list member cannot be a list; {RED_FLAGS_ALLOWED}"),
    ("an unknown member", {"red_flags": ["cauda_equina", "gout"]}, f"red_flags: list member 'gout' is not allowed; {RED_FLAGS_ALLOWED}"),
    ("a text for a list", {"red_flags": "cauda_equina"}, f"red_flags: 'cauda_equina' is not allowed; {RED_FLAGS_ALLOWED}"),
    ("a fraction for an integer", {"age": Decimal("40.5")}, f"age: 40.5 is not allowed; {AGE_ALLOWED}"),
]


@pytest.mark.parametrize(("facts", "problem"), [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES])
def test_a_bad_value_names_what_was_given(engine: PolicyEngine, facts: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError) as error:
        engine.vocabulary.validate(facts)
    assert str(error.value) == problem


def test_query_says_a_list_was_given() -> None:
    result = CliRunner().invoke(main, ["query", "-", "--policy", POLICY], input='{"age": [40]}')
    assert (result.exit_code, result.stderr) == (1, f"Error: invalid input: age: a list was given; {AGE_ALLOWED}\n")


NON_ASCII_DIGITS = ["١٠", "１０", "१०", "10\u0660"]


@pytest.mark.parametrize("cell", NON_ASCII_DIGITS, ids=["arabic-indic", "fullwidth", "devanagari", "mixed"])
def test_csv_integer_cells_are_ascii_digits_only(engine: PolicyEngine, cell: str) -> None:
    parser = RowParser(engine.vocabulary, "csv", ("age",))
    with pytest.raises(InputError) as error:
        engine.vocabulary.validate(parser.parse((cell,)))
    assert str(error.value) == f"age: {cell!r} is not allowed; {AGE_ALLOWED}"


def test_csv_ascii_integer_cell_is_an_integer(engine: PolicyEngine) -> None:
    parser = RowParser(engine.vocabulary, "csv", ("age",))
    assert engine.vocabulary.validate(parser.parse(("+10",))).given == {"age": 10}


def test_every_declared_type_has_a_class(engine: PolicyEngine) -> None:
    assert {spec.type for spec in engine.vocabulary.specs.values()} <= set(FACT_TYPES)
    assert set(FACT_TYPES) == {"boolean", "integer", "decimal", "enum", "list"}


def test_kb_and_bridge_disagreeing_on_types_is_a_kb_fault(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path)
    inputs = root / "core" / "inputs.lp"
    inputs.write_text(inputs.read_text().replace("fact_type(boolean; integer; decimal; enum; list).", "fact_type(boolean; integer; decimal; enum; list; date)."))
    from pyclingo_bridge.errors import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError, match="fact_type/1 declares boolean, date, decimal"):
        PolicyEngine(POLICY, KnowledgeBase(root))


# --- decimal ------------------------------------------------------------------------------

BMI_VOCABULARY = """
fact(bmi, decimal, open, "body mass index").
fact_scale(bmi, 1).
fact_unit(bmi, "kg/m2").
fact_range(bmi, 100, 900).
fact_question(bmi, "What is the patient's body mass index (kg/m2)?").
"""
BMI_PARAMETER = 'parameter(minimum_bmi, bmi, 270, "1.3").\n'
BMI_RULE = """
rule(bmi_at_least_minimum, "1.3", "Test only: the body mass index is at least {minimum_bmi}").
bmi_at_least_minimum :- label(bmi_at_least_minimum), holds(bmi, Bmi), parameter(minimum_bmi, bmi, Minimum, _), Bmi >= Minimum.
glossary(bmi_at_least_minimum, "the body mass index is at least {minimum_bmi}").
"""


def _copy_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def bmi_engine(tmp_path_factory: pytest.TempPathFactory) -> PolicyEngine:
    root = _copy_kb(tmp_path_factory.mktemp("decimal"))
    folder = root / "policies" / "cmicb_clin086"
    (folder / "bmi.lp").write_text(BMI_VOCABULARY + BMI_PARAMETER + BMI_RULE)
    return PolicyEngine(POLICY, KnowledgeBase(root))


DECIMALS = [
    ("one digit", "26.9", Decimal("26.9"), 269),
    ("an integer is a decimal", "27", Decimal("27.0"), 270),
    ("trailing digit as written", "27.0", Decimal("27.0"), 270),
    ("exponent", "2.69e1", Decimal("26.9"), 269),
    ("low bound", "10.0", Decimal("10.0"), 100),
    ("high bound", "90", Decimal("90.0"), 900),
]


@pytest.mark.parametrize(("text", "value", "atom"), [d[1:] for d in DECIMALS], ids=[d[0] for d in DECIMALS])
def test_decimal_reads_exactly_and_is_a_scaled_integer(bmi_engine: PolicyEngine, text: str, value: Decimal, atom: int) -> None:
    facts = bmi_engine.vocabulary.validate(loads_strict('{"bmi": ' + text + "}"))
    assert facts.given == {"bmi": value} and str(facts.given["bmi"]) == str(value)
    assert ("given", "bmi", atom) in bmi_engine.vocabulary.input_keys(facts)


BMI_ALLOWED = "expected a number from 10.0 to 90.0 kg/m2, with at most 1 digit after the point (or null / leave it out when unknown)"
BAD_DECIMALS = [
    ("more digits than the scale", "26.95", f"bmi: 26.95 has 2 digits after the point; {BMI_ALLOWED}"),
    ("digits a float would round to 27.0", "26.99999999999999999999",
     f"bmi: 26.99999999999999999999 has 20 digits after the point; {BMI_ALLOWED}"),
    ("below the range", "9.9", f"bmi: 9.9 is not allowed; {BMI_ALLOWED}"),
    ("above the range", "90.1", f"bmi: 90.1 is not allowed; {BMI_ALLOWED}"),
    ("a huge exponent", "1e999999999", f"bmi: 1E+999999999 is not allowed; {BMI_ALLOWED}"),
    ("a string", '"26.9"', f"bmi: '26.9' is not allowed; {BMI_ALLOWED}"),
    ("a boolean", "true", f"bmi: true is not allowed; {BMI_ALLOWED}"),
    ("a list", "[26.9]", f"bmi: a list was given; {BMI_ALLOWED}"),
]


@pytest.mark.parametrize(("text", "problem"), [b[1:] for b in BAD_DECIMALS], ids=[b[0] for b in BAD_DECIMALS])
def test_a_bad_decimal_is_refused_never_rounded(bmi_engine: PolicyEngine, text: str, problem: str) -> None:
    with pytest.raises(InputError) as error:
        bmi_engine.vocabulary.validate(loads_strict('{"bmi": ' + text + "}"))
    assert str(error.value) == problem


@pytest.mark.parametrize(("value", "atom"), [(26.9, 269), (27.0, 270), (27, 270)], ids=["26.9", "27.0", "int 27"])
def test_a_python_float_reads_as_the_digits_it_was_written_with(bmi_engine: PolicyEngine, value: float, atom: int) -> None:
    facts = bmi_engine.vocabulary.validate({"bmi": value})
    assert bmi_engine.vocabulary.input_keys(facts) == {("known", "bmi"), ("given", "bmi", atom)}


def test_a_python_float_with_more_digits_than_the_scale_is_refused(bmi_engine: PolicyEngine) -> None:
    with pytest.raises(InputError, match="bmi: 26.95 has 2 digits after the point"):
        bmi_engine.vocabulary.validate({"bmi": 26.95})
    with pytest.raises(InputError, match="bmi: Infinity is not allowed"):
        bmi_engine.vocabulary.validate({"bmi": float("inf")})


def test_decimal_threshold_decides_26_9_and_27_0_apart(bmi_engine: PolicyEngine) -> None:
    def fired(text: str) -> list[tuple[str, ...]]:
        decision = bmi_engine.decide(loads_strict(json.dumps(patient()) [:-1] + ', "bmi": ' + text + "}"))
        return [step.because for step in decision.explanation.steps if step.rule == "bmi_at_least_minimum"]

    assert fired("26.9") == []
    assert fired("27.0") == [("body mass index: 27.0 kg/m2",)]
    assert fired("27.1") == [("body mass index: 27.1 kg/m2",)]


def test_decimal_thresholds_come_from_the_parameter(bmi_engine: PolicyEngine) -> None:
    assert bmi_engine.interval_starts["bmi"] == (100, 270, 271)
    assert bmi_engine.model.parameters["minimum_bmi"].value == 270
    assert bmi_engine.policy.rules["bmi_at_least_minimum"].text == "Test only: the body mass index is at least 27.0"


def test_audit_keys_decimals_by_interval(bmi_engine: PolicyEngine) -> None:
    auditor = Auditor(bmi_engine, RowParser(bmi_engine.vocabulary, "jsonl"))
    key = lambda text: auditor._key(bmi_engine.vocabulary.validate(loads_strict('{"bmi": ' + text + "}")))
    assert key("26.9") == key("10.0") != key("27.0") != key("27.1") == key("90.0")


def test_csv_decimal_cell(bmi_engine: PolicyEngine) -> None:
    parser = RowParser(bmi_engine.vocabulary, "csv", ("bmi",))
    assert bmi_engine.vocabulary.validate(parser.parse(("26.9",))).given == {"bmi": Decimal("26.9")}
    with pytest.raises(InputError) as error:
        bmi_engine.vocabulary.validate(parser.parse(("２６.９",)))
    assert str(error.value) == f"bmi: '２６.９' is not allowed; {BMI_ALLOWED}"


def test_policy_with_a_decimal_fact_checks_clean(bmi_engine: PolicyEngine) -> None:
    report = check_policy(bmi_engine.kb, POLICY)
    assert report.findings == ()


@given(scaled=st.integers(100, 900))
def test_every_decimal_in_range_reads_as_its_scaled_integer(bmi_engine: PolicyEngine, scaled: int) -> None:
    text = f"{scaled // 10}.{scaled % 10}"
    facts = bmi_engine.vocabulary.validate(loads_strict('{"bmi": ' + text + "}"))
    assert ("given", "bmi", scaled) in bmi_engine.vocabulary.input_keys(facts)
    assert str(facts.given["bmi"]) == text


def test_query_reads_a_decimal_exactly_from_its_text(bmi_engine: PolicyEngine) -> None:
    runner = CliRunner()
    arguments = ["query", "-", "--policy", POLICY, "--kb", str(bmi_engine.kb.root), "--format", "json"]
    base = json.dumps(patient())[:-1]
    result = runner.invoke(main, arguments, input=base + ', "bmi": 26.99999999999999999999}')
    message = f"bmi: 26.99999999999999999999 has 20 digits after the point; {BMI_ALLOWED}"
    assert (result.exit_code, json.loads(result.stdout)["error"]) == (1, f"invalid input: {message}")
    result = runner.invoke(main, arguments, input=base + ', "bmi": 27.0}')
    assert result.exit_code == 0
    fired = [step for step in json.loads(result.stdout)["explanation"]["fired"] if step["rule"] == "bmi_at_least_minimum"]
    assert [(step["uses"], step["because"]) for step in fired] == [(["holds(bmi,270)"], ["body mass index: 27.0 kg/m2"])]


@pytest.mark.parametrize("explain", [False, True], ids=["keyed by interval", "explained"])
def test_audit_decides_decimal_rows_as_query_does(bmi_engine: PolicyEngine, explain: bool) -> None:
    import io

    from pyclingo_bridge.audit import AuditSettings, audit
    from pyclingo_bridge.audit.batch import answer_fields

    texts = ["26.9", "27.0", "26.95", "27", "26.9"]
    base = json.dumps(patient())[:-1]
    lines = [base + ', "bmi": ' + text + "}" for text in texts]
    out = io.StringIO()
    settings = AuditSettings(POLICY, kb_root=bmi_engine.kb.root, explain=explain)
    audit(io.StringIO("\n".join(lines) + "\n"), settings, out.write, jobs=1)
    got = [json.loads(line) for line in out.getvalue().split("\n") if line]
    for row, line in zip(got, lines):
        try:
            expected = answer_fields(bmi_engine.decide(loads_strict(line)), explain)
        except InputError as error:
            assert row["fields"] == list(error.fields)
            continue
        assert {key: row[key] for key in expected} == expected
    assert [("error" in row) for row in got] == [False, False, True, False, False]
