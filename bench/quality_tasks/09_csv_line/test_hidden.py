import pytest
from csvline import parse_csv_line


def test_plain_fields():
    assert parse_csv_line("a,b,c") == ["a", "b", "c"]


def test_spaces_are_kept():
    assert parse_csv_line(" a , b") == [" a ", " b"]


def test_quoted_field_with_comma():
    assert parse_csv_line('a,"b,c",d') == ["a", "b,c", "d"]


def test_doubled_quotes_inside_quotes():
    assert parse_csv_line('"say ""hi"""') == ['say "hi"']


def test_empty_fields():
    assert parse_csv_line("a,,b") == ["a", "", "b"]
    assert parse_csv_line(",") == ["", ""]


def test_empty_line():
    assert parse_csv_line("") == [""]


def test_quoted_empty_field():
    assert parse_csv_line('"",x') == ["", "x"]


def test_missing_closing_quote_raises():
    with pytest.raises(ValueError):
        parse_csv_line('"abc')
