"""The reviewer's ruling on failing tests, on the scripted model: only the failing tests' names, each once."""

from agents.config import AgentConfig
from agents.llm.scripted import ScriptedBackend
from agents.prompts import FailingTest
from agents.ruling import RuledOut, rule_on_tests
from db.enums import AgentRole

REVIEWER = AgentConfig.from_template(AgentRole.REVIEWER)
FAILURES = [
    FailingTest("tests/test_a.py::test_x", "def test_x():\n    assert f(1) == 2", "assert 1 == 2"),
    FailingTest("tests/test_a.py::test_y", "def test_y():\n    assert f(2) == 3", "assert 2 == 3"),
]


def test_a_ruling_names_failing_tests_with_reasons():
    answer = (
        '{"rule_out": [{"test": "tests/test_a.py::test_y", "reason": "The requirement says f(2) is 2."}, '
        '{"test": "tests/test_a.py::test_y", "reason": "again"}]}'
    )
    ruling = rule_on_tests(ScriptedBackend([answer]), REVIEWER, "f returns its argument.", FAILURES)
    assert ruling.ruled_out == [RuledOut("tests/test_a.py::test_y", "The requirement says f(2) is 2.")]
    assert ruling.usage.completion_tokens > 0 and ruling.fallback is None


def test_a_ruling_that_stays_unreadable_rules_out_nothing():
    unknown = '{"rule_out": [{"test": "tests/test_a.py::test_made_up", "reason": "x"}]}'
    backend = ScriptedBackend([unknown] * 5)
    ruling = rule_on_tests(backend, REVIEWER, "f returns its argument.", FAILURES)
    assert ruling.ruled_out == [] and len(backend.requests) >= 2  # it was asked again before giving up
    assert ruling.fallback is not None and ruling.fallback.action == "tests_stand"
    assert ruling.usage.calls == len(backend.requests)  # the tokens of the unreadable answers are counted
