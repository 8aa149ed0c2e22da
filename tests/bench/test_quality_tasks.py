"""The quality benchmark's tasks are sound: every reference passes its hidden tests in the sandbox, and a module
that does nothing fails them (so the hidden tests can fail)."""

from bench.task_suite import Attempt, check_tasks, load_tasks, score

WRONG = "def nothing():\n    pass\n"


def test_every_reference_passes_its_hidden_tests():
    tasks = load_tasks()
    assert len(tasks) >= 10
    for task in tasks:
        assert task.module.endswith(".py"), f"{task.key}: requirement.md names no module file"
        assert f"`{task.module}`" in task.requirement
        assert "/" not in task.module
        assert 4 <= task.tests <= 10, f"{task.key}: {task.tests} hidden tests"
    assert len({t.module for t in tasks}) == len(tasks), "two tasks share a module name"
    problems = {task.key: found for task, _, found in check_tasks(tasks, jobs=2) if found}
    assert problems == {}


def test_a_module_that_does_nothing_fails_every_task():
    tasks = load_tasks()
    assert tasks
    for task in tasks:
        attempt = Attempt(code=WRONG)
        score(task, attempt)  # the hidden tests, in the sandbox, on WRONG placed at the task's module file
        assert (task.key, attempt.ok, attempt.passed, attempt.total) == (task.key, False, 0, task.tests)
        assert attempt.note == "the tests could not import it", task.key
