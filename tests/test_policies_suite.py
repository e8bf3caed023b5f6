"""A knowledge base of several policies: choosing one, and what every policy is checked for.

Part of the suite work (issue 11): no policy is chosen silently when the KB holds several;
the core clause 6.5 applies only where a policy declares a diagnostic-for-restricted-procedure
case, and the exemption from "dead rule" is declared in the KB.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import KnowledgeBase, PolicyNotChosenError
from pyclingo_bridge.check import check_policy
from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import engine_for

pytest_plugins = ["pytester"]

CLIN086 = "policies/cmicb_clin086"
ADULT_IN_MCAS = {"age": 45, "setting": "mcas", "red_flags": [], "likely_to_change_management": True,
                 "mcas_in_place": True, "seen_by_mcas": True}


def kb_with(tmp_path: Path, *policies: str) -> Path:
    """A copy of the installed KB's core and modules, and of the named policy folders only."""
    source = KnowledgeBase.installed().root
    root = tmp_path / "kb"
    shutil.copytree(source / "core", root / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(source / "modules", root / "modules")
    for policy in policies:
        shutil.copytree(source / "policies" / policy, root / "policies" / policy)
    return root


def kb_with_a_second_policy(tmp_path: Path) -> Path:
    """Clin086 and a copy of it under another id (enough to make the choice ambiguous)."""
    root = kb_with(tmp_path, "cmicb_clin086")
    shutil.copytree(root / CLIN086, root / "policies" / "second_copy")
    policy = root / "policies" / "second_copy" / "policy.lp"
    policy.write_text(policy.read_text().replace('"CMICB_Clin086"', '"Second_Copy"'))
    return root


# -- choosing the policy -------------------------------------------------------------------

def test_a_kb_with_one_policy_chooses_it(tmp_path: Path) -> None:
    kb = KnowledgeBase(kb_with(tmp_path, "cmicb_clin086"))
    assert kb.choose_policy(None) == "cmicb_clin086"
    assert kb.choose_policy("CMICB_Clin086") == "CMICB_Clin086"


def test_a_kb_with_several_policies_needs_one_named(tmp_path: Path) -> None:
    kb = KnowledgeBase(kb_with_a_second_policy(tmp_path))
    with pytest.raises(PolicyNotChosenError) as raised:
        kb.choose_policy(None)
    assert str(raised.value) == "the knowledge base holds 2 policies, name one of: CMICB_Clin086, Second_Copy"
    assert kb.choose_policy("second_copy") == "second_copy"


@pytest.mark.parametrize("command", ["query", "audit", "check"])
def test_cli_needs_policy_with_several_and_lists_them(tmp_path: Path, command: str) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(main, [command, "--kb", str(root), "-"], input="{}")
    if command == "check":  # check takes no input file
        result = CliRunner().invoke(main, [command, "--kb", str(root)])
    assert result.exit_code == 2
    assert result.stdout == ""
    # query can also route by the procedure its input names (routing.py)
    hint = ", or name the procedure in the input (procedure)" if command == "query" else ""
    assert result.stderr.endswith(
        f"Error: give --policy{hint}: the knowledge base holds 2 policies, name one of: CMICB_Clin086, Second_Copy\n"
    )


def test_cli_query_with_one_policy_needs_no_option(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    result = CliRunner().invoke(main, ["query", "--kb", str(root), "--format", "json", "-"], input=json.dumps(ADULT_IN_MCAS))
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["policy"], json.loads(result.stdout)["status"]) == ("CMICB_Clin086", "commissioned")


def test_cli_query_names_the_policy_among_several(tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(
        main, ["query", "--kb", str(root), "--policy", "second_copy", "--format", "json", "-"], input=json.dumps(ADULT_IN_MCAS)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy"] == "Second_Copy"


def test_check_all_covers_every_policy(tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    result = CliRunner().invoke(main, ["check", "--all", "--kb", str(root)])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == ["CMICB_Clin086", "Second_Copy"]


def test_fixture_needs_the_marker_with_several_policies(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = kb_with_a_second_policy(tmp_path)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.policy("second_copy")
        def test_marked(policy_engine):
            assert policy_engine.policy.reference == "Second_Copy"

        def test_unmarked(policy_engine):
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "--policykb-kb", str(root))
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*policy_engine needs @pytest.mark.policy(ID): the knowledge base holds 2 policies, name one of: "
        + "CMICB_Clin086, Second_Copy*"
    ])


def test_fixture_takes_the_only_policy_unmarked(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    pytester.makepyfile(
        """
        def test_unmarked(policy_engine):
            assert policy_engine.policy.reference == "CMICB_Clin086"
        """
    )
    pytester.runpytest("--policykb-kb", str(root)).assert_outcomes(passed=1)


# -- 6.5 applies only where a policy declares a case ----------------------------------------

DIAGNOSTIC_CASE = 'diagnostic_case("1.4").'
RFD_DIAGNOSTIC_RULE = """rule(rfd_imaging_is_diagnostic, "1.4",
    "The imaging only serves to decide on radiofrequency denervation, a restricted procedure of the suite (DRAFT_EBI_LumbarRFD)").
diagnostic_for_restricted_procedure :- label(rfd_imaging_is_diagnostic),
    holds(facet_joint_rfd_prerequisite, true).
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_a_policy_without_a_diagnostic_case_has_no_dead_6_5_rule(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "cmicb_clin086")
    rules = root / CLIN086 / "rules.lp"
    _edit(rules, RFD_DIAGNOSTIC_RULE, "")
    _edit(rules, DIAGNOSTIC_CASE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [finding.kind for finding in report.findings] == []


def test_a_rule_declared_not_applicable_that_fires_is_reported(tmp_path: Path) -> None:
    """Without its diagnostic_case/1, Clin086's 6.5 rule is declared not applicable, yet it fires."""
    root = kb_with(tmp_path, "cmicb_clin086")
    _edit(root / CLIN086 / "rules.lp", DIAGNOSTIC_CASE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [(finding.kind, finding.clauses) for finding in report.findings] == [("not_applicable_rule_fires", ("6.5",))]
    assert report.findings[0].message == (
        "rule diagnostic_for_restricted_procedure is declared not applicable to this policy but fires: "
        "A diagnostic only to decide on a restricted procedure is not carried out without approval"
    )


def test_a_policy_with_a_diagnostic_case_still_finds_its_6_5_rule_dead(tmp_path: Path) -> None:
    """Declaring a case and deriving none is still a dead rule: the exemption is the KB's, not a blanket one."""
    root = kb_with(tmp_path, "cmicb_clin086")
    _edit(root / CLIN086 / "rules.lp", RFD_DIAGNOSTIC_RULE, "")
    report = check_policy(KnowledgeBase(root), "cmicb_clin086")
    assert [(finding.kind, finding.clauses) for finding in report.findings] == [("dead_rule", ("6.5",))]


# -- the draft policies --------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TONSILLECTOMY = "DRAFT_EBI_Tonsillectomy"
RFD = "DRAFT_EBI_LumbarRFD"
BREAST = "DRAFT_EBI_BreastReduction"

EXAMPLE_DECISIONS = [
    # policy, file, status, clauses, missing
    (TONSILLECTOMY, "frequency-met.json", "commissioned", ["1.1", "1.2", "1.3", "1.4"], []),
    (TONSILLECTOMY, "third-year-unknown.json", "undetermined", [], ["episodes_24_to_36_months"]),
    (TONSILLECTOMY, "suspected-malignancy.json", "outside_policy", ["2.1"], []),
    (TONSILLECTOMY, "lower-threshold-pfapa.json", "commissioned", ["1.1", "1.2", "1.5"], []),
    (RFD, "criteria-met.json", "commissioned", ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"], []),
    (RFD, "repeat-too-soon.json", "not_commissioned", ["1.6"], []),
    (RFD, "block-result-unknown.json", "undetermined", [],
     ["medial_branch_block_improvement_percent", "months_since_medial_branch_block"]),
    (RFD, "suspected-cauda-equina.json", "outside_policy", ["2.2"], []),
    (BREAST, "criteria-met-bmi-26.9.json", "commissioned", ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"], []),
    (BREAST, "bmi-28.4.json", "not_commissioned", ["1.6"], []),
    (BREAST, "reduction-unknown.json", "undetermined", [], ["planned_reduction_grams_per_breast"]),
    (BREAST, "male-patient.json", "outside_policy", ["2.1"], []),
]


@pytest.mark.parametrize(
    ("policy", "file", "status", "clauses", "missing"), EXAMPLE_DECISIONS, ids=[f"{e[0]} {e[1]}" for e in EXAMPLE_DECISIONS]
)
def test_examples_are_decided_by_query(policy: str, file: str, status: str, clauses: list[str], missing: list[str]) -> None:
    path = EXAMPLES / policy.lower() / file
    # The examples show version 1 of a versioned policy (in force on 2025-06-01).
    result = CliRunner().invoke(main, ["query", "--policy", policy, "--as-of", "2025-06-01", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert (decision["status"], decision["clauses"], [m["fact"] for m in decision["missing"]]) == (status, clauses, missing)


def test_policies_lists_the_drafts_as_drafts() -> None:
    result = CliRunner().invoke(main, ["policies", "--format", "json"])
    statuses = {policy["reference"]: policy["status"] for policy in json.loads(result.stdout)}
    assert statuses == {"CMICB_Clin086": None, RFD: "draft", TONSILLECTOMY: "draft", BREAST: "draft"}
    text = CliRunner().invoke(main, ["policies"]).stdout
    assert f"{TONSILLECTOMY}  version 1  Tonsillectomy for recurrent tonsillitis\n  status: draft\n" in text


URGENCY_CASES = [
    # policy, facts, (clause, urgency) of every advice in order, card indicator
    (TONSILLECTOMY, {"red_flags": ["suspected_malignancy"]}, [("2.1", "urgent")], "critical"),
    (TONSILLECTOMY, {"red_flags": ["peritonsillar_abscess"]}, [("2.3", "urgent")], "critical"),
    (TONSILLECTOMY, {"red_flags": ["sleep_disordered_breathing"]}, [("2.2", "routine")], "warning"),
    (TONSILLECTOMY, {"red_flags": ["sleep_disordered_breathing", "suspected_malignancy"]},
     [("2.1", "urgent"), ("2.2", "routine")], "critical"),
    (RFD, {"red_flags": ["perineal_anaesthesia"]}, [("2.2", "emergency")], "critical"),
    (RFD, {"red_flags": ["suspected_fracture"]}, [("2.2", "urgent")], "critical"),
    (RFD, {"age": 15, "red_flags": ["cauda_equina"]}, [("2.2", "emergency"), ("2.1", "routine")], "critical"),
    (RFD, {"radicular_pain_predominant": True}, [("2.3", "routine")], "warning"),
]


@pytest.mark.parametrize(
    ("policy", "facts", "advice", "indicator"), URGENCY_CASES, ids=[f"{c[0]} {c[1]}" for c in URGENCY_CASES]
)
def test_advice_urgency_follows_the_source_and_sets_the_card(
    policy: str, facts: dict[str, object], advice: list[tuple[str, str]], indicator: str
) -> None:
    """Tonsil malignancy (2.1) and acute quinsy (2.3) are urgent; cauda equina an emergency and
    other serious spinal pathology urgent (RFD 2.2): the card is critical exactly then."""
    from pyclingo_bridge.cds_hooks.cards import card
    from pyclingo_bridge.fhir import FhirDecision, FhirFacts
    from pyclingo_bridge.inputs import PatientFacts

    engine = engine_for(policy)
    decision = engine.decide(facts)
    assert [(a.clause, a.urgency) for a in decision.advice] == advice
    made = card(FhirDecision(decision, FhirFacts("ServiceRequest/x", PatientFacts({}))), engine)
    assert made["indicator"] == indicator


SPINAL_RED_FLAGS = "modules/spinal_red_flags"


@pytest.mark.parametrize(
    "flag", ["cauda_equina", "sphincter_disturbance", "suspected_infection", "suspected_inflammatory_disease",
             "suspected_cord_compression", "serious_neurological_deficit"],
)
def test_rfd_red_flags_are_clin086s_with_the_same_urgent_advice(flag: str) -> None:
    """RFD 2.2: the same flags and the same advice as Clin086 2.1/2.2, each citing its own clause."""
    rfd = engine_for(RFD).decide({"red_flags": [flag]})
    clin086 = engine_for("CMICB_Clin086").decide({"age": 45, "red_flags": [flag]})
    assert rfd.status == clin086.status == "outside_policy"
    assert [(a.urgency, a.text) for a in rfd.advice] == [(a.urgency, a.text) for a in clin086.advice]
    assert {a.clause for a in rfd.advice} == {"2.2"}
    assert {a.clause for a in clin086.advice} == ({"2.2"} if flag in {"cauda_equina", "sphincter_disturbance"} else {"2.1"})
    assert engine_for(RFD).vocabulary.specs["red_flags"].allowed() == engine_for("CMICB_Clin086").vocabulary.specs["red_flags"].allowed()


def test_the_spinal_red_flags_are_one_module_read_by_both_policies() -> None:
    """Shared, not copied: both programs load the module's files, and no policy declares the flags."""
    kb = KnowledgeBase.installed()
    module = tuple(sorted((kb.root / SPINAL_RED_FLAGS).glob("*.lp")))
    assert module and all(path.parent.name == "spinal_red_flags" for path in module)
    for policy in ("CMICB_Clin086", RFD):
        files = kb.program_files(policy)
        assert set(module) <= set(files)
        own = [path for path in files if path.parent == kb.policy_folder(policy)]
        for text in (path.read_text() for path in own):
            assert "fact(red_flags," not in text and "serious_pathology_flag(suspected" not in text
    assert not set(module) & set(kb.program_files(TONSILLECTOMY))


def test_a_policy_without_the_module_does_not_know_the_flags(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "draft_ebi_lumbarrfd")
    _edit(root / RFD_FOLDER / "policy.lp", "uses_module(spinal_red_flags).", "")
    report = check_policy(KnowledgeBase(root), RFD)
    assert "undeclared_fact" in {finding.kind for finding in report.findings}


def test_an_unknown_module_is_a_kb_fault_that_names_the_known_ones(tmp_path: Path) -> None:
    from pyclingo_bridge.errors import KnowledgeBaseError

    root = kb_with(tmp_path, "draft_ebi_lumbarrfd")
    _edit(root / RFD_FOLDER / "policy.lp", "uses_module(spinal_red_flags).", "uses_module(spinal_red_flag).")
    with pytest.raises(KnowledgeBaseError) as raised:
        KnowledgeBase(root).program_files(RFD)
    assert str(raised.value) == (
        f"policy {RFD} uses module 'spinal_red_flag', which {root / 'modules'} does not hold; known modules: spinal_red_flags"
    )


def test_check_locates_a_fault_in_the_module(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "draft_ebi_lumbarrfd")
    with (root / SPINAL_RED_FLAGS / "red_flags.lp").open("a") as module:
        module.write('advice(C, urgent, "x") :- spinal_red_flag_clause(serious_pathology, C), holds(no_such_fact, true).\n')
    result = CliRunner().invoke(main, ["check", "--kb", str(root), "--policy", RFD])
    assert result.exit_code == 1
    assert result.output.startswith(f"{root.name}/{SPINAL_RED_FLAGS}/red_flags.lp:")
    assert "undeclared fact: holds(no_such_fact, _)" in result.output.splitlines()[0]


COMPLETE_TONSILLITIS = {"due_to_acute_tonsillitis": True, "episodes_disabling": True, "red_flags": []}
PERIODS = ("episodes_last_12_months", "episodes_12_to_24_months", "episodes_24_to_36_months")


@settings(max_examples=60, deadline=None)
@given(counts=st.tuples(*(st.integers(0, 12) for _ in PERIODS)), period=st.sampled_from(PERIODS), more=st.integers(1, 10))
def test_more_episodes_never_withdraw_a_tonsillectomy(counts: tuple[int, int, int], period: str, more: int) -> None:
    """1.4 is monotone: adding episodes to any period never turns commissioned into not commissioned."""
    engine = engine_for(TONSILLECTOMY)
    facts = {**COMPLETE_TONSILLITIS, **dict(zip(PERIODS, counts))}
    before = engine.decide(facts).status
    after = engine.decide({**facts, period: facts[period] + more}).status
    assert before in {"commissioned", "not_commissioned"}
    assert not (before == "commissioned" and after != "commissioned")


@settings(max_examples=60, deadline=None)
@given(last=st.integers(0, 12), before=st.integers(0, 12))
def test_an_unknown_third_year_is_asked_only_when_it_can_decide(last: int, before: int) -> None:
    """With the third year unknown, the answer is undetermined exactly when (a) and (b) fail and
    (c) still can hold, and then the third year is what is missing."""
    engine = engine_for(TONSILLECTOMY)
    decision = engine.decide({**COMPLETE_TONSILLITIS, PERIODS[0]: last, PERIODS[1]: before})
    met_without_third = last >= 7 or (last >= 5 and before >= 5)
    may_meet_c = last >= 3 and before >= 3
    if met_without_third:
        assert decision.status == "commissioned"
    elif may_meet_c:
        assert (decision.status, [m.fact for m in decision.missing]) == ("undetermined", [PERIODS[2]])
    else:
        assert decision.status == "not_commissioned"


# -- the suite invariant: no rule of the RFD policy reads imaging (RFD 1.7, Clin086 1.4) -----

RFD_FOLDER = "policies/draft_ebi_lumbarrfd"
IMAGING_FACT = 'fact(likely_to_change_management, boolean, open, "the imaging result is likely to change management").\n'
IMAGING_RULE = """rule(imaging_needed, "1.1", "Imaging is likely to change management").
conclusion(policy_statement, not_commissioned) :- label(imaging_needed), holds(likely_to_change_management, false).
"""


def test_check_all_proves_that_rfd_reads_no_imaging() -> None:
    report = check_policy(KnowledgeBase.installed(), RFD)
    assert report.ok
    assert "reads_no_imaging" in {name for name in _invariants(RFD)}


def _invariants(policy: str) -> set[str]:
    from pyclingo_bridge.check.verify import ground_for_verification
    from pyclingo_bridge.model import PolicyModel

    kb = KnowledgeBase.installed()
    program = ground_for_verification(kb.program_files(policy) + kb.check_files(policy))
    return set(PolicyModel.read(kb.policy_folder(policy).name, program).invariants)


def test_an_rfd_rule_reading_imaging_breaks_the_suite_invariant(tmp_path: Path) -> None:
    root = kb_with(tmp_path, "draft_ebi_lumbarrfd")
    (root / RFD_FOLDER / "vocabulary.lp").write_text((root / RFD_FOLDER / "vocabulary.lp").read_text() + IMAGING_FACT)
    (root / RFD_FOLDER / "rules.lp").write_text((root / RFD_FOLDER / "rules.lp").read_text() + IMAGING_RULE)
    report = check_policy(KnowledgeBase(root), RFD)
    broken = [finding for finding in report.findings if finding.kind == "invariant_violated"]
    assert [(finding.clauses, finding.message.split(":")[0]) for finding in broken] == [
        (("1.7",), "invariant reads_no_imaging is broken")
    ]


def test_an_rfd_rule_reading_an_undeclared_imaging_fact_is_a_lint_finding(tmp_path: Path) -> None:
    """The other half of the proof: a rule can read only facts its own vocabulary declares."""
    root = kb_with(tmp_path, "draft_ebi_lumbarrfd")
    (root / RFD_FOLDER / "rules.lp").write_text((root / RFD_FOLDER / "rules.lp").read_text() + IMAGING_RULE)
    report = check_policy(KnowledgeBase(root), RFD)
    assert "undeclared_fact" in {finding.kind for finding in report.findings}
    assert not report.ok


# -- the README's input contracts are the vocabularies ---------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def _contract(policy: str) -> dict[str, str]:
    """Key -> world of the README's input contract table for ``policy`` (one-key rows only)."""
    text = README.read_text()
    section = text.split(f"### Input contract ({policy}", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].strip().strip("`"): cells[2].strip() for cells in rows if "," not in cells[0]}


@pytest.mark.parametrize("policy", [TONSILLECTOMY, RFD, BREAST])
def test_readme_input_contract_is_the_vocabulary(policy: str) -> None:
    specs = engine_for(policy).vocabulary.specs
    contract = _contract(policy)
    assert contract.pop("id") == "—"
    assert contract == {key: spec.world for key, spec in specs.items() if key not in {"core_criteria", "ifr_approved", "clinical_trial_continuation"}}
    for key, spec in specs.items():
        if spec.type == "integer":
            assert f"| `{key}` | integer {spec.low}–{spec.high} |" in README.read_text()
        if spec.type == "decimal":
            low, high = (spec.fact_type.quote(spec, bound) for bound in (spec.low, spec.high))
            assert f"| `{key}` | decimal {low}–{high} {spec.unit}, one digit after the point |" in README.read_text()


def test_show_marks_a_rule_not_applicable_to_the_policy() -> None:
    result = CliRunner().invoke(main, ["show", TONSILLECTOMY])
    assert result.exit_code == 0
    [line] = [line for line in result.output.splitlines() if "diagnostic_for_restricted_procedure  kb/" in line]
    assert line.endswith("without approval  (not applicable in this policy)")
    clin086 = CliRunner().invoke(main, ["show", "CMICB_Clin086"]).output
    assert "not applicable" not in clin086


# -- breast reduction, version 1 -------------------------------------------------------------

BREAST_MET = {
    "sex": "female", "gp_supportive_care": True, "thoracic_or_shoulder_pain": True, "physiotherapy_assessed": True,
    "functional_symptoms": True, "planned_reduction_grams_per_breast": 600, "planned_reduction_cup_sizes": 4,
    "bmi": Decimal("25.0"), "bmi_stable_months": 24, "written_information_given": True,
}


@settings(max_examples=60, deadline=None)
@given(tenths=st.integers(100, 900))
def test_bmi_below_27_is_strict_and_exact(tenths: int) -> None:
    """1.6: every BMI below the version's limit (27.0 in version 1, 30.0 in version 2)
    qualifies and every BMI at or above it does not."""
    bmi = Decimal(tenths).scaleb(-1)
    for version, limit in (("1", Decimal("27.0")), ("2", Decimal("30.0"))):
        status = engine_for(BREAST, version=version).decide({**BREAST_MET, "bmi": bmi}).status
        assert status == ("commissioned" if bmi < limit else "not_commissioned")


MEASURES = st.one_of(st.none(), st.integers(0, 5000)), st.one_of(st.none(), st.integers(0, 12))


@settings(max_examples=80, deadline=None)
@given(grams=MEASURES[0], cups=MEASURES[1])
def test_either_measure_of_the_reduction_is_enough(grams: int | None, cups: int | None) -> None:
    """1.5: one measure given and met commissions; both given and short does not; otherwise
    (one short or unknown, the other unknown) the answer waits for the unknown ones."""
    facts = {**BREAST_MET, "planned_reduction_grams_per_breast": grams, "planned_reduction_cup_sizes": cups}
    decision = engine_for(BREAST).decide(facts)
    met = (grams is not None and grams >= 500) or (cups is not None and cups >= 4)
    short = grams is not None and grams < 500 and cups is not None and cups < 4
    if met:
        assert decision.status == "commissioned"
    elif short:
        assert (decision.status, list(decision.clauses)) == ("not_commissioned", ["1.5"])
    else:
        unknown = [key for key, value in (("planned_reduction_cup_sizes", cups), ("planned_reduction_grams_per_breast", grams)) if value is None]
        assert (decision.status, sorted(m.fact for m in decision.missing)) == ("undetermined", unknown)


BREAST_CONTRADICTIONS = [
    ("cosmetic with functional symptoms", {"cosmetic_only": True}, ["cosmetic_only", "functional_symptoms"]),
    ("cosmetic with cancer reconstruction", {"cosmetic_only": True, "functional_symptoms": False,
                                              "cancer_treatment_or_reconstruction": True},
     ["cancer_treatment_or_reconstruction", "cosmetic_only"]),
]


@pytest.mark.parametrize(("extra", "fields"), [c[1:] for c in BREAST_CONTRADICTIONS], ids=[c[0] for c in BREAST_CONTRADICTIONS])
def test_cosmetic_reasons_alone_contradict_another_reason(extra: dict[str, object], fields: list[str]) -> None:
    from pyclingo_bridge.errors import InputError

    with pytest.raises(InputError) as raised:
        engine_for(BREAST).decide({**BREAST_MET, **extra})
    assert sorted(set(raised.value.fields)) == fields


def test_the_bmi_limit_is_one_parameter(tmp_path: Path) -> None:
    """Version 2 raises the limit to below 30 by one line: 28.4 is then commissioned, 30.0 is not."""
    root = kb_with(tmp_path, "draft_ebi_breastreduction")
    # The limit is version 1's own line (versions/1/version.lp; docs/versions.md).
    _edit(root / "policies/draft_ebi_breastreduction/versions/1/version.lp", "parameter(maximum_bmi, bmi, 270,", "parameter(maximum_bmi, bmi, 300,")
    from pyclingo_bridge.engine import PolicyEngine
    from pyclingo_bridge.versions import choose_version

    engine = PolicyEngine(BREAST, KnowledgeBase(root), choose_version(KnowledgeBase(root), BREAST, "1"))
    assert engine.decide({**BREAST_MET, "bmi": Decimal("28.4")}).status == "commissioned"
    refused = engine.decide({**BREAST_MET, "bmi": Decimal("30.0")})
    assert refused.status == "not_commissioned"
    assert [a.text for a in refused.advice if a.clause == "1.6"] == [
        "Support the patient to reach a body mass index below 30.0 kg/m2, kept stable for 12 months, before referral."
    ]
    assert check_policy(KnowledgeBase(root), BREAST, "1").ok


def test_a_contradiction_of_a_closed_fact_is_met_once_recorded_and_a_dead_one_still_reported(tmp_path: Path) -> None:
    """The check meets cosmetic_only's contradictions only with cosmetic_only recorded; one
    that no recording can meet is still dead."""
    root = kb_with(tmp_path, "draft_ebi_breastreduction")
    with (root / "policies/draft_ebi_breastreduction/vocabulary.lp").open("a") as vocabulary:
        vocabulary.write('\ncontradiction(never_met, "x") :- holds(cosmetic_only, true), holds(cosmetic_only, false).\n'
                         "contradiction_field(never_met, cosmetic_only).\n")
    report = check_policy(KnowledgeBase(root), BREAST)
    assert [(f.kind, f.message) for f in report.findings] == [
        ("dead_contradiction", "contradiction never_met is met by no input")
    ]
