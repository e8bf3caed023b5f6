"""``policykb check``: prove a policy's knowledge base sound before any patient meets it.

Three passes, each finding located by ``file:line`` and tied to a clause:

1. the program as written (:mod:`.source`): syntax errors with clingo's message;
2. the lint (:mod:`.lint`): undefined predicates, arity mismatches, undeclared facts and
   values, facts no rule reads, labels without a clause, clauses without a rule; and the
   words for people (:mod:`.wording`): atoms an answer shows without a sentence, unknown
   ``{parameter}`` placeholders, advice without a declared urgency; and contradictions
   (:mod:`.contradictions`) that read more than their declared fields, or that no input meets;
3. exhaustive verification (:mod:`.verify`): conflicts, gaps, patients an integrity
   constraint rules out, dead rules and broken invariants over every complete patient, each
   with a minimal counterexample.
"""

from __future__ import annotations

import dataclasses

from ..engine import PolicyEngine, engine_for
from ..errors import KnowledgeBaseError
from ..knowledge_base import KnowledgeBase
from ..model import PolicyModel
from ..versions import VersionError, choose_version, date_problems, policy_versions
from .contradictions import contradiction_findings
from .findings import CheckReport, Finding, Location, RuleRef
from .lint import Declared, lint
from .source import findings_from_messages, index_sources
from .verify import complete_inputs_file, ground_for_verification, verify
from .wording import wording_findings

__all__ = ["CheckReport", "Finding", "Location", "RuleRef", "check_policy", "check_versions"]

INPUTS_FILE = "inputs.lp"


def _engine(kb: KnowledgeBase, policy_id: str, version: str) -> PolicyEngine:
    return engine_for(policy_id, kb.root, version)


def check_versions(kb: KnowledgeBase, policy_id: str) -> list[CheckReport]:
    """Check every version of one policy of ``kb``, each as a policy of its own; the first
    report also holds what is wrong with the versions' dates (overlaps, gaps)."""
    try:
        versions = policy_versions(kb, policy_id)
    except VersionError as error:
        return [CheckReport(kb.policy_folder(policy_id).name, (Finding("version_dates", str(error)),))]
    reports = [check_policy(kb, policy_id, version.number if len(versions) > 1 else None) for version in versions]
    dates = tuple(Finding("version_dates", problem) for problem in date_problems(versions))
    first = reports[0]
    reports[0] = dataclasses.replace(first, findings=(*dates, *first.findings))
    return reports


def check_policy(kb: KnowledgeBase, policy_id: str, version: str | None = None) -> CheckReport:
    """Check one policy of ``kb``, at ``version`` (its only one when None); raises
    UnknownPolicyError for an id it does not hold."""
    folder = kb.policy_folder(policy_id)
    chosen = choose_version(kb, policy_id, version) if version is not None else policy_versions(kb, policy_id)[-1]
    files = kb.program_files(policy_id) + chosen.files + kb.check_files(policy_id)
    index = index_sources(files, kb.root)
    name = index.reference(folder.name) + (f" version {version}" if version is not None else "")
    if index.syntax_errors:
        return CheckReport(name, tuple(index.syntax_errors))
    try:
        program = ground_for_verification(files)
    except KnowledgeBaseError as error:
        messages = str(error).split("\n", 1)[1:]  # after "the knowledge base does not load:"
        found = findings_from_messages(messages, "grounding", kb.root)
        return CheckReport(name, tuple(found or [Finding("grounding", str(error))]))
    model = PolicyModel.read(folder.name, program)
    declared = Declared.from_model(model)
    direct = [path for path in kb.core_files if path.name == INPUTS_FILE] + [complete_inputs_file()]
    findings = lint(index, declared, direct, kb.check_files(policy_id))
    verification = verify(program, index, declared, kb.root, model.vocabulary)
    engine = _engine(kb, policy_id, chosen.number)
    findings += wording_findings(engine)
    findings += contradiction_findings(engine, kb.program_files(policy_id) + chosen.files, kb.root)
    traced = sum(
        1
        for number, normative in declared.clauses.items()
        if normative and any(clause == number for clause, _ in declared.rules.values())
    )
    return CheckReport(
        policy=name,
        findings=(*findings, *verification.findings),
        rules_checked=len(index.labels()),
        invariants_checked=verification.invariants_checked,
        clauses_traced=traced,
        inputs_verified=True,
    )
