import pytest
from temperature import UnknownUnitError, convert


def test_celsius_to_fahrenheit():
    assert convert(100, "C", "F") == 212.0
    assert convert(-40, "C", "F") == -40.0


def test_fahrenheit_to_celsius():
    assert convert(32, "F", "C") == 0.0
    assert convert(98.6, "F", "C") == 37.0


def test_kelvin():
    assert convert(0, "C", "K") == 273.15
    assert convert(0, "K", "C") == -273.15
    assert convert(300, "K", "F") == 80.33


def test_same_unit_is_rounded():
    assert convert(21.456, "C", "C") == 21.46


def test_unknown_unit_raises():
    with pytest.raises(UnknownUnitError):
        convert(1, "X", "C")
    with pytest.raises(UnknownUnitError):
        convert(1, "C", "celsius")


def test_unknown_unit_error_is_a_value_error():
    assert issubclass(UnknownUnitError, ValueError)


def test_below_absolute_zero_raises():
    with pytest.raises(ValueError):
        convert(-1, "K", "C")
    with pytest.raises(ValueError):
        convert(-300, "C", "F")
