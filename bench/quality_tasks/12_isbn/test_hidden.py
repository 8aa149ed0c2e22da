from isbn import is_valid_isbn10


def test_valid_with_hyphens():
    assert is_valid_isbn10("0-306-40615-2") is True


def test_valid_without_hyphens():
    assert is_valid_isbn10("0306406152") is True


def test_valid_with_x_check_digit():
    assert is_valid_isbn10("080442957X") is True
    assert is_valid_isbn10("0-8044-2957-X") is True


def test_wrong_check_digit():
    assert is_valid_isbn10("0306406153") is False


def test_x_not_last_is_invalid():
    assert is_valid_isbn10("X123456789") is False


def test_wrong_length():
    assert is_valid_isbn10("") is False
    assert is_valid_isbn10("03064061") is False
    assert is_valid_isbn10("03064061521") is False


def test_other_characters_are_invalid():
    assert is_valid_isbn10("03064A6152") is False
