from wordcount import word_count


def test_simple_sentence():
    assert word_count("the cat and the hat") == {"the": 2, "cat": 1, "and": 1, "hat": 1}


def test_case_is_ignored():
    assert word_count("Hello hello HELLO") == {"hello": 3}


def test_punctuation_separates_words():
    assert word_count("Hello, world! Hello?") == {"hello": 2, "world": 1}


def test_newlines_and_tabs_separate_words():
    assert word_count("one\ntwo\tone") == {"one": 2, "two": 1}


def test_digits_separate_words():
    assert word_count("abc123def abc") == {"abc": 2, "def": 1}


def test_empty_string():
    assert word_count("") == {}


def test_no_letters():
    assert word_count("  123 ... !? ") == {}
