"""Input facts that cannot all be true, refused as one input error naming every field involved.

The knowledge base says which facts contradict each other (``contradiction/2`` with its
``contradiction_field/2``, kb/core/decision.lp); the engine's cautious solve derives a
contradiction exactly when the given facts alone imply it. Python knows none of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from .atoms import Atoms
from .errors import FieldProblem, InputError
from .records import record


@record
class Contradictions:
    """The fields each declared contradiction reads."""

    fields: Mapping[str, tuple[str, ...]]

    @property
    def read_fields(self) -> frozenset[str]:
        """Every field some contradiction reads: the only ones whether facts are refused
        depends on (``policykb check`` proves a contradiction reads no other)."""
        return frozenset(key for keys in self.fields.values() for key in keys)

    def refuse(self, cautious: Atoms) -> Atoms | InputError:
        """The atoms unchanged, or the InputError their contradictions make: one problem per
        field involved, each naming the other fields and saying what cannot be."""
        found = sorted(
            (str(atom.arguments[0]), str(atom.arguments[1])) for atom in cautious.get("contradiction", ())
        )
        if not found:
            return cautious
        problems: list[FieldProblem] = []
        for name, message in found:
            keys = self.fields.get(name, ())
            for key in keys:
                others = ", ".join(other for other in keys if other != key)
                problems.append(FieldProblem(key, f"contradicts {others}: {message}" if others else message))
            if not keys:
                problems.append(FieldProblem("input", message))
        return InputError(problems)
