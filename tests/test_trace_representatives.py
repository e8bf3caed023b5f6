"""The explained grounding takes given numbers at their interval starts and names the patient's value.

It must conclude, trace included, what the grounding of every value does (kb/core/inputs.lp).
"""

from __future__ import annotations

from typing import Any

import clingo
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import PolicyEngine, engine_for
from pyclingo_bridge.atoms import atoms_by_name
from pyclingo_bridge.engine import TRACE_ATOMS
from pyclingo_bridge.inputs import InputLiterals, input_keys
from pyclingo_bridge.solver import GroundProgram

POLICY = "DRAFT_EBI_BreastReduction"
PATIENT: dict[str, Any] = {
    "sex": "female",
    "bmi": 25.0,
    "bmi_stable_months": 14,
    "planned_reduction_grams_per_breast": 620,
    "planned_reduction_cup_sizes": 2,
    "functional_symptoms": True,
    "thoracic_or_shoulder_pain": True,
    "physiotherapy_assessed": True,
    "gp_supportive_care": True,
    "written_information_given": True,
    "cosmetic_only": False,
    "cancer_treatment_or_reconstruction": False,
}
_FULL: dict[str, InputLiterals] = {}


def _full_values(engine: PolicyEngine) -> InputLiterals:
    """The trace grounding with every value of each number fact an input (no representatives)."""
    if POLICY not in _FULL:
        _FULL[POLICY] = InputLiterals(GroundProgram(engine.files, shown=TRACE_ATOMS))
    return _FULL[POLICY]


def _full_trace(engine: PolicyEngine, facts: dict[str, Any]) -> list[str]:
    full = _full_values(engine)
    keys = input_keys(engine.vocabulary.validate(facts), engine.vocabulary)
    return sorted(map(str, full.program.consequences(engine.solve_assumptions(full, keys), "cautious") or []))


def test_the_explanation_names_the_given_grams_and_answers_as_every_value_does() -> None:
    engine = engine_for(POLICY)
    facts = engine.vocabulary.validate(PATIENT)
    assert engine._trace.interval_starts["planned_reduction_grams_per_breast"] == (0, 500, 501)  # 620 is passed as 501
    decision = engine.decide_many([facts], weigh_assumptions=False)[0]
    uses = [use for step in decision.explanation.steps for use in step.uses]  # type: ignore[union-attr]
    assert "holds(planned_reduction_grams_per_breast,620)" in uses
    assert "holds(planned_reduction_grams_per_breast,501)" not in uses
    assert any(": 620" in because for step in decision.explanation.steps for because in step.because)  # type: ignore[union-attr]
    full_trace = _full_trace(engine, PATIENT)
    assert "holds(planned_reduction_grams_per_breast,620)" in " ".join(full_trace)
    full_atoms = atoms_by_name(clingo.parse_term(text) for text in full_trace)
    assert engine.decision_from_atoms(facts, full_atoms, None) == decision


NUMBERS_GIVEN = ("planned_reduction_grams_per_breast", "planned_reduction_cup_sizes", "bmi_stable_months", "bmi")
NUMBERS = st.fixed_dictionaries(
    {},
    optional={
        "planned_reduction_grams_per_breast": st.integers(0, 5000),
        "planned_reduction_cup_sizes": st.integers(0, 12),
        "bmi_stable_months": st.integers(0, 600),
        "bmi": st.integers(100, 900).map(lambda tenths: tenths / 10),
    },
)


@settings(max_examples=60, deadline=None)
@given(numbers=NUMBERS)
def test_the_trace_of_any_given_numbers_is_the_full_groundings(numbers: dict[str, Any]) -> None:
    engine = engine_for(POLICY)
    facts = {key: value for key, value in PATIENT.items() if key not in NUMBERS_GIVEN} | numbers
    keys = input_keys(engine.vocabulary.validate(facts), engine.vocabulary)
    atoms = engine._consequences(engine._trace, keys, "cautious")
    assert isinstance(atoms, dict)
    assert sorted(atom.text for group in atoms.values() for atom in group) == _full_trace(engine, facts)
