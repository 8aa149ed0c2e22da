"""What goes in and out of a run: its input, its steps' states, the signals a person sends, and the requests of the
bookkeeping activities. Plain dataclasses (Temporal's converter carries them as JSON); ids and short summaries only,
so a run's history stays small (prompts and outputs live in PostgreSQL and storage)."""

from dataclasses import dataclass, field
from enum import StrEnum

from workflows.templates import (
    DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    DEFAULT_CANDIDATES,
    DEFAULT_REVIEW_ROUNDS,
    DEFAULT_TEST_ROUNDS,
)

SUMMARY_CHARS = 300


def llm_task_queue(task_queue: str) -> str:
    """Model activities poll their own queue beside the workflows' one (docs/architecture.md, "The model inside
    activities")."""
    return f"{task_queue}-llm"


def integrations_task_queue(task_queue: str) -> str:
    """Jira and Confluence syncs poll their own queue too: a slow server never holds up a run's bookkeeping."""
    return f"{task_queue}-integrations"


def sandbox_task_queue(task_queue: str) -> str:
    """Test runs of the agents' code poll theirs: CPU-bound child processes, on hosts chosen to run them."""
    return f"{task_queue}-sandbox"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_FOR_APPROVAL = "waiting_for_approval"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STEP = (StepStatus.COMPLETED, StepStatus.SKIPPED)


@dataclass
class ApprovalOptions:
    # Decision steps (by name) whose choice waits for a person; ["*"] means every decision.
    decisions: list[str] = field(default_factory=list)
    timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS
    # When nobody answers in time: "accept" the team's choice, or "fail" the run.
    on_timeout: str = "accept"

    def applies_to(self, step: str) -> bool:
        return "*" in self.decisions or step in self.decisions


@dataclass
class CodeOptions:
    # Test runs in the sandbox, the first included; each later one follows a repair by the developer.
    rounds: int = DEFAULT_TEST_ROUNDS
    # Modules the developer writes at the start, and rewrites in each repair (other temperatures and seeds); the one
    # passing most tests goes on.
    candidates: int = DEFAULT_CANDIDATES


@dataclass
class RunOptions:
    max_review_rounds: int = DEFAULT_REVIEW_ROUNDS
    approval: ApprovalOptions = field(default_factory=ApprovalOptions)
    code: CodeOptions = field(default_factory=CodeOptions)
    # The sampling seed of the run's model calls (the activities read it from the run's row; kept here as sent).
    seed: int | None = None


@dataclass
class RunInput:
    workflow_id: str
    options: RunOptions = field(default_factory=RunOptions)
    # Seconds without a heartbeat after which a model activity is retried (its worker is presumed dead).
    heartbeat_timeout_seconds: float = 30
    # Attempts of a Jira or Confluence sync before the run records it as failed and goes on.
    integration_attempts: int = 5


@dataclass
class TeamMember:
    agent_id: str
    name: str
    role: str
    max_tokens: int


@dataclass
class Team:
    members: list[TeamMember]
    # The systems the run is mirrored into (`jira`, `confluence`), as its project asks.
    integrations: list[str] = field(default_factory=list)

    def first(self, role: str) -> TeamMember | None:
        return next((m for m in self.members if m.role == role), None)


@dataclass
class TestTally:
    """Where a step that runs tests stands: the last round's counts (what the run may claim), and how it got there."""

    __test__ = False  # not a pytest test class, whatever its name

    status: str = "pending"  # passed, failed, error, stopped (a limit), invalid (no usable module or tests)
    round: int = 0
    passed: int = 0
    total: int = 0
    ruled_out: int = 0
    candidates: int = 0
    reason: str | None = None


@dataclass
class StepState:
    name: str
    title: str
    kind: str
    status: str = StepStatus.PENDING.value
    agent: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int | None = None
    summary: str = ""
    error: str | None = None
    decision_id: str | None = None
    artifacts: list[str] = field(default_factory=list)
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tests: TestTally | None = None


@dataclass
class RunProgress:
    """What the `progress` query answers (and what the `workflows` row holds in `steps` and `metrics`)."""

    status: str
    current_step: str | None
    completed_steps: int
    total_steps: int
    progress_percentage: int
    steps: list[StepState]
    prompt_tokens: int
    completion_tokens: int
    awaiting_approval: str | None = None
    # The Temporal run reporting (a reset, by the API's resume or `temporal workflow reset`, starts a new one).
    run_id: str = ""


# --- signals ------------------------------------------------------------------------------------------------


@dataclass
class HumanMessage:
    """A person's message to the team; the next agent turn sees it. `message_id` makes a re-sent signal harmless
    (the API sets it to the row it stored; without one the run derives it)."""

    content: str
    author: str = "user"
    message_id: str | None = None
    parent_message_id: str | None = None  # a reply in this message's thread


@dataclass
class DecisionApproval:
    """A person's answer to a decision that waits: `approve` the team's choice or `override` it with a variant."""

    decision_id: str
    action: str = "approve"
    variant_id: str | None = None
    comment: str = ""
    author: str = "user"


# --- bookkeeping activities -----------------------------------------------------------------------------------


@dataclass
class StartRequest:
    workflow_id: str
    workflow_type: str
    progress: RunProgress


@dataclass
class ProgressUpdate:
    """The run's whole progress after `step` changed to `progress.steps[i].status`."""

    workflow_id: str
    step: str
    progress: RunProgress
    # True when the step just finished: a resume restarts the run after the last such boundary.
    boundary: bool = False


@dataclass
class StatusUpdate:
    workflow_id: str
    status: str
    error: str | None = None
    progress: RunProgress | None = None
    # When a finished run ended, by the workflow's clock (the time its last Jira and Confluence sync showed).
    at: str | None = None


@dataclass
class HumanMessageRequest:
    workflow_id: str
    message: HumanMessage


@dataclass
class ApprovalRequest:
    workflow_id: str
    step: str
    decision_id: str
    # None: nobody answered before the timeout, and the team's choice stands.
    approval: DecisionApproval | None


@dataclass
class ApprovalOutcome:
    chosen_variant_id: str
    overridden: bool
    note: str


def summary_of(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
