"""Atoms rebuilt in Python (atoms.replaced) read as clingo would read the rebuilt symbol."""

from __future__ import annotations

import clingo
from hypothesis import given
from hypothesis import strategies as st

from pyclingo_bridge.atoms import atoms_by_name, read_atom, replaced
from pyclingo_bridge.inputs import holds_atom

NAMES = st.sampled_from(["holds", "fired", "neg", "body", "age", "a"])
LEAVES = st.one_of(
    st.integers(-50, 50).map(clingo.Number),
    st.text(alphabet='ab"\\\n\t ,()', max_size=6).map(clingo.String),
    NAMES.map(clingo.Function),
)


def _compound(children: st.SearchStrategy[list[clingo.Symbol]]) -> st.SearchStrategy[clingo.Symbol]:
    return st.one_of(
        st.builds(lambda name, args, positive: clingo.Function(name, args, positive), NAMES, children, st.booleans()),
        children.map(clingo.Tuple_),  # tuples of any length, one-element ones included
    )


SYMBOLS = st.recursive(LEAVES, lambda inner: _compound(st.lists(inner, max_size=3)), max_leaves=12)


def _substitute(symbol: clingo.Symbol, old: clingo.Symbol, new: clingo.Symbol) -> clingo.Symbol:
    if symbol == old:
        return new
    if symbol.type != clingo.SymbolType.Function or not symbol.arguments:
        return symbol
    return clingo.Function(symbol.name, [_substitute(a, old, new) for a in symbol.arguments], symbol.positive)


@given(inside=SYMBOLS, value=st.integers(-5, 600), name=NAMES, wrap=st.lists(NAMES, max_size=2))
def test_a_rebuilt_atom_is_the_rebuilt_symbol_read(inside: clingo.Symbol, value: int, name: str, wrap: list[str]) -> None:
    old = clingo.Function("holds", [clingo.Function(name), clingo.Number(1)])
    new = clingo.Function("holds", [clingo.Function(name), clingo.Number(value)])
    symbol = clingo.Function("fired", [inside, old, clingo.Tuple_([old, clingo.Function("neg", [old])])])
    for outer in wrap:
        symbol = clingo.Function(outer, [symbol, inside])
    expected = read_atom(_substitute(symbol, old, new))
    assert replaced(read_atom(symbol), {str(old): read_atom(new)}) == expected
    assert str(expected) == str(_substitute(symbol, old, new))


@given(symbol=SYMBOLS)
def test_an_atom_without_the_replaced_one_is_kept_as_it_is(symbol: clingo.Symbol) -> None:
    if symbol.type != clingo.SymbolType.Function:
        return
    atom = read_atom(symbol)
    assert replaced(atom, {"holds(nothing_here,0)": read_atom(clingo.Function("x"))}) is atom


@given(key=st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True), value=st.integers(-10**6, 10**6))
def test_a_holds_atom_made_in_python_is_clingos(key: str, value: int) -> None:
    assert holds_atom(key, value) == read_atom(clingo.Function("holds", [clingo.Function(key), clingo.Number(value)]))


FUNCTIONS = st.recursive(NAMES.map(clingo.Function), lambda inner: _compound(st.lists(inner, max_size=3)), max_leaves=8).filter(
    lambda symbol: symbol.type == clingo.SymbolType.Function and bool(symbol.name)
)


@given(FUNCTIONS, FUNCTIONS)
def test_atoms_read_by_representation_are_the_atoms_read(first: clingo.Symbol, second: clingo.Symbol) -> None:
    """``atoms_by_name`` remembers atoms by clingo's representation of a symbol: equal exactly
    when the symbols are equal, so each symbol is read as ``read_atom`` reads it."""
    assert (first._rep == second._rep) == (first == second)
    rebuilt = clingo.parse_term(str(second))  # a new Symbol object for the same symbol
    grouped = atoms_by_name([first, second, rebuilt])
    assert [atom for atoms in grouped.values() for atom in atoms] == sorted(
        [read_atom(first), read_atom(second), read_atom(second)], key=lambda atom: atom.name != first.name
    )
