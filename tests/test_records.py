"""A record behaves as the frozen dataclass it stands for: same construction, equality,
hashing, ordering, repr, immutability and pickling."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyclingo_bridge.records import FrozenRecordError, record


@record(order=True)
class Point:
    x: int
    label: str = ""
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, order=True)
class DataPoint:
    x: int
    label: str = ""
    tags: tuple[str, ...] = ()


@record
class Other:
    x: int
    label: str = ""
    tags: tuple[str, ...] = ()


ARGUMENTS = st.tuples(st.integers(-3, 3), st.sampled_from(["", "a", "b"]), st.sampled_from([(), ("t",)]))


@given(ARGUMENTS, ARGUMENTS)
def test_a_record_compares_hashes_and_orders_as_the_frozen_dataclass(
    one: tuple[int, str, tuple[str, ...]], two: tuple[int, str, tuple[str, ...]]
) -> None:
    a, b, data_a, data_b = Point(*one), Point(*two), DataPoint(*one), DataPoint(*two)
    assert (a == b, a != b, a < b, a <= b, a > b, a >= b) == (
        data_a == data_b, data_a != data_b, data_a < data_b, data_a <= data_b, data_a > data_b, data_a >= data_b
    )
    if a == b:
        assert hash(a) == hash(b)
    assert repr(a).replace("Point", "DataPoint", 1) == repr(data_a)
    assert pickle.loads(pickle.dumps(a)) == a and copy.deepcopy(a) == a and copy.copy(a) == a


def test_keywords_defaults_and_a_missing_field_are_as_a_dataclass_takes_them() -> None:
    assert Point(1) == Point(x=1, label="", tags=()) and Point(1, tags=("t",)).tags == ("t",)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, "a", (), 4)  # type: ignore[call-arg]


def test_a_record_cannot_be_changed() -> None:
    point = Point(1, "a")
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.label  # type: ignore[misc]
    assert point == Point(1, "a")


def test_records_of_different_classes_are_never_equal() -> None:
    assert Point(1) != Other(1) and Point(1) != (1, "", ())
    with pytest.raises(TypeError):
        assert Point(1) < Other(2)  # type: ignore[operator]
