import pytest
from intervals import merge


def test_example_from_the_requirement():
    assert merge([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_touching_intervals_merge():
    assert merge([(1, 2), (2, 3)]) == [(1, 3)]


def test_unsorted_input():
    assert merge([(8, 10), (1, 3), (2, 6)]) == [(1, 6), (8, 10)]


def test_contained_interval():
    assert merge([(1, 10), (2, 3), (4, 5)]) == [(1, 10)]


def test_disjoint_intervals_stay():
    assert merge([(5, 6), (1, 2)]) == [(1, 2), (5, 6)]


def test_single_point_and_empty():
    assert merge([(4, 4)]) == [(4, 4)]
    assert merge([]) == []


def test_start_after_end_raises():
    with pytest.raises(ValueError):
        merge([(1, 2), (5, 3)])
