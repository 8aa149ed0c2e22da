from search import binary_search


def test_found_in_the_middle():
    assert binary_search([1, 3, 5, 7, 9], 5) == 2


def test_found_at_the_ends():
    items = [1, 3, 5, 7, 9]
    assert binary_search(items, 1) == 0
    assert binary_search(items, 9) == 4


def test_not_found():
    items = [1, 3, 5, 7, 9]
    assert binary_search(items, 4) == -1
    assert binary_search(items, 0) == -1
    assert binary_search(items, 10) == -1


def test_empty_list():
    assert binary_search([], 3) == -1


def test_single_element():
    assert binary_search([4], 4) == 0
    assert binary_search([4], 5) == -1


def test_first_of_duplicates():
    assert binary_search([1, 2, 2, 2, 2, 3], 2) == 1
    assert binary_search([5, 5, 5, 5], 5) == 0


def test_large_list_and_unchanged():
    items = list(range(0, 20000, 2))
    assert binary_search(items, 12346) == 6173
    assert binary_search(items, 12347) == -1
    assert items == list(range(0, 20000, 2))
