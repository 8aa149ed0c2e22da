import pytest
from duration import parse_duration


def test_single_units():
    assert parse_duration("45s") == 45
    assert parse_duration("2h") == 7200
    assert parse_duration("10m") == 600


def test_combined_units():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1h2m3s") == 3723
    assert parse_duration("5m30s") == 330


def test_zero():
    assert parse_duration("0s") == 0


def test_surrounding_spaces_are_ignored():
    assert parse_duration(" 10m ") == 600


def test_empty_raises():
    with pytest.raises(ValueError):
        parse_duration("")


def test_number_without_unit_raises():
    with pytest.raises(ValueError):
        parse_duration("10")


def test_unknown_unit_raises():
    with pytest.raises(ValueError):
        parse_duration("5x")


def test_wrong_order_or_repeated_raises():
    for text in ("30m1h", "1h1h"):
        with pytest.raises(ValueError):
            parse_duration(text)


def test_unit_without_number_raises():
    with pytest.raises(ValueError):
        parse_duration("h")
