from flatten import flatten


def test_example_from_the_requirement():
    assert flatten([1, [2, [3, [4]]], 5]) == [1, 2, 3, 4, 5]


def test_already_flat():
    assert flatten([1, 2, 3]) == [1, 2, 3]


def test_empty_lists_disappear():
    assert flatten([]) == []
    assert flatten([[], [[]]]) == []


def test_strings_tuples_and_dicts_are_kept():
    assert flatten(["ab", ("x", 1), [{"k": [1]}]]) == ["ab", ("x", 1), {"k": [1]}]


def test_none_and_falsy_values_are_kept():
    assert flatten([0, [None, [False, ""]]]) == [0, None, False, ""]


def test_input_is_not_modified():
    items = [1, [2, [3]]]
    flatten(items)
    assert items == [1, [2, [3]]]
