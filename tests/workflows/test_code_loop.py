"""The code loop on a real Temporal dev server, PostgreSQL, S3 and sandbox, with a scripted model: the team runs the
code it writes, repairs it from the failing tests, never takes broken code for done, and may rule out a wrong test."""

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from activities.sandbox import Limits, run_pytest
from agents.llm import CompletionRequest
from agents.llm.scripted import ScriptedBackend, default_reply

from .support import events, messages, staffed_project, start_run, wait_for

REQUIREMENT = (
    "Write `textstats.py` with `word_count(text: str) -> int`: the number of words in the text, words being "
    "separated by any whitespace. An empty text has 0 words; `word_count('  a  b ')` is 2."
)
BUGGY = "```python\ndef word_count(text: str) -> int:\n    return len(text.split(' '))\n```"
WORSE = "```python\ndef word_count(text: str) -> int:\n    return 1\n```"
FIXED = "`textstats.py`\n```python\ndef word_count(text: str) -> int:\n    return len(text.split())\n```"
TESTS = """`tests/test_textstats.py`
```python
from textstats import word_count

def test_two_words():
    assert word_count("hello world") == 2

def test_empty_text_has_no_words():
    assert word_count("") == 0

def test_any_whitespace_separates():
    assert word_count("  a  b ") == 2
```"""
WRONG_TEST = """
def test_punctuation_is_a_word():
    assert word_count("a , b") == 2
```"""


def kind(request: CompletionRequest) -> str:
    """Which turn of the loop a request is, from its prompt."""
    prompt = request.messages[-1].content
    if request.json_schema is not None:
        return "ruling" if "rule_out" in json.dumps(request.json_schema) else "structured"
    if "Write the module again" in prompt:
        return "repair"
    if "The code to test provides" in prompt:
        return "tests"
    if "write the Python code that implements the requirement" in prompt:
        return "module"
    if "That answer cannot be used" in prompt:
        return "retry"
    return "other"


class Team:
    """The scripted model behind every agent: each kind of turn answers from its own list (the last one repeats)."""

    def __init__(self, **answers: list[str | Callable[[CompletionRequest], str]]) -> None:
        self.answers = answers
        self.prompts: dict[str, list[str]] = {}

    def __call__(self, request: CompletionRequest) -> str:
        turn = kind(request)
        self.prompts.setdefault(turn, []).append(request.messages[-1].content)
        queue = self.answers.get(turn)
        if not queue:
            return default_reply(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def backend(self) -> ScriptedBackend:
        return ScriptedBackend([self] * 500)


def run_files(api: TestClient, workflow_id: str, step: str) -> dict[str, str]:
    """The files a step stored (latest version of each path), as a user downloads them."""
    items = api.get(f"/api/workflows/{workflow_id}/artifacts?limit=200").json()["items"]
    files = {}
    for item in sorted(items, key=lambda a: a["created_at"]):
        if item["step"] == step:
            files[item["path"]] = api.get(f"/api/workflows/{workflow_id}/artifacts/{item['id']}").text
    return files


def step(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in run["steps"] if s["name"] == name)


def test_failing_code_is_repaired_in_round_2_and_the_stored_files_pass_again(api: TestClient, db: Engine, start_worker):
    # two candidates, written at once (which of them is answered first is up to the worker): one passes one test of
    # three, the other none; the better goes on and is repaired by two rewrites: one passes none, the other all
    team = Team(module=[BUGGY, WORSE], tests=[TESTS], repair=[WORSE, FIXED], ruling=['{"rule_out": []}'])
    start_worker(team.backend())
    project_id = staffed_project(api)
    workflow_id = start_run(api, project_id, requirement=REQUIREMENT, options={"code": {"candidates": 2}})

    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]
    metrics = run["metrics"]
    assert (metrics["code_status"], metrics["code_tests_passed"], metrics["code_tests_total"]) == ("passed", 3, 3)
    assert (metrics["code_rounds"], metrics["code_candidates"]) == (2, 2)
    assert step(run, "verification")["summary"].startswith("all 3 tests pass (round 2 of 3")

    # the tester saw the signature, not the body; the developer's repair prompt held the failing test and its error
    assert "def word_count(text: str) -> int: ..." in team.prompts["tests"][0]
    assert "split(' ')" not in team.prompts["tests"][0]
    repair = team.prompts["repair"][0]
    assert "1 of 3 pass" in repair and "tests/test_textstats.py::test_empty_text_has_no_words" in repair
    assert 'assert word_count("") == 0' in repair and "assert 1 == 0" in repair
    assert len(team.prompts["repair"]) == 2, "two rewrites in round 2, no repair after the tests pass"
    assert "split(' ')" not in repair, "a rewrite is not shown the failing code (a small model copies it back)"

    # each round was reported by the tester, as review messages and progress events with the counts
    rounds = [m for m in messages(api, workflow_id) if m["content"].startswith("Test round")]
    assert [m["message_type"] for m in rounds] == ["review"] * 4
    assert sorted(m["content"].split(":")[0] for m in rounds) == [
        "Test round 1, candidate 1 of 2",
        "Test round 1, candidate 2 of 2",
        "Test round 2, candidate 1 of 2",
        "Test round 2, candidate 2 of 2",
    ]
    first_round = [m["content"] for m in rounds if m["content"].startswith("Test round 1")]
    assert any("1 of 3 tests pass" in c for c in first_round)
    assert any("3 of 3 tests pass" in m["content"] for m in rounds if m["content"].startswith("Test round 2"))
    progress = [e.data["tests"] for e in events(db, workflow_id) if "tests" in e.data]
    counts = sorted((t["round"], t["passed"], t["total"]) for t in progress)
    assert counts == [(1, 0, 3), (1, 1, 3), (2, 0, 3), (2, 3, 3)]
    assert sorted((t["round"], t["candidate"]) for t in progress) == [(1, 1), (1, 2), (2, 1), (2, 2)]

    # the final module, its tests and the report are the step's files; run again, they pass as the report says
    files = run_files(api, workflow_id, "verification")
    assert set(files) == {
        "textstats.py",
        "tests/test_textstats.py",
        "reports/test-report.md",
        "reports/test-report.json",
    }
    assert "text.split()" in files["textstats.py"]
    report = json.loads(files["reports/test-report.json"])
    assert (report["status"], report["passed"], report["total"], report["candidates"]) == ("passed", 3, 3, 2)
    assert "**Passed**: all 3 tests pass (round 2" in files["reports/test-report.md"]
    again = run_pytest({p: t for p, t in files.items() if p.endswith(".py")}, limits=Limits(wall_seconds=30))
    assert (again.status, again.passed, again.total) == ("passed", 3, 3)


def test_broken_code_is_never_taken_for_done_and_the_rounds_are_bounded(api: TestClient, start_worker):
    # the developer answers with prose, then code that does not compile; its repairs compile but stay wrong
    team = Team(
        module=["I would count the words with split."],
        retry=["```python\ndef word_count(text:\n    return 0\n```"],
        tests=[TESTS],
        repair=[WORSE, BUGGY],
        ruling=['{"rule_out": []}'],
    )
    start_worker(team.backend())
    project_id = staffed_project(api)
    workflow_id = start_run(api, project_id, requirement=REQUIREMENT, options={"code": {"rounds": 3}})

    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]
    implementation = step(run, "implementation")
    assert implementation["summary"].startswith("no usable code yet: does not compile")
    said = messages(api, workflow_id)
    module_message = next(m for m in said if m["content"].startswith("```python\ndef word_count(text:"))
    assert "Not usable: does not compile" in module_message["content"]

    # round 1 did not run broken code: the repair was asked with the compile error; then 2 runs, then no more
    assert (
        "The last version of this code could not be tested: the code cannot be used: does not compile"
        in team.prompts["repair"][0]
    )
    rounds = [m["content"] for m in said if m["content"].startswith("Test round")]
    assert [r.split(" (")[0] for r in rounds] == ["Test round 2: 0 of 3 tests pass", "Test round 3: 1 of 3 tests pass"]
    assert len(team.prompts["repair"]) == 2, "a repair after round 1 and round 2; none after the last round"
    metrics = run["metrics"]
    assert (metrics["code_status"], metrics["code_rounds"], metrics["code_tests_passed"]) == ("failed", 3, 1)
    summary = step(run, "verification")["summary"]
    assert summary.startswith("NOT PASSING: 1 of 3 tests pass after 3 round(s)") and "all" not in summary
    files = run_files(api, workflow_id, "verification")
    assert "**Not passing**: 1 of 3 tests pass" in files["reports/test-report.md"]
    assert "Passed" not in files["reports/test-report.md"] and "split(' ')" in files["textstats.py"]


def test_the_team_may_rule_out_a_test_that_contradicts_the_requirement(api: TestClient, start_worker):
    """Two wrong tests: one fails its assertion, the other on the ValueError the requirement asks for."""

    def vote(request: CompletionRequest) -> str:  # every voter takes option B, in each decision
        if "variant_id" not in json.dumps(request.json_schema):
            return default_reply(request)
        return '{"variant_id": "B", "reason": "The requirement counts whitespace-separated words: 3."}'

    raises = FIXED.replace("    return", "    if text is None:\n        raise ValueError('no text')\n    return")
    wrong_none = "\ndef test_none_has_no_words():\n    assert word_count(None) == 0\n```"
    team = Team(
        module=[raises],
        tests=[TESTS.removesuffix("```") + WRONG_TEST.lstrip("\n").removesuffix("```") + wrong_none],
        ruling=[
            '{"rule_out": [{"test": "tests/test_textstats.py::test_punctuation_is_a_word", '
            '"reason": "Words are separated by whitespace, so a lone comma is a word."}, '
            '{"test": "tests/test_textstats.py::test_none_has_no_words", '
            '"reason": "The requirement says None raises ValueError."}]}'
        ],
        structured=[vote],
    )
    start_worker(team.backend())
    project_id = staffed_project(api)
    requirement = REQUIREMENT + " `word_count(None)` raises `ValueError`."
    workflow_id = start_run(api, project_id, requirement=requirement)

    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]
    metrics = run["metrics"]
    assert (metrics["code_status"], metrics["code_tests_passed"], metrics["code_tests_total"]) == ("passed", 3, 3)
    assert metrics["code_tests_ruled_out"] == 2 and metrics["code_rounds"] == 2
    assert "repair" not in team.prompts, "nothing was left to repair once the wrong test was ruled out"

    decisions = api.get(f"/api/communication/{workflow_id}/decisions").json()["items"]
    ruling = next(d for d in decisions if "Rule out" in d["problem"])
    assert "test_punctuation_is_a_word" in ruling["problem"] and ruling["chosen_variant_id"] == "B"
    assert len(ruling["votes"]) == 3 and all(v["reason"] for v in ruling["votes"])
    assert step(run, "verification")["decision_id"] == ruling["decision_id"]
    report = run_files(api, workflow_id, "verification")
    assert "test_punctuation_is_a_word`: Words are separated" in report["reports/test-report.md"]
    assert "test_none_has_no_words`: The requirement says None raises" in report["reports/test-report.md"]
    assert json.loads(report["reports/test-report.json"])["rerun"].endswith(
        "--deselect 'tests/test_textstats.py::test_punctuation_is_a_word' "
        "--deselect 'tests/test_textstats.py::test_none_has_no_words'"
    )


def test_code_kept_from_before_a_ruling_is_run_again_without_the_tests_ruled_out(api: TestClient, start_worker):
    def vote(request: CompletionRequest) -> str:
        if "variant_id" not in json.dumps(request.json_schema):
            return default_reply(request)
        return '{"variant_id": "B", "reason": "Whitespace separates words."}'

    # round 1: 1 of 4 pass, the wrong test is ruled out; the repair is worse (0 of 3): the first code is kept
    team = Team(
        module=[BUGGY],
        tests=[TESTS.removesuffix("```") + WRONG_TEST.lstrip("\n")],
        ruling=['{"rule_out": [{"test": "tests/test_textstats.py::test_punctuation_is_a_word", "reason": "No."}]}'],
        structured=[vote],
        repair=[WORSE],
    )
    start_worker(team.backend())
    workflow_id = start_run(api, staffed_project(api), requirement=REQUIREMENT, options={"code": {"rounds": 2}})

    run = wait_for(api, workflow_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["errors"]
    runs = ("Test round", "Final test run")
    said = [m["content"].split(" (")[0] for m in messages(api, workflow_id) if m["content"].startswith(runs)]
    assert said == [
        "Test round 1: 1 of 4 tests pass",
        "Test round 2: 0 of 3 tests pass",
        "Final test run of the code kept: 1 of 3 tests pass",
    ]
    metrics = run["metrics"]
    assert (metrics["code_status"], metrics["code_tests_passed"], metrics["code_tests_total"]) == ("failed", 1, 3)
    files = run_files(api, workflow_id, "verification")
    assert "split(' ')" in files["textstats.py"], "the code that did best is the one kept"
    report = json.loads(files["reports/test-report.json"])
    again = run_pytest(
        {p: t for p, t in files.items() if p.endswith(".py")},
        limits=Limits(wall_seconds=30),
        deselect=[r["test"] for r in report["ruled_out"]],
    )
    assert (again.passed, again.total) == (report["passed"], report["total"]) == (1, 3)
