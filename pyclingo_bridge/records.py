"""Frozen records: the small value classes of an answer, cheap to define at import.

``@dataclass(frozen=True)`` compiles six methods for each class when its module is imported
(about 0.35 ms a class, some 30 of which a CLI query imported: a tenth of its start-up). A
record compiles only its ``__init__``; equality, hashing, ordering, ``repr`` and immutability
are shared functions over the class's fields, which behave as a frozen dataclass's do:

* fields are the class's annotations, in order; a class attribute is a field's default;
* equal when of the same class with equal fields; hashed, and (``order=True``) ordered, as
  the tuple of fields;
* assigning or deleting an attribute raises :class:`FrozenRecordError` (an AttributeError);
* instances pickle and copy as any object with a ``__dict__``.

Type checkers read a record as a frozen dataclass (PEP 681's ``dataclass_transform``).
``dataclasses.replace`` and ``dataclasses.fields`` do not apply: a class that callers replace
fields of stays a dataclass (``decision.Decision``).
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

C = TypeVar("C", bound=type)


class FrozenRecordError(AttributeError):
    """An attempt to change a record (as ``dataclasses.FrozenInstanceError``)."""


@overload
def record(cls: C, /) -> C: ...
@overload
def record(*, order: bool = False) -> Callable[[C], C]: ...


@dataclass_transform(frozen_default=True)
def record(cls: C | None = None, /, *, order: bool = False) -> C | Callable[[C], C]:
    """Make ``cls`` a frozen record of its annotated fields (``order``: comparable too)."""

    def make(cls: C) -> C:
        return _make(cls, order)

    return make if cls is None else make(cls)


def _make(cls: C, order: bool) -> C:
    fields = tuple(inspect.get_annotations(cls))
    defaults = {name: cls.__dict__[name] for name in fields if name in cls.__dict__}
    # The one compiled method: an __init__ with the fields as parameters, as a dataclass's.
    parameters = ", ".join(f"{name}=_defaults[{name!r}]" if name in defaults else name for name in fields)
    body = "".join(f"\n    _set(self, {name!r}, {name})" for name in fields) or "\n    pass"
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_defaults": defaults}
    exec(f"def __init__(self, {parameters}):{body}", namespace)  # noqa: S102 (our own field names)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    methods: dict[str, Any] = {
        "__init__": init,
        "__record_fields__": fields,
        "__record_values__": operator.attrgetter(*fields) if fields else staticmethod(lambda record: ()),
        "__match_args__": fields,
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash,
        "__setattr__": _frozen,
        "__delattr__": _frozen,
    }
    if order:
        methods.update({"__lt__": _lt, "__le__": _le, "__gt__": _gt, "__ge__": _ge})
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_fields__)
    return f"{type(self).__qualname__}({fields})"


def _eq(self: Any, other: Any) -> bool:
    # Written out, not made by _comparison: equality is on the hot paths (dictionary keys).
    if other.__class__ is self.__class__:
        values = self.__record_values__
        return bool(values(self) == values(other))
    return NotImplemented  # type: ignore[no-any-return]


def _hash(self: Any) -> int:
    return hash(self.__record_values__(self))


def _frozen(self: Any, name: str, *value: object) -> None:
    raise FrozenRecordError(f"{type(self).__name__} is frozen: {name!r} cannot be changed")


def _comparison(test: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    """Records of one class ordered as the tuples of their fields (``test``: ``operator.lt``
    and so on); NotImplemented for another class."""

    def compare(self: Any, other: Any) -> bool:
        if other.__class__ is self.__class__:
            values = self.__record_values__
            return bool(test(values(self), values(other)))
        return NotImplemented  # type: ignore[no-any-return]

    compare.__name__ = compare.__qualname__ = f"__{test.__name__}__"
    return compare


_lt, _le, _gt, _ge = (_comparison(test) for test in (operator.lt, operator.le, operator.gt, operator.ge))
