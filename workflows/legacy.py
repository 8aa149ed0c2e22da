"""The steps the code-writing workflow types ran before the code loop (tests run in a sandbox) was added.

A run started before that keeps them: its Temporal history was written by these steps, and replaying it (a worker
restart, a resume) must issue the same commands. The workflows choose them when `workflow.patched(CODE_LOOP)` is
false, which it is only for such a history (Temporal's patching). Once no such run is left open or resumable, this
module and those branches can go.
"""

from db.enums import WorkflowType
from workflows.templates import CODE_FILES, A, D, P, R, StepKind, StepSpec, T, W, WorkflowTemplate, _file, _inputs

CODE_LOOP = "code-loop"

FEATURE_DEVELOPMENT_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.FEATURE_DEVELOPMENT,
    title="Feature development",
    description="From a feature request to reviewed code with tests: stories, a design decision, "
    "implementation under review, tests and a short guide.",
    steps=(
        StepSpec("requirements", "User stories", StepKind.PRODUCE, P,
                 "Write the user stories with numbered acceptance criteria for the requirement. "
                 + _file("markdown", "docs/requirements.md")),
        StepSpec("design", "Design decision", StepKind.DECIDE, A,
                 "How should the requirement be implemented (modules, main functions, data)?",
                 voter_roles=(D, R)),
        StepSpec("implementation", "Implementation", StepKind.REVIEW_LOOP, D,
                 "Implement the requirement as decided in the design decision. " + CODE_FILES,
                 reviewer_role=R, self_check=True),
        StepSpec("tests", "Tests", StepKind.PRODUCE, T,
                 "Write pytest tests for the implementation that check the acceptance criteria and the edge "
                 "cases. " + _file("python", "tests/test_feature.py")),
        StepSpec("documentation", "Guide", StepKind.PRODUCE, W,
                 "Write a short guide to the new feature: what it does, how to use it, one example. "
                 + _file("markdown", "docs/feature.md"), optional=True),
    ),
    inputs=_inputs("The feature to build, as a user would ask for it.", review=True),
)  # fmt: skip

BUG_FIX_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.BUG_FIX,
    title="Bug fix",
    description="From a bug report to a reviewed fix: reproduce it in a test, decide the fix, fix under review, "
    "verify.",
    steps=(
        StepSpec("reproduction", "Reproduce", StepKind.PRODUCE, T,
                 "Analyse the bug report: the expected and the actual behaviour, the likely cause, and a pytest "
                 "test that fails while the bug is there. " + _file("python", "tests/test_bug.py")),
        StepSpec("fix_approach", "Fix decision", StepKind.DECIDE, D,
                 "What is the right fix for this bug (and what must it not change)?", voter_roles=(R, T)),
        StepSpec("fix", "Fix", StepKind.REVIEW_LOOP, D,
                 "Fix the bug as decided, with the smallest change that makes the reproduction test pass. "
                 + CODE_FILES, reviewer_role=R, self_check=True),
        StepSpec("verification", "Verify", StepKind.PRODUCE, T,
                 "Check the fix against the bug report and the reproduction test; list what you verified and "
                 "any regression risk. " + _file("markdown", "docs/verification.md")),
    ),
    inputs=_inputs("The bug: what happens, what should happen, how to trigger it.", review=True),
)  # fmt: skip

REFACTORING_V1 = WorkflowTemplate(
    workflow_type=WorkflowType.REFACTORING,
    title="Refactoring",
    description="Improve the structure of existing code without changing its behaviour: assess, choose a plan, "
    "refactor under review, verify.",
    steps=(
        StepSpec("assessment", "Assessment", StepKind.PRODUCE, A,
                 "Assess the code: what makes it hard to change, and what must keep working exactly as now. "
                 + _file("markdown", "docs/assessment.md")),
        StepSpec("plan", "Refactoring plan", StepKind.DECIDE, A,
                 "Which refactoring should we do, in what order, keeping the behaviour unchanged?",
                 voter_roles=(D, R)),
        StepSpec("refactor", "Refactor", StepKind.REVIEW_LOOP, D,
                 "Refactor the code following the chosen plan; the behaviour must not change. " + CODE_FILES,
                 reviewer_role=R, self_check=True),
        StepSpec("verification", "Behaviour tests", StepKind.PRODUCE, T,
                 "Write pytest tests that pin the behaviour the refactoring must keep. "
                 + _file("python", "tests/test_behaviour.py"), optional=True),
    ),
    inputs=_inputs("The code to refactor and what bothers you about it.", review=True),
)  # fmt: skip
