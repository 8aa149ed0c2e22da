from brackets import is_balanced


def test_balanced_examples():
    assert is_balanced("a(b[c]{d})") is True
    assert is_balanced("{[()()]}") is True


def test_mismatched_pair():
    assert is_balanced("(]") is False


def test_wrong_nesting_order():
    assert is_balanced("([)]") is False


def test_closing_before_opening():
    assert is_balanced(")(") is False


def test_unclosed_opening():
    assert is_balanced("((a)") is False


def test_extra_closing():
    assert is_balanced("(a))") is False


def test_empty_and_no_brackets():
    assert is_balanced("") is True
    assert is_balanced("just text") is True
