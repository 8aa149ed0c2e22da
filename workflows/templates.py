"""What each workflow type does, step by step: served by `GET /api/workflows/templates` and run by the workflows.

A template names its steps in order. Each step is one of six kinds (`StepKind`):
- `produce`: one agent writes something (a document or code; code blocks become artifacts);
- `review_loop`: one agent writes, a reviewer judges, and the author revises until approved or out of rounds;
- `decide`: a lead proposes variants, the team votes, the lead justifies the choice;
- `code`: the developer writes the module(s) the requirement asks for, checked to import (the one of k candidates
  passing the most tests goes on);
- `tests`: the tester writes pytest tests from the requirement, seeing only the module's signatures;
- `test_run`: the sandbox runs the tests; the developer repairs from the failures, round after round, and the
  reviewer may rule out a test that contradicts the requirement (the team votes on it).

The workflow classes (`workflows/<type>.py`) walk these same definitions, so what the API describes is what runs.
Plain data only: this module is imported by workflow code and must stay deterministic.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from db.enums import AgentRole, WorkflowType

DEFAULT_REVIEW_ROUNDS = 1
MAX_REVIEW_ROUNDS = 5
DEFAULT_TEST_ROUNDS = 3
MAX_TEST_ROUNDS = 6
DEFAULT_CANDIDATES = 1
MAX_CANDIDATES = 4
DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600


class StepKind(StrEnum):
    PRODUCE = "produce"
    REVIEW_LOOP = "review_loop"
    DECIDE = "decide"
    CODE = "code"
    TESTS = "tests"
    TEST_RUN = "test_run"


@dataclass(frozen=True)
class StepSpec:
    name: str
    title: str
    kind: StepKind
    # Who writes (produce, review_loop, code, tests), leads the decision (decide) or repairs (test_run).
    role: AgentRole
    task: str
    # review_loop: who judges the work; test_run: who may rule out a test.
    reviewer_role: AgentRole | None = None
    # decide, test_run: who votes besides the lead (those of these roles the project has).
    voter_roles: tuple[AgentRole, ...] = ()
    # An optional step is skipped, not failed, when the project has no agent of its role.
    optional: bool = False
    # produce: whether the author checks its draft against the task before finishing (one more model call).
    self_check: bool = False

    @property
    def roles(self) -> tuple[AgentRole, ...]:
        """The roles the step cannot run without."""
        return (self.role, self.reviewer_role) if self.reviewer_role else (self.role,)


@dataclass(frozen=True)
class InputSpec:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class WorkflowTemplate:
    workflow_type: WorkflowType
    title: str
    description: str
    steps: tuple[StepSpec, ...]
    inputs: tuple[InputSpec, ...] = field(default=())

    @property
    def required_roles(self) -> list[AgentRole]:
        roles = [r for s in self.steps if not s.optional for r in s.roles]
        return list(dict.fromkeys(roles))

    @property
    def optional_roles(self) -> list[AgentRole]:
        required = set(self.required_roles)
        roles = [r for s in self.steps for r in (*s.roles, *s.voter_roles) if r not in required]
        return list(dict.fromkeys(roles))

    @property
    def step_kinds(self) -> set[str]:
        return {s.kind.value for s in self.steps}

    def step(self, name: str) -> StepSpec:
        for spec in self.steps:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.workflow_type} has no step {name!r}")


def _inputs(requirement: str, *, review: bool = False, code: bool = False) -> tuple[InputSpec, ...]:
    """The inputs a run of the template takes: the requirement, and the options that apply to its steps."""
    reviewing = InputSpec(
        "options.max_review_rounds",
        f"Revisions a reviewer may ask for in each review loop (0-{MAX_REVIEW_ROUNDS}, "
        f"default {DEFAULT_REVIEW_ROUNDS}).",
    )
    coding = InputSpec(
        "options.code",
        f"The test loop: `rounds` of tests in the sandbox, the first included (1-{MAX_TEST_ROUNDS}, default "
        f"{DEFAULT_TEST_ROUNDS}), and `candidates`, the modules written at first, of which the one passing most "
        f"tests goes on (1-{MAX_CANDIDATES}, default {DEFAULT_CANDIDATES}).",
    )
    approval = InputSpec(
        "options.approval",
        "Decisions that wait for a person's approval: `decisions` (step names, or ['*'] for all), "
        f"`timeout_seconds` (default {DEFAULT_APPROVAL_TIMEOUT_SECONDS}) and `on_timeout` "
        "(`accept` the team's choice, the default, or `fail` the run).",
    )
    return (
        InputSpec("requirement", requirement, required=True),
        *([reviewing] if review else []),
        *([coding] if code else []),
        approval,
    )


def _file(kind: str, name: str) -> str:
    return f"Put it in one ```{kind} code block, with the file name `{name}` on the line just before the block."


CODE_FILES = (
    "Write complete, runnable Python: every function whole, no placeholders, no example calls at import time. "
    "Put each file in its own ```python code block, with its file name (e.g. `app/slug.py`) on the line just "
    "before the block."
)

TESTS_FROM_REQUIREMENT = (
    "Write pytest tests that check what the requirement states: its examples, its rules and the edge cases it names."
)
# The last step of each type that writes code: the same in each.
TEST_RUNS = StepSpec(
    "verification",
    "Test runs",
    StepKind.TEST_RUN,
    AgentRole.DEVELOPER,
    "Run the tests on the code in the sandbox; repair the code from the failing tests until they pass or the rounds "
    "run out.",
    reviewer_role=AgentRole.REVIEWER,
    voter_roles=(AgentRole.DEVELOPER, AgentRole.TESTER),
)

FEATURE_DEVELOPMENT = WorkflowTemplate(
    workflow_type=WorkflowType.FEATURE_DEVELOPMENT,
    title="Feature development",
    description="From a feature request to code whose tests pass: stories, a design decision, the code, tests "
    "written from the requirement, and test runs in a sandbox with repairs until they pass; then a short guide.",
    steps=(
        StepSpec(
            "requirements",
            "User stories",
            StepKind.PRODUCE,
            AgentRole.PRODUCT_OWNER,
            "Write the user stories with numbered acceptance criteria for the requirement. "
            + _file("markdown", "docs/requirements.md"),
        ),
        StepSpec(
            "design",
            "Design decision",
            StepKind.DECIDE,
            AgentRole.ARCHITECT,
            "How should the requirement be implemented (modules, main functions, data)?",
            voter_roles=(AgentRole.DEVELOPER, AgentRole.REVIEWER),
        ),
        StepSpec(
            "implementation",
            "Implementation",
            StepKind.CODE,
            AgentRole.DEVELOPER,
            "Write the module(s) that implement the requirement as decided in the design decision.",
        ),
        StepSpec("tests", "Tests", StepKind.TESTS, AgentRole.TESTER, TESTS_FROM_REQUIREMENT),
        TEST_RUNS,
        StepSpec(
            "documentation",
            "Guide",
            StepKind.PRODUCE,
            AgentRole.TECH_WRITER,
            "Write a short guide to the new feature: what it does, how to use it, one example. "
            + _file("markdown", "docs/feature.md"),
            optional=True,
        ),
    ),
    inputs=_inputs("The feature to build, as a user would ask for it.", code=True),
)

BUG_FIX = WorkflowTemplate(
    workflow_type=WorkflowType.BUG_FIX,
    title="Bug fix",
    description="From a bug report to a fix whose tests pass: analyse it, decide the fix, write the fixed code, "
    "tests that reproduce the bug, and test runs in a sandbox with repairs until they pass.",
    steps=(
        StepSpec(
            "reproduction",
            "Analysis",
            StepKind.PRODUCE,
            AgentRole.TESTER,
            "Analyse the bug report: the expected and the actual behaviour, how to trigger it, and the likely "
            "cause. " + _file("markdown", "docs/bug.md"),
        ),
        StepSpec(
            "fix_approach",
            "Fix decision",
            StepKind.DECIDE,
            AgentRole.DEVELOPER,
            "What is the right fix for this bug (and what must it not change)?",
            voter_roles=(AgentRole.REVIEWER, AgentRole.TESTER),
        ),
        StepSpec(
            "fix",
            "Fix",
            StepKind.CODE,
            AgentRole.DEVELOPER,
            "Write the fixed module(s): the code of the bug report with the bug fixed as decided, and nothing "
            "else changed.",
        ),
        StepSpec(
            "regression_tests",
            "Regression tests",
            StepKind.TESTS,
            AgentRole.TESTER,
            "Write pytest tests from the bug report: the case that triggers the bug, with the behaviour the "
            "report expects, then the behaviour that must not change.",
        ),
        TEST_RUNS,
    ),
    inputs=_inputs(
        "The bug: what happens, what should happen, how to trigger it (with the code, if it is short).", code=True
    ),
)

CODE_REVIEW = WorkflowTemplate(
    workflow_type=WorkflowType.CODE_REVIEW,
    title="Code review",
    description="A team review of submitted code: findings, a verdict voted by the team, and the author's "
    "answer to the findings.",
    steps=(
        StepSpec(
            "analysis",
            "Review",
            StepKind.PRODUCE,
            AgentRole.REVIEWER,
            "Review the submitted code: correctness, edge cases, security, readability. Give each finding a "
            "severity (blocker, major, minor) and a concrete fix. " + _file("markdown", "docs/review.md"),
        ),
        StepSpec(
            "verdict",
            "Verdict",
            StepKind.DECIDE,
            AgentRole.REVIEWER,
            "Should this change be merged as it is, merged after the listed fixes, or rejected?",
            voter_roles=(AgentRole.ARCHITECT, AgentRole.DEVELOPER),
        ),
        StepSpec(
            "response",
            "Author's response",
            StepKind.PRODUCE,
            AgentRole.DEVELOPER,
            "Answer the review: for each finding, fix it (show the corrected code) or explain why not. " + CODE_FILES,
        ),
    ),
    inputs=_inputs("The code or change to review, and what it is meant to do."),
)

REFACTORING = WorkflowTemplate(
    workflow_type=WorkflowType.REFACTORING,
    title="Refactoring",
    description="Improve the structure of existing code without changing its behaviour: assess, choose a plan, "
    "refactor, pin the behaviour in tests, and run them in a sandbox with repairs until they pass.",
    steps=(
        StepSpec(
            "assessment",
            "Assessment",
            StepKind.PRODUCE,
            AgentRole.ARCHITECT,
            "Assess the code: what makes it hard to change, and what must keep working exactly as now. "
            + _file("markdown", "docs/assessment.md"),
        ),
        StepSpec(
            "plan",
            "Refactoring plan",
            StepKind.DECIDE,
            AgentRole.ARCHITECT,
            "Which refactoring should we do, in what order, keeping the behaviour unchanged?",
            voter_roles=(AgentRole.DEVELOPER, AgentRole.REVIEWER),
        ),
        StepSpec(
            "refactor",
            "Refactor",
            StepKind.CODE,
            AgentRole.DEVELOPER,
            "Write the refactored module(s) following the chosen plan: the same names and behaviour as the "
            "code given, better structured.",
        ),
        StepSpec(
            "behaviour_tests",
            "Behaviour tests",
            StepKind.TESTS,
            AgentRole.TESTER,
            "Write pytest tests that pin the behaviour of the code given in the requirement, which the "
            "refactoring must keep: the results it gives for typical and edge-case inputs.",
        ),
        TEST_RUNS,
    ),
    inputs=_inputs("The code to refactor and what bothers you about it.", code=True),
)

DOCUMENTATION = WorkflowTemplate(
    workflow_type=WorkflowType.DOCUMENTATION,
    title="Documentation",
    description="Write documentation for a subject: outline, a decision on its structure, the document under review.",
    steps=(
        StepSpec(
            "outline",
            "Outline",
            StepKind.PRODUCE,
            AgentRole.TECH_WRITER,
            "Write an outline of the document: its readers, sections and what each covers. "
            + _file("markdown", "docs/outline.md"),
        ),
        StepSpec(
            "structure",
            "Structure decision",
            StepKind.DECIDE,
            AgentRole.TECH_WRITER,
            "Which structure serves the readers best?",
            voter_roles=(AgentRole.REVIEWER, AgentRole.DEVELOPER),
        ),
        StepSpec(
            "document",
            "Document",
            StepKind.REVIEW_LOOP,
            AgentRole.TECH_WRITER,
            "Write the document following the chosen structure; be accurate and concrete, with examples. "
            + _file("markdown", "docs/guide.md"),
            reviewer_role=AgentRole.REVIEWER,
        ),
    ),
    inputs=_inputs("What to document, for whom, and the facts or code it must cover.", review=True),
)

TEMPLATES: dict[WorkflowType, WorkflowTemplate] = {
    t.workflow_type: t for t in (FEATURE_DEVELOPMENT, BUG_FIX, CODE_REVIEW, REFACTORING, DOCUMENTATION)
}
