from slugify import slugify


def test_example_from_the_requirement():
    assert slugify("  Hello, World!  ") == "hello-world"


def test_lower_case():
    assert slugify("Python") == "python"


def test_runs_of_separators_become_one_hyphen():
    assert slugify("a   b --- c") == "a-b-c"


def test_digits_are_kept():
    assert slugify("Top 10 Tips for 2024") == "top-10-tips-for-2024"


def test_symbols():
    assert slugify("C++ & Python") == "c-python"


def test_already_a_slug():
    assert slugify("already-a-slug") == "already-a-slug"


def test_empty_and_symbols_only():
    assert slugify("") == ""
    assert slugify("!!! ---") == ""
