"""No line of Python names a policy or speaks of a clinical subject: those words are KB data.

Every string literal of the bridge (docstrings and comments aside, which explain to readers)
is checked for each policy's reference and folder id, as the KB declares them, and for the
nouns of the policies' subjects.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pyclingo_bridge import routing

BRIDGE = Path(__file__).resolve().parents[1] / "pyclingo_bridge"
CLINICAL_NOUNS = (
    "imaging", "mri", "back_pain", "x-ray", "scan", "spine", "spinal", "lumbar", "back pain", "sciatica", "cauda", "equina",
    "red flag", "red-flag", "tonsil", "quinsy", "breast", "mammaplasty", "bmi", "facet", "radiofrequency",
    "denervation", "mcas", "cancer", "malignan",
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        if isinstance(node, (ast.Module, ast.ClassDef)):  # attribute docstrings: a string after an assignment
            for before, after in zip(node.body, node.body[1:]):
                if isinstance(before, (ast.Assign, ast.AnnAssign)) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    found.add(id(after.value))
    return found


def _literals() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(BRIDGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        skipped = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
                found.append((str(path.relative_to(BRIDGE)), node.lineno, node.value))
    return found


def _words() -> list[str]:
    models = routing.models()
    return [*CLINICAL_NOUNS, *(m.info.reference.lower() for m in models.values()), *models]


@pytest.mark.parametrize("word", _words())
def test_no_string_literal_of_the_bridge_names_it(word: str) -> None:
    pattern = re.compile(rf"(?<![a-z]){re.escape(word)}", re.IGNORECASE)
    hits = [f"{path}:{line}: {text!r}" for path, line, text in _literals() if pattern.search(text)]
    assert hits == []


def test_the_scan_reads_string_literals() -> None:
    # The law above would hold vacuously if no literal were read.
    assert any(text == "order-sign" for _, _, text in _literals())
