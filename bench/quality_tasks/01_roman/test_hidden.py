import pytest
from roman import to_roman


def test_single_symbols():
    assert [to_roman(n) for n in (1, 5, 10, 50, 100, 500, 1000)] == ["I", "V", "X", "L", "C", "D", "M"]


def test_additive_forms():
    assert to_roman(3) == "III"
    assert to_roman(8) == "VIII"
    assert to_roman(2023) == "MMXXIII"


def test_subtractive_forms():
    assert [to_roman(n) for n in (4, 9, 40, 90, 400, 900)] == ["IV", "IX", "XL", "XC", "CD", "CM"]


def test_examples_from_the_requirement():
    assert to_roman(1994) == "MCMXCIV"
    assert to_roman(3999) == "MMMCMXCIX"


def test_mixed_numbers():
    assert to_roman(14) == "XIV"
    assert to_roman(49) == "XLIX"
    assert to_roman(444) == "CDXLIV"


def test_below_range_raises_value_error():
    for n in (0, -1):
        with pytest.raises(ValueError):
            to_roman(n)


def test_above_range_raises_value_error():
    with pytest.raises(ValueError):
        to_roman(4000)
