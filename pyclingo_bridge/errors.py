"""The errors the library raises; the CLI and the service turn them into messages."""

from __future__ import annotations

from .records import record

MAX_PROBLEMS_SHOWN = 20
"""An error message lists at most this many problems, then says how many more there are:
an object with 100,000 unknown keys made a 22 MB message."""
MAX_FIELD_SHOWN = 100
"""A field name (a key the user sent) is shown up to this many characters."""


class PolicyKBError(Exception):
    """Base class of every error a user of policykb can cause or meet."""


@record
class FieldProblem:
    """One problem with one input field: which field and what is allowed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{shorten(self.field, MAX_FIELD_SHOWN)}: {self.message}"


class InputError(PolicyKBError):
    """Patient facts that do not fit the policy's vocabulary.

    ``problems`` holds every problem found; the message (``str(error)``) and ``fields`` only
    the first :data:`MAX_PROBLEMS_SHOWN`, so that what reaches a user stays readable.
    """

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(render_problems(self.problems))

    @property
    def shown(self) -> tuple[FieldProblem, ...]:
        """The problems a message lists."""
        return self.problems[:MAX_PROBLEMS_SHOWN]

    @property
    def more(self) -> int:
        """How many problems the message leaves out."""
        return max(0, len(self.problems) - MAX_PROBLEMS_SHOWN)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields of the problems shown, in order."""
        return tuple(problem.field for problem in self.shown)


def render_problems(problems: tuple[FieldProblem, ...] | list[FieldProblem]) -> str:
    """``field: message; ...`` for at most :data:`MAX_PROBLEMS_SHOWN` problems, then ``and N more``."""
    text = "; ".join(str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return f"{text}; and {more:,} more" if more > 0 else text


def shorten(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UnknownPolicyError(PolicyKBError):
    """A policy id that the knowledge base does not hold."""


class PolicyNotChosenError(UnknownPolicyError):
    """No policy was named where the knowledge base holds several."""


class KnowledgeBaseError(PolicyKBError):
    """The knowledge base itself is faulty: it does not load, or it is inconsistent."""
