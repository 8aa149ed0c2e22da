"""The steps the code-writing workflow types ran before the code loop (tests run in a sandbox) was added.

A run started before that keeps them: its Temporal history was written by these steps, and replaying it (a worker
restart, a resume) must issue the same commands. The workflows choose them when `workflow.patched(CODE_LOOP)` is
false, which it is only for such a history (Temporal's patching). Once no such run is left open or resumable, this
module and those branches can go.

What replay compares is the kind and order of the commands and the activity types, not the activities' inputs: a
step that is the same today (its kind and roles) is taken from the current template; the steps that were different
are kept here as they were.
"""

from db.enums import AgentRole, WorkflowType
from workflows.templates import (
    BUG_FIX,
    CODE_FILES,
    FEATURE_DEVELOPMENT,
    REFACTORING,
    StepKind,
    StepSpec,
    WorkflowTemplate,
    _file,
    _inputs,
)

CODE_LOOP = "code-loop"


def _code_under_review(name: str, title: str, task: str) -> StepSpec:
    """The step the code loop replaced: the developer writes the code, the reviewer judges it, until approved."""
    return StepSpec(
        name,
        title,
        StepKind.REVIEW_LOOP,
        AgentRole.DEVELOPER,
        task + CODE_FILES,
        reviewer_role=AgentRole.REVIEWER,
        self_check=True,
    )


FEATURE_DEVELOPMENT_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.FEATURE_DEVELOPMENT,
    title="Feature development",
    description="From a feature request to reviewed code with tests: stories, a design decision, "
    "implementation under review, tests and a short guide.",
    steps=(
        FEATURE_DEVELOPMENT.step("requirements"),
        FEATURE_DEVELOPMENT.step("design"),
        _code_under_review(
            "implementation", "Implementation", "Implement the requirement as decided in the design decision. "
        ),
        StepSpec(
            "tests",
            "Tests",
            StepKind.PRODUCE,
            AgentRole.TESTER,
            "Write pytest tests for the implementation that check the acceptance criteria and the edge cases. "
            + _file("python", "tests/test_feature.py"),
        ),
        FEATURE_DEVELOPMENT.step("documentation"),
    ),
    inputs=_inputs("The feature to build, as a user would ask for it.", review=True),
)

BUG_FIX_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.BUG_FIX,
    title="Bug fix",
    description="From a bug report to a reviewed fix: reproduce it in a test, decide the fix, fix under review, "
    "verify.",
    steps=(
        StepSpec(
            "reproduction",
            "Reproduce",
            StepKind.PRODUCE,
            AgentRole.TESTER,
            "Analyse the bug report: the expected and the actual behaviour, the likely cause, and a pytest test that "
            "fails while the bug is there. " + _file("python", "tests/test_bug.py"),
        ),
        BUG_FIX.step("fix_approach"),
        _code_under_review(
            "fix", "Fix", "Fix the bug as decided, with the smallest change that makes the reproduction test pass. "
        ),
        StepSpec(
            "verification",
            "Verify",
            StepKind.PRODUCE,
            AgentRole.TESTER,
            "Check the fix against the bug report and the reproduction test; list what you verified and any "
            "regression risk. " + _file("markdown", "docs/verification.md"),
        ),
    ),
    inputs=_inputs("The bug: what happens, what should happen, how to trigger it.", review=True),
)

REFACTORING_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.REFACTORING,
    title="Refactoring",
    description="Improve the structure of existing code without changing its behaviour: assess, choose a plan, "
    "refactor under review, verify.",
    steps=(
        REFACTORING.step("assessment"),
        REFACTORING.step("plan"),
        _code_under_review(
            "refactor", "Refactor", "Refactor the code following the chosen plan; the behaviour must not change. "
        ),
        StepSpec(
            "verification",
            "Behaviour tests",
            StepKind.PRODUCE,
            AgentRole.TESTER,
            "Write pytest tests that pin the behaviour the refactoring must keep. "
            + _file("python", "tests/test_behaviour.py"),
            optional=True,
        ),
    ),
    inputs=_inputs("The code to refactor and what bothers you about it.", review=True),
)
