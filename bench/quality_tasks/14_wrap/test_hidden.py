import pytest
from wrap import wrap


def test_greedy_filling():
    assert wrap("the quick brown fox jumps over the lazy dog", 10) == [
        "the quick",
        "brown fox",
        "jumps over",
        "the lazy",
        "dog",
    ]


def test_line_may_be_exactly_width():
    assert wrap("aaa bbb", 7) == ["aaa bbb"]
    assert wrap("aaa bbb", 6) == ["aaa", "bbb"]


def test_whitespace_is_collapsed():
    assert wrap("  one\ttwo\n\nthree  ", 80) == ["one two three"]


def test_long_word_is_not_split():
    assert wrap("a supercalifragilistic b", 5) == ["a", "supercalifragilistic", "b"]


def test_no_words_gives_empty_list():
    assert wrap("", 10) == []
    assert wrap("   \n ", 10) == []


def test_width_below_one_raises():
    with pytest.raises(ValueError):
        wrap("text", 0)
