"""`policykb check` on the shipped knowledge base and on copies broken one fault at a time."""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pyclingo_bridge import KnowledgeBase, KnowledgeBaseError, PolicyEngine
from pyclingo_bridge.check import CheckReport, check_policy
from pyclingo_bridge.cli import main
from pyclingo_bridge.engine import engine_for
from pyclingo_bridge.vocabulary import FactSpec

from .strategies import consistent

POLICY = "CMICB_Clin086"
RULES = "policies/cmicb_clin086/rules.lp"
POLICY_LP = "policies/cmicb_clin086/policy.lp"
VOCABULARY = "policies/cmicb_clin086/vocabulary.lp"
INVARIANTS = "policies/cmicb_clin086/checks/invariants.lp"

NEW_RULE_ANCHOR = "%## 1.2 Imaging for low back pain"


@dataclass(frozen=True)
class Fault:
    """One edit that breaks the KB, and what the check must say about it."""

    file: str
    old: str
    new: str
    kinds: frozenset[str]
    """Every kind of finding the check reports (a fault can have consequences, e.g. a gap)."""
    kind: str
    """The finding that names the fault itself."""
    message: str
    marker: str
    """Text on the line the finding must point at (in the broken file ``located_in``)."""
    located_in: str = ""
    clauses: tuple[str, ...] = ()
    also: tuple[tuple[str, str, str], ...] = ()
    """Further edits (file, old, new) that make up the fault."""


FAULTS = {
    "conflicting rule": Fault(
        RULES,
        NEW_RULE_ANCHOR,
        'rule(sciatica_imaged, "1.2", "Sciatica is imaged").\n'
        "conclusion(policy_statement, commissioned) :- label(sciatica_imaged), holds(sciatica, true).\n"
        + NEW_RULE_ANCHOR,
        frozenset({"conflict", "invariant_violated"}),
        "conflict",
        "a patient is both commissioned and not_commissioned",
        "label(sciatica_imaged)",
        # the counterexample the solver finds: a consultant request unlikely to change
        # management (1.3) that the faulty 1.2 rule commissions
        clauses=("1.2", "1.3"),
    ),
    "mistyped predicate": Fault(
        RULES,
        "specialist_request, holds(likely_to_change_management, true)",
        "specialist_requst, holds(likely_to_change_management, true)",
        frozenset({"undescribed_atom", "undefined_predicate", "gap", "dead_rule"}),
        "undefined_predicate",
        "specialist_requst/0 is neither an input nor derived by any rule (did you mean specialist_request/0?)",
        "specialist_requst,",
        clauses=("1.3",),
    ),
    "arity mismatch": Fault(
        RULES,
        "specialist_request, holds(likely_to_change_management, true)",
        "specialist_request(mcas), holds(likely_to_change_management, true)",
        frozenset({"undescribed_atom", "arity_mismatch", "gap", "dead_rule"}),
        "arity_mismatch",
        "specialist_request/1 is read here but only specialist_request/0 is defined",
        "specialist_request(mcas)",
        clauses=("1.3",),
    ),
    "mistyped fact key": Fault(
        RULES,
        "holds(setting, secondary_care),\n",
        "holds(settings, secondary_care),\n",
        frozenset({"undeclared_fact", "dead_rule"}),
        "undeclared_fact",
        "holds(settings, _) reads a fact the vocabulary does not declare (did you mean setting?)",
        "holds(settings, secondary_care)",
        clauses=("1.1",),
    ),
    "mistyped fact value": Fault(
        RULES,
        "holds(setting, secondary_care),\n",
        "holds(setting, secondary),\n",
        frozenset({"unknown_value", "dead_rule"}),
        "unknown_value",
        "holds(setting, secondary): secondary is not a value of setting (did you mean secondary_care?)",
        "holds(setting, secondary)",
        clauses=("1.1",),
    ),
    "dead rule": Fault(
        RULES,
        NEW_RULE_ANCHOR,
        'rule(sciatica_both_ways, "1.2", "Sciatica and no sciatica").\n'
        "conclusion(policy_statement, not_commissioned) :- label(sciatica_both_ways),\n"
        "    holds(sciatica, true), holds(sciatica, false).\n" + NEW_RULE_ANCHOR,
        frozenset({"dead_rule"}),
        "dead_rule",
        "rule sciatica_both_ways fires for no patient: Sciatica and no sciatica",
        "label(sciatica_both_ways)",
        clauses=("1.2",),
    ),
    "gap": Fault(
        RULES,
        "specialist_request, holds(likely_to_change_management, false).",
        "specialist_request, holds(likely_to_change_management, false), holds(sciatica, true).",
        frozenset({"gap"}),
        "gap",
        "a patient gets no status: no conclusion stands for them",
        "specialist_request :- label(specialist_request)",
        clauses=("1.3",),
    ),
    "untraced clause": Fault(
        POLICY_LP,
        'clause("4.1", informative',
        'clause("4.2", normative, "A clause no rule encodes.").\nclause("4.1", informative',
        frozenset({"untraced_clause"}),
        "untraced_clause",
        "normative clause 4.2 is encoded by no labelled rule",
        'clause("4.2"',
        clauses=("4.2",),
    ),
    "broken invariant": Fault(
        RULES,
        "Age < Minimum.\n\n%## 2.1",
        "Age < Minimum - 1.\n\n%## 2.1",
        frozenset({"invariant_violated", "not_a_parameter"}),
        "invariant_violated",
        "invariant nobody_under_minimum_age_commissioned is broken: nobody younger than the minimum age "
        "is commissioned under this policy (status: commissioned)",
        "violates(nobody_under_minimum_age_commissioned) :-",
        located_in=INVARIANTS,
        clauses=("1.5",),
    ),
    "syntax error": Fault(
        RULES,
        "specialist_setting(mcas; secondary_care).",
        "specialist_setting(mcas; secondary_care)",
        frozenset({"syntax"}),
        "syntax",
        "syntax error, unexpected <IDENTIFIER>",
        "non_specialist_setting(primary_care).",
    ),
    "grounding error": Fault(
        RULES,
        "specialist_setting(mcas; secondary_care).",
        "specialist_setting(Setting) :- not non_specialist_setting(Setting).",
        frozenset({"grounding"}),
        "grounding",
        "unsafe variables in",
        "specialist_setting(Setting) :-",
    ),
    "rule without clause": Fault(
        RULES,
        'rule(facet_joint_rfd_prerequisite, "1.4",\n',
        'ignored(facet_joint_rfd_prerequisite, "1.4",\n',
        frozenset({"unlabelled_clause"}),
        "unlabelled_clause",
        "rule labelled facet_joint_rfd_prerequisite has no rule(facet_joint_rfd_prerequisite, Clause, Sentence): "
        "it cites no clause and never fires",
        "conclusion(policy_statement, not_commissioned) :- label(facet_joint_rfd_prerequisite)",
    ),
    "clause not listed": Fault(
        RULES,
        'rule(specialist_request, "1.3",',
        'rule(specialist_request, "1.33",',
        frozenset({"unknown_clause"}),
        "unknown_clause",
        "rule specialist_request cites clause 1.33, which the policy's clause/3 facts do not list (did you mean 1.3?)",
        'rule(specialist_request, "1.33"',
        clauses=("1.33",),
    ),
    "fact no rule reads": Fault(
        VOCABULARY,
        'fact_not_read(sciatica, "1.2").',
        "",
        frozenset({"fact_not_read"}),
        "fact_not_read",
        "fact sciatica is declared but no rule reads holds(sciatica, _); "
        "read it, remove it, or declare fact_not_read(sciatica, Clause)",
        "fact(sciatica, boolean",
        located_in=VOCABULARY,
    ),
    "fact read only by an invariant": Fault(
        VOCABULARY,
        'fact_not_read(sciatica, "1.2").',
        "",
        frozenset({"fact_not_read"}),
        "fact_not_read",
        "fact sciatica is declared but no rule reads holds(sciatica, _)",
        "fact(sciatica, boolean",
        located_in=VOCABULARY,
        also=(
            (
                INVARIANTS,
                "%## Derived",
                ('invariant(sciatica_decides_nothing, "1.2", "sciatica alone never excludes").\n'
                "violates(sciatica_decides_nothing) :- holds(sciatica, true), status(outside_policy),\n"
                "    holds(red_flags, _), not holds(red_flags, _).\n%## Derived"),
            ),
        ),
    ),
    "fact_not_read of an undeclared fact": Fault(
        VOCABULARY,
        'fact_not_read(sciatica, "1.2").',
        'fact_not_read(sciatica, "1.2").\nfact_not_read(sciatic, "1.2").',
        frozenset({"undeclared_fact"}),
        "undeclared_fact",
        "fact_not_read(sciatic, ...) names a fact the vocabulary does not declare (did you mean sciatica?)",
        "fact_not_read(sciatic,",
        located_in=VOCABULARY,
        clauses=("1.2",),
    ),
    "input read directly": Fault(
        RULES,
        "diagnostic_for_restricted_procedure :- label(rfd_imaging_is_diagnostic),\n    holds(",
        "diagnostic_for_restricted_procedure :- label(rfd_imaging_is_diagnostic),\n    given(",
        frozenset({"undescribed_atom", "input_read_directly"}),
        "input_read_directly",
        "given/2 is an input external: policy rules read patient facts only through holds/2",
        "given(facet_joint_rfd_prerequisite, true)",
        clauses=("1.4",),
    ),
    "a number, not a parameter": Fault(
        RULES,
        "Age < Minimum.\n\n%## 2.1",
        "Age < 18.\n\n%## 2.1",
        frozenset({"not_a_parameter"}),
        "not_a_parameter",
        "age < 18 compares age with a number, not a declared parameter: "
        "declare parameter(Name, age, Value, Clause) with its clause and compare with it",
        "Age < 18.",
        clauses=("1.5",),
    ),
    "the parameter's own value, not the parameter": Fault(
        RULES,
        "Age < Minimum.\n\n%## 2.1",
        "Age < 16.\n\n%## 2.1",
        frozenset({"not_a_parameter"}),
        "not_a_parameter",
        "age < 16 compares age with a number, not a declared parameter",
        "Age < 16.",
        clauses=("1.5",),
    ),
    "a parameter of another fact": Fault(
        RULES,
        "holds(age, Age), parameter(minimum_age, age, Minimum, _), Age < Minimum.\n\n%## 2.1",
        "holds(age, Age), parameter(minimum_age, Key, Minimum, _), Age < Minimum.\n\n%## 2.1",
        frozenset({"not_a_parameter"}),
        "not_a_parameter",
        "age < Minimum compares age with parameter minimum_age, which bounds a fact not named, not age",
        "parameter(minimum_age, Key, Minimum, _)",
        clauses=("1.5",),
    ),
    "a parameter without its fact": Fault(
        POLICY_LP,
        'parameter(minimum_age, age, 16, "1.5").',
        'parameter(minimum_age, agee, 16, "1.5").',
        frozenset({"parameter_without_fact", "dead_rule"}),
        "parameter_without_fact",
        "parameter minimum_age bounds agee, which is not a declared fact (did you mean age?)",
        'parameter(minimum_age, agee, 16, "1.5").',
        clauses=("1.5",),
    ),
    # The silent fault of issue 11: without the threshold that the parameter makes, check said
    # ok while audit (by interval) decided a 45-year-old outside_policy and query commissioned.
    "a parameter that is no threshold": Fault(
        "core/inputs.lp",
        "threshold(K, V; K, V + 1) :- parameter(_, K, V, _), fact(K, T, _, _), ranged_type(T).",
        "",
        frozenset({"parameter_without_fact"}),
        "parameter_without_fact",
        "parameter minimum_age = 16 is not a threshold of age",
        'parameter(minimum_age, age, 16, "1.5").',
        located_in=POLICY_LP,
        clauses=("1.5",),
    ),
    "a threshold written by hand": Fault(
        VOCABULARY,
        "fact_range(age, 0, 130).",
        "fact_range(age, 0, 130).\nthreshold(age, 18).",
        frozenset({"threshold_by_hand"}),
        "threshold_by_hand",
        "threshold/2 is derived from the parameters (kb/core/inputs.lp), never written by hand",
        "threshold(age, 18).",
    ),
    "integer read at an untried value": Fault(
        RULES,
        "holds(age, Age), parameter(minimum_age, age, Minimum, _), Age < Minimum.\n\n%## 2.1",
        "holds(age, 12).\n\n%## 2.1",
        frozenset({"undeclared_threshold", "dead_rule", "invariant_violated"}),
        "undeclared_threshold",
        "holds(age, 12) reads age at 12, a value the check never tries: "
        "declare parameter(Name, age, 12, Clause) and compare with it",
        "holds(age, 12).",
        clauses=("1.5",),
    ),
    "invariant without rule": Fault(
        INVARIANTS,
        "%## Derived",
        'invariant(never_checked, "1.2", "an invariant nobody wrote").\n%## Derived',
        frozenset({"invariant_without_rule"}),
        "invariant_without_rule",
        "invariant never_checked is declared but no rule derives violates(never_checked)",
        "invariant(never_checked",
        located_in=INVARIANTS,
        clauses=("1.2",),
    ),
    "undeclared invariant": Fault(
        INVARIANTS,
        "violates(red_flag_never_not_commissioned) :-",
        "violates(red_flag_never_not_comissioned) :- status(outside_policy), holds(age, 15).\n"
        "violates(red_flag_never_not_commissioned) :-",
        frozenset({"undeclared_invariant"}),
        "undeclared_invariant",
        "violates(red_flag_never_not_comissioned) is derived but invariant(red_flag_never_not_comissioned, Clause, "
        "Statement) is not declared (did you mean red_flag_never_not_commissioned?)",
        "violates(red_flag_never_not_comissioned)",
        located_in=INVARIANTS,
    ),
    "constraint rules out a patient": Fault(
        RULES,
        NEW_RULE_ANCHOR,
        ":- holds(age, Age), parameter(minimum_age, age, Minimum, _), Age < Minimum.\n" + NEW_RULE_ANCHOR,
        frozenset({"ruled_out"}),
        "ruled_out",
        "this integrity constraint rules out a patient: the engine would refuse to decide them",
        ":- holds(age, Age), parameter(minimum_age, age, Minimum, _), Age < Minimum.",
    ),
    "no model": Fault(
        RULES,
        NEW_RULE_ANCHOR,
        "contradiction :- not contradiction.\n" + NEW_RULE_ANCHOR,
        frozenset({"unsatisfiable"}),
        "unsatisfiable",
        "no patient has a decision: the program has no model for any complete input "
        "(a contradiction such as `p :- not p.` rules out every patient)",
        "",
    ),
}


def copy_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(KnowledgeBase.installed().root, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def break_kb(tmp_path: Path, fault: Fault) -> Path:
    root = copy_kb(tmp_path)
    for file, old, new in ((fault.file, fault.old, fault.new), *fault.also):
        path = root / file
        text = path.read_text()
        assert text.count(old) == 1, f"the fault's anchor must occur once in {file}"
        path.write_text(text.replace(old, new))
    return root


def line_of(path: Path, marker: str) -> int:
    lines = [number for number, line in enumerate(path.read_text().splitlines(), start=1) if marker in line]
    assert len(lines) == 1, f"{marker!r} must mark one line of {path}"
    return lines[0]


def test_shipped_kb_checks_clean() -> None:
    report = check_policy(KnowledgeBase.installed(), POLICY)
    assert report.findings == ()
    assert (report.rules_checked, report.invariants_checked, report.clauses_traced) == (20, 5, 12)


def value_strategy(spec: FactSpec) -> st.SearchStrategy[object]:
    if spec.type == "integer":
        assert spec.low is not None and spec.high is not None
        return st.integers(spec.low, spec.high)  # every value, not only the check's representatives
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    return st.lists(st.sampled_from(spec.values), unique=True)


def complete_patients() -> st.SearchStrategy[dict[str, object]]:
    """Every open-world fact given; closed-world facts given or left out."""
    specs = engine_for(POLICY).vocabulary.specs.values()
    required = {spec.key: value_strategy(spec) for spec in specs if spec.world == "open"}
    optional = {spec.key: value_strategy(spec) for spec in specs if spec.world == "closed"}
    return st.fixed_dictionaries(required, optional=optional).filter(consistent(engine_for(POLICY)))


@functools.cache
def shipped_report() -> CheckReport:
    return check_policy(KnowledgeBase.installed(), POLICY)


@settings(max_examples=200, deadline=None)
@given(complete_patients())
def test_a_clean_check_means_every_complete_patient_is_decided(facts: dict[str, object]) -> None:
    """What the check proves over representatives holds for every value: one status, no fault."""
    assert shipped_report().ok
    decision = engine_for(POLICY).decide(facts)
    assert decision.status in ("commissioned", "not_commissioned", "outside_policy")


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_fault_is_named_and_located(tmp_path: Path, fault: Fault) -> None:
    root = break_kb(tmp_path, fault)
    report = check_policy(KnowledgeBase(root), POLICY)
    assert {finding.kind for finding in report.findings} == fault.kinds
    [finding] = [f for f in report.findings if f.kind == fault.kind and f.message.startswith(fault.message)]
    assert finding.clauses == fault.clauses
    if not fault.marker:
        assert finding.location is None
        return
    located = root / (fault.located_in or fault.file)
    assert finding.location is not None
    assert finding.location.file.resolve() == located.resolve()
    assert finding.location.line == line_of(located, fault.marker)
    assert finding.location.shown == f"kb/{fault.located_in or fault.file}"


@pytest.mark.parametrize(
    "name",
    ["conflicting rule", "gap", "broken invariant", "constraint rules out a patient"],
    ids=["conflict", "gap", "invariant", "ruled-out"],
)
def test_counterexample_reproduces_the_fault(tmp_path: Path, name: str) -> None:
    """The counterexample is a real patient: the engine over the broken KB meets the fault."""
    root = break_kb(tmp_path, FAULTS[name])
    report = check_policy(KnowledgeBase(root), POLICY)
    [finding] = [f for f in report.findings if f.kind == FAULTS[name].kind]
    assert finding.counterexample is not None
    assert finding.rules, "the rules that fired for the counterexample are listed"
    engine = PolicyEngine(POLICY, KnowledgeBase(root))
    if name == "broken invariant":
        decision = engine.decide(finding.counterexample)
        assert decision.status == "commissioned" and finding.counterexample["age"] < 16
    elif name == "constraint rules out a patient":
        with pytest.raises(KnowledgeBaseError, match="no completion of these facts has a model"):
            engine.decide(finding.counterexample)
    else:
        with pytest.raises(KnowledgeBaseError, match="two statuses or none"):
            engine.decide(finding.counterexample)


def test_counterexample_is_minimal(tmp_path: Path) -> None:
    """Fewest stated facts: closed-world facts are left out and no list has a member it does not need."""
    root = break_kb(tmp_path, FAULTS["conflicting rule"])
    [finding] = [f for f in check_policy(KnowledgeBase(root), POLICY).findings if f.kind == "conflict"]
    assert finding.counterexample is not None
    assert finding.counterexample["sciatica"] is True
    assert finding.counterexample["red_flags"] == []
    assert not {"core_criteria", "ifr_approved", "clinical_trial_continuation", "facet_joint_rfd_prerequisite"} & set(
        finding.counterexample
    )


def test_report_json_round_trips(tmp_path: Path) -> None:
    root = break_kb(tmp_path, FAULTS["dead rule"])
    report: CheckReport = check_policy(KnowledgeBase(root), POLICY)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert [f["kind"] for f in data["findings"]] == ["dead_rule"]
    assert data["findings"][0]["location"]["path"] == f"kb/{RULES}"


# -- the command ---------------------------------------------------------------------------

CLEAN = (
    "CMICB_Clin086: ok - 20 labelled rules each fire for some patient, no patient meets a conflict "
    "or a gap, 5 invariants hold, 12 normative clauses traced\n"
)


def test_cli_shipped_policy_is_clean() -> None:
    result = CliRunner().invoke(main, ["check", "--policy", "cmicb_clin086"])
    assert (result.exit_code, result.output) == (0, CLEAN)


def test_cli_check_needs_a_policy_when_the_kb_holds_several() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2
    references = sorted(engine_for(folder).policy.reference for folder in KnowledgeBase.installed().policy_folders())
    assert len(references) > 1
    assert result.output.endswith(
        f"Error: give --policy: the knowledge base holds {len(references)} policies, name one of: "
        + ", ".join(references) + "\n"
    )


def test_cli_reports_fault_with_location_counterexample_and_rules(tmp_path: Path) -> None:
    root = break_kb(tmp_path, FAULTS["gap"])
    result = CliRunner().invoke(main, ["check", "--policy", POLICY, "--kb", str(root)])
    rules = root / RULES
    request = line_of(rules, "specialist_request :- label(specialist_request)")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"kb/{RULES}:{request}:1: gap [clause 1.3]: a patient gets no status: no conclusion stands for them"
    )
    assert lines[1].startswith('  counterexample: {"age": ')
    assert json.loads(lines[1].split(": ", 1)[1])["likely_to_change_management"] is False
    assert lines[2:] == [
        "  rules fired:",
        f"    kb/{RULES}:{request}:1  specialist_request [1.3] Imaging is requested in a specialist setting (MCAS or consultant)",
        "CMICB_Clin086: 1 problem",
    ]


def test_cli_json(tmp_path: Path) -> None:
    root = break_kb(tmp_path, FAULTS["untraced clause"])
    result = CliRunner().invoke(main, ["check", "--policy", POLICY, "--kb", str(root), "--format", "json"])
    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert report["policy"] == POLICY and report["ok"] is False
    assert [(f["kind"], f["clauses"]) for f in report["findings"]] == [("untraced_clause", ["4.2"])]


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["check", "--all", "--policy", POLICY], 2, "Error: give --policy or --all, not both"),
        (["check", "--policy", "CMICB_Clin86"], 1, "Error: unknown policy 'CMICB_Clin86' (did you mean CMICB_Clin086?)"),
    ],
    ids=["all-and-policy", "unknown-policy"],
)
def test_cli_bad_use(arguments: list[str], exit_code: int, message: str) -> None:
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == exit_code
    assert message in result.output


def test_query_path_never_loads_check_programs(engine: PolicyEngine) -> None:
    """checks/*.lp (the invariants) belong to the check only: a query grounds none of it."""
    kb = KnowledgeBase.installed()
    assert [path.name for path in kb.check_files(POLICY)] == ["topics.lp", "invariants.lp"]
    assert not set(kb.check_files(POLICY)) & set(kb.program_files(POLICY))
    assert engine.program.facts("invariant", 3) == []
    assert shipped_report().invariants_checked == 5
