from fizzbuzz import fizzbuzz


def test_first_fifteen():
    assert fizzbuzz(15) == [
        "1", "2", "Fizz", "4", "Buzz", "Fizz", "7", "8", "Fizz", "Buzz", "11", "Fizz", "13", "14", "FizzBuzz",
    ]  # fmt: skip


def test_one():
    assert fizzbuzz(1) == ["1"]


def test_length():
    assert len(fizzbuzz(100)) == 100


def test_later_values():
    result = fizzbuzz(30)
    assert result[29] == "FizzBuzz"
    assert result[26] == "Fizz"
    assert result[24] == "Buzz"
    assert result[22] == "23"


def test_zero_and_negative_give_empty_list():
    assert fizzbuzz(0) == []
    assert fizzbuzz(-3) == []
