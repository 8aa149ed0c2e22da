import pytest
from stack import EmptyStackError, Stack


def test_new_stack_is_empty():
    stack = Stack()
    assert stack.is_empty()
    assert len(stack) == 0


def test_push_then_pop_is_last_in_first_out():
    stack = Stack()
    for item in (1, 2, 3):
        assert stack.push(item) is None
    assert [stack.pop(), stack.pop(), stack.pop()] == [3, 2, 1]
    assert stack.is_empty()


def test_peek_does_not_remove():
    stack = Stack()
    stack.push("a")
    stack.push("b")
    assert stack.peek() == "b"
    assert len(stack) == 2


def test_len_counts_items():
    stack = Stack()
    stack.push(None)
    stack.push(0)
    assert len(stack) == 2
    assert not stack.is_empty()


def test_pop_empty_raises():
    with pytest.raises(EmptyStackError):
        Stack().pop()


def test_peek_empty_raises():
    with pytest.raises(EmptyStackError):
        Stack().peek()


def test_pop_after_emptying_raises():
    stack = Stack()
    stack.push(1)
    stack.pop()
    with pytest.raises(EmptyStackError):
        stack.pop()


def test_error_is_an_exception():
    assert issubclass(EmptyStackError, Exception)
