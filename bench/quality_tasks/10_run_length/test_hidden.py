import pytest
from rle import decode, encode


def test_encode_example():
    assert encode("aaabcc") == "3a1b2c"


def test_encode_long_run():
    assert encode("a" * 12) == "12a"


def test_encode_single_and_empty():
    assert encode("x") == "1x"
    assert encode("") == ""


def test_encode_spaces_and_case():
    assert encode("aA  ") == "1a1A2 "


def test_decode_examples():
    assert decode("3a1b2c") == "aaabcc"
    assert decode("12a") == "a" * 12
    assert decode("") == ""


def test_round_trip():
    text = "wwwwaaadexxxxxxywwwwwwwwwwwww"
    assert decode(encode(text)) == text


def test_decode_character_without_count_raises():
    for text in ("a", "3ab"):
        with pytest.raises(ValueError):
            decode(text)


def test_decode_count_without_character_raises():
    with pytest.raises(ValueError):
        decode("3")
