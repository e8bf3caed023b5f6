"""A policy's program as written: what each statement defines and reads, and where.

The lint and the verification need to point at ``file:line``; grounding loses that, so the
files are parsed again here (plainly, without the labels transformer) and indexed:
signatures defined and read, ``holds(Key, Value)`` reads, labelled rules, and the facts
that describe the policy (``rule/3``, ``clause/3``, ``fact/4``, ``fact_not_read/2``,
``invariant/3``) with their places. Syntax errors become findings with clingo's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import clingo
from clingo import ast
from clingo.ast import AST, ASTType

from ..labels import label_of
from ..syntax import Signature, signatures, walk
from .findings import Finding, Kind, Location

# Facts whose arguments the checks read from the source, by signature.
DESCRIBING_FACTS: frozenset[Signature] = frozenset(
    {("rule", 3), ("clause", 3), ("fact", 4), ("fact_not_read", 2), ("invariant", 3), ("metadata", 2), ("parameter", 4)}
)

_MESSAGE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)(?:-[\d:]+)?: (?P<level>\w+): (?P<text>.*)$")


@dataclass(frozen=True)
class Read:
    """An atom read in a rule body (or a condition): its signature, term, place, and the
    label of the rule it is in (if labelled)."""

    signature: Signature
    symbol: AST
    location: Location
    label: str | None = None


@dataclass(frozen=True)
class InputComparison:
    """A rule compares the fact ``key`` (through a holds/2 variable) with the term ``other``;
    ``operator`` reads with the fact on the left (``Age < Minimum`` is ``("<", "Minimum")``).
    ``parameter`` and ``parameter_key`` name the ``parameter(Name, Key, Var, _)`` that binds
    ``other`` in the same body, ``number`` is ``other`` when it is a number literal."""

    key: str
    operator: str
    other: str
    number: int | None
    parameter: str | None
    parameter_key: str | None
    location: Location
    label: str | None = None


@dataclass(frozen=True)
class LabelledRule:
    label: str
    head: Signature | None
    location: Location


@dataclass(frozen=True)
class SourceFact:
    """A ground fact as written: its arguments as clingo prints them."""

    arguments: tuple[str, ...]
    location: Location


@dataclass
class SourceIndex:
    """Everything the checks need to know about the program text."""

    files: tuple[Path, ...]
    syntax_errors: list[Finding] = field(default_factory=list)
    defined: dict[Signature, list[Location]] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)
    labelled: list[LabelledRule] = field(default_factory=list)
    facts: dict[Signature, list[SourceFact]] = field(default_factory=dict)
    heads: dict[Signature, list[tuple[AST, Location]]] = field(default_factory=dict)
    """Head atoms of rules, by signature (to find, say, the rules deriving ``violates/1``)."""
    comparisons: list[InputComparison] = field(default_factory=list)

    def reference(self, default: str) -> str:
        """The policy's reference from ``metadata(reference, R)``, else ``default``."""
        for fact in self.facts.get(("metadata", 2), []):
            if fact.arguments[0] == "reference":
                return fact.arguments[1]
        return default

    def labels(self) -> dict[str, list[LabelledRule]]:
        by_label: dict[str, list[LabelledRule]] = {}
        for rule in self.labelled:
            by_label.setdefault(rule.label, []).append(rule)
        return by_label


def shown_path(path: Path | str, kb_root: Path) -> str:
    """A file as printed in findings: relative to the folder holding the KB (``kb/...``)."""
    try:
        return str(Path(path).resolve().relative_to(kb_root.resolve().parent))
    except ValueError:
        return str(path)


def index_sources(files: Sequence[Path], kb_root: Path) -> SourceIndex:
    """Parse ``files`` one by one and index them; a file that does not parse gives findings."""
    index = SourceIndex(tuple(files))
    for path in files:
        messages: list[str] = []
        statements: list[AST] = []
        try:
            ast.parse_files([str(path)], statements.append, logger=_collect(messages), message_limit=20)
        except RuntimeError:
            index.syntax_errors += findings_from_messages(messages, "syntax", kb_root)
            continue
        for statement in statements:
            _index_statement(index, statement, kb_root)
    return index


def _collect(messages: list[str]) -> Callable[[clingo.MessageCode, str], None]:
    return lambda _code, message: messages.append(message)


def findings_from_messages(messages: Sequence[str], kind: Kind, kb_root: Path) -> list[Finding]:
    """clingo's error messages as findings: each ``file:line:col: error: text`` line starts
    one, the lines after it (the rule, notes) are its detail; info messages are left out."""
    groups: list[tuple[re.Match[str] | None, str, list[str]]] = []
    for line in "\n".join(messages).splitlines():
        match = _MESSAGE.match(line.strip())
        if match is not None and match["level"] != "note":
            groups.append((match, match["level"], []))
        elif groups:
            groups[-1][2].append(line.strip())
        elif line.strip():
            groups.append((None, "error", [line.strip()]))
    findings = []
    for match, level, rest in groups:
        if level not in ("error", "warning"):
            continue
        if match is None:
            findings.append(Finding(kind, rest[0], detail="\n".join(rest[1:])))
            continue
        location = Location(
            Path(match["file"]), int(match["line"]), int(match["column"]), shown_path(match["file"], kb_root)
        )
        findings.append(Finding(kind, match["text"].rstrip(":"), location, detail="\n".join(rest)))
    return findings


def constant(term: AST) -> str | None:
    """The text of a ground term (``setting``, ``16``, ``"1.2"``), or None if it has variables."""
    if any(node.ast_type == ASTType.Variable for node in walk(term)):
        return None
    if term.ast_type == ASTType.Pool:
        return None
    return str(term)


def text(term: AST) -> str:
    """A ground argument as a value: a string's content, any other term as clingo prints it."""
    if term.ast_type == ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.String:
        return str(term.symbol.string)
    return constant(term) or ""


def _location(node: AST, kb_root: Path) -> Location:
    begin = node.location.begin
    return Location(Path(begin.filename), begin.line, begin.column, shown_path(begin.filename, kb_root))


def _symbolic_atoms(nodes: Sequence[AST] | AST) -> Iterator[AST]:
    for node in [nodes] if isinstance(nodes, AST) else nodes:
        for inner in walk(node):
            if inner.ast_type == ASTType.SymbolicAtom:
                yield inner


def _index_statement(index: SourceIndex, statement: AST, kb_root: Path) -> None:
    kind = statement.ast_type
    defined: list[AST] = []
    read: list[AST] = []
    if kind == ASTType.Rule:
        head = statement.head
        if head.ast_type == ASTType.Literal:
            defined += _symbolic_atoms(head)
        elif head.ast_type in (ASTType.Aggregate, ASTType.Disjunction):
            for element in head.elements:
                defined += _symbolic_atoms(element.literal)
                read += _symbolic_atoms(list(element.condition))
        elif head.ast_type == ASTType.HeadAggregate:
            for element in head.elements:
                defined += _symbolic_atoms(element.condition.literal)
                read += _symbolic_atoms(list(element.condition.condition))
        read += _symbolic_atoms(list(statement.body))
        _index_rule(index, statement, kb_root)
    elif kind == ASTType.External:
        defined += _symbolic_atoms(statement.atom)
        read += _symbolic_atoms(list(statement.body))
    elif kind == ASTType.Defined:
        index.defined.setdefault((statement.name, statement.arity), []).append(_location(statement, kb_root))
    elif kind in (ASTType.ShowTerm, ASTType.Minimize):
        read += _symbolic_atoms(list(statement.body))
    for atom in defined:
        for signature in signatures(atom.symbol):
            index.defined.setdefault(signature, []).append(_location(atom.symbol, kb_root))
            index.heads.setdefault(signature, []).append((atom.symbol, _location(atom.symbol, kb_root)))
    label = label_of(statement) if kind == ASTType.Rule else None
    label_name = constant(label) if label is not None else None
    for atom in read:
        for signature in signatures(atom.symbol):
            index.reads.append(Read(signature, atom.symbol, _location(atom.symbol, kb_root), label_name))


def _index_rule(index: SourceIndex, rule: AST, kb_root: Path) -> None:
    head = rule.head
    head_signature = None
    if head.ast_type == ASTType.Literal and head.atom.ast_type == ASTType.SymbolicAtom:
        found = signatures(head.atom.symbol)
        head_signature = found[0] if found else None
        symbol = head.atom.symbol
        if not rule.body and head_signature in DESCRIBING_FACTS and symbol.ast_type == ASTType.Function:
            arguments = tuple(text(argument) for argument in symbol.arguments)
            index.facts.setdefault(head_signature, []).append(SourceFact(arguments, _location(rule, kb_root)))
    label = label_of(rule)
    name = constant(label) if label is not None else None
    if name is not None:
        index.labelled.append(LabelledRule(name, head_signature, _location(rule, kb_root)))
    index.comparisons += _input_comparisons(rule, name, kb_root)


_OPERATORS = {
    ast.ComparisonOperator.LessThan: "<",
    ast.ComparisonOperator.LessEqual: "<=",
    ast.ComparisonOperator.GreaterThan: ">",
    ast.ComparisonOperator.GreaterEqual: ">=",
    ast.ComparisonOperator.Equal: "=",
    ast.ComparisonOperator.NotEqual: "!=",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _input_comparisons(rule: AST, label: str | None, kb_root: Path) -> list[InputComparison]:
    """Comparisons of a ``holds(Key, Var)`` variable with any term in ``rule``'s body, each
    with the parameter that binds the other side (``parameter(Name, Key, Var, Clause)``), if any."""
    keys: dict[str, str] = {}
    parameters: dict[str, tuple[str | None, str | None]] = {}
    for atom in _symbolic_atoms(list(rule.body)):
        symbol = atom.symbol
        if symbol.ast_type != ASTType.Function:
            continue
        if (symbol.name, len(symbol.arguments)) == ("holds", 2):
            key, value = symbol.arguments
            if constant(key) is not None and value.ast_type == ASTType.Variable:
                keys[value.name] = str(constant(key))
        elif (symbol.name, len(symbol.arguments)) == ("parameter", 4):
            name, key, value, _ = symbol.arguments
            if value.ast_type == ASTType.Variable:
                parameters[value.name] = (constant(name), constant(key))
    found = []
    for node in (inner for literal in rule.body for inner in walk(literal)):
        if node.ast_type != ASTType.Comparison:
            continue
        left = node.term
        for guard in node.guards:
            right, operator = guard.term, _OPERATORS[guard.comparison]
            for variable, other, reads in ((left, right, operator), (right, left, _FLIPPED[operator])):
                if variable.ast_type != ASTType.Variable or variable.name not in keys:
                    continue
                number = (
                    other.symbol.number
                    if other.ast_type == ASTType.SymbolicTerm and other.symbol.type == clingo.SymbolType.Number
                    else None
                )
                name, bounds = parameters.get(other.name, (None, None)) if other.ast_type == ASTType.Variable else (None, None)
                found.append(
                    InputComparison(
                        keys[variable.name], reads, str(other), number, name, bounds, _location(node.term, kb_root), label
                    )
                )
            left = right
    return found
