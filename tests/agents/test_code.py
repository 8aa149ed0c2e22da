"""The reviewer's ruling on failing tests, on the scripted model: only the failing tests' names, each once."""

from agents.code import RuledOut, rule_on_tests
from agents.config import AgentConfig
from agents.llm.scripted import ScriptedBackend
from agents.prompts import FailingTest
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
    ruled, usage = rule_on_tests(ScriptedBackend([answer]), REVIEWER, "f returns its argument.", FAILURES)
    assert ruled == [RuledOut("tests/test_a.py::test_y", "The requirement says f(2) is 2.")]
    assert usage.completion_tokens > 0


def test_a_ruling_that_stays_unreadable_rules_out_nothing():
    unknown = '{"rule_out": [{"test": "tests/test_a.py::test_made_up", "reason": "x"}]}'
    backend = ScriptedBackend([unknown] * 5)
    ruled, _ = rule_on_tests(backend, REVIEWER, "f returns its argument.", FAILURES)
    assert ruled == [] and len(backend.requests) >= 2  # it was asked again before giving up
