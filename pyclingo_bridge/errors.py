"""The errors the library raises; the CLI and the service turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass


class PolicyKBError(Exception):
    """Base class of every error a user of policykb can cause or meet."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field: which field and what is allowed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InputError(PolicyKBError):
    """Patient facts that do not fit the policy's vocabulary."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(problem.field for problem in self.problems)


class UnknownPolicyError(PolicyKBError):
    """A policy id that the knowledge base does not hold."""


class PolicyNotChosenError(UnknownPolicyError):
    """No policy was named where the knowledge base holds several."""


class KnowledgeBaseError(PolicyKBError):
    """The knowledge base itself is faulty: it does not load, or it is inconsistent."""
