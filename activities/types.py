"""The inputs and results of the activities: one dataclass in, one out, per activity (the workflows build them;
Temporal carries them as JSON). What the workflows themselves hand the bookkeeping activities (`StartRequest`,
`ProgressUpdate`, ...) is in workflows/types.py."""

from dataclasses import dataclass, field
from typing import Literal

from activities.sandbox import Limits, SandboxResult, TestOutcome
from db.enums import MessageType


@dataclass
class TurnRequest:
    workflow_id: str
    step: str
    # Names this turn within its step ("draft", "revision-2"); with the step and agent it derives every id.
    turn: str
    agent_id: str
    task: str
    kind: Literal["produce", "review"] = "produce"
    message_type: str = MessageType.PROPOSAL.value
    # For a review: what is judged, by artifact ids (their files) and/or a message id (its text); with neither,
    # the run's latest files.
    subject: str = "work"
    review_artifact_ids: list[str] = field(default_factory=list)
    review_message_id: str | None = None
    parent_message_id: str | None = None
    addressed_to: list[str] = field(default_factory=list)
    requires_response: bool = False
    urgency: str = "medium"
    self_check: bool = True


@dataclass
class TurnResult:
    message_id: str
    agent_name: str
    summary: str
    artifacts: list[dict[str, str]]
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    verdict: str | None = None
    findings: int = 0
    finish_reason: str = "stop"
    reused: bool = False


@dataclass
class DecisionRequest:
    workflow_id: str
    step: str
    key: str
    problem: str
    agent_ids: list[str]
    description: str = ""
    # Given variants ({"title", "description"}; ids A, B, C... are assigned in order); else the lead proposes.
    variants: list[dict[str, str]] | None = None


@dataclass
class DecisionOutcome:
    decision_id: str
    chosen_variant_id: str
    chosen_title: str
    tally: dict[str, int]
    votes: int
    discussion_thread_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reused: bool = False
    # The lead gave fewer than two distinct options: recorded with one, without a vote.
    uncontested: bool = False


@dataclass
class CodeRequest:
    workflow_id: str
    step: str
    # Names this turn in its step ("candidate-2", "repair-1", "tests"); with the step and agent it derives its ids.
    turn: str
    agent_id: str
    purpose: Literal["module", "repair", "tests"]
    task: str
    # repair: the code to fix; tests: the code whose signatures the tester sees ({"artifact_id", "path"} each).
    modules: list[dict[str, str]] = field(default_factory=list)
    # repair: the test files (the failing tests' code is shown), the failures and the counts of the last run.
    tests: list[dict[str, str]] = field(default_factory=list)
    failures: list[TestOutcome] = field(default_factory=list)
    passed: int = 0
    total: int = 0
    # repair: why the code could not be tested at all (it does not compile, a limit stopped it).
    problem: str | None = None
    # module: the n-th of the candidates (its temperature); repair: the round.
    attempt: int = 1
    # repair: the n-th of the round's rewrites (after the first, each a little warmer). Each has a seed of its own,
    # from its turn's name.
    candidate: int = 1
    parent_message_id: str | None = None
    addressed_to: list[str] = field(default_factory=list)


@dataclass
class CodeResult:
    message_id: str
    agent_name: str
    files: list[dict[str, str]]
    # Why the files cannot be used (no code, does not compile, no test); None: they can.
    error: str | None
    changes: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    reused: bool = False


@dataclass
class RulingRequest:
    workflow_id: str
    step: str
    turn: str
    agent_id: str
    tests: list[dict[str, str]]
    failures: list[TestOutcome]
    # At most this many tests may be ruled out (the workflow keeps most of the tests in force).
    limit: int
    parent_message_id: str | None = None


@dataclass
class RulingResult:
    message_id: str
    # {"test", "reason"} per test the reviewer finds contradicts the requirement.
    proposed: list[dict[str, str]]
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class TestRunRequest:
    __test__ = False  # not a pytest test class, whatever its name
    workflow_id: str
    step: str
    round: int
    # The n-th of `candidates` modules tested in this round (round 1 tests each candidate; later ones, one).
    candidate: int
    modules: list[dict[str, str]]
    tests: list[dict[str, str]]
    # The agent who reports the run (the tester), and the message of the code it tests.
    agent_id: str
    deselect: list[str] = field(default_factory=list)
    parent_message_id: str | None = None
    candidates: int = 1
    # The run of the code kept (from an earlier round), after tests were ruled out since.
    final: bool = False
    # None: the worker's own (SANDBOX_* settings): the host that runs the code sets what it can afford.
    limits: Limits | None = None


@dataclass
class TestRound:
    __test__ = False  # not a pytest test class, whatever its name
    message_id: str
    result: SandboxResult
    # The exception classes the requirement names (`ValueError`): a test failing on one of them may be wrong.
    named_errors: list[str] = field(default_factory=list)


@dataclass
class RoundSummary:
    round: int
    candidate: int
    status: str
    passed: int
    total: int
    reason: str | None = None


@dataclass
class TestOutcomeRequest:
    __test__ = False  # not a pytest test class, whatever its name
    workflow_id: str
    step: str
    agent_id: str
    modules: list[dict[str, str]]
    tests: list[dict[str, str]]
    # The last run of the final module: what the report (and the run) may claim.
    result: SandboxResult
    rounds: list[RoundSummary]
    max_rounds: int
    candidates: int
    ruled_out: list[dict[str, str]] = field(default_factory=list)


@dataclass
class SyncRequest:
    workflow_id: str
    # The status the run is about to record (its last sync) and when it ended (the workflow's clock); None while
    # it runs.
    final_status: str | None = None
    finished_at: str | None = None


@dataclass
class SyncResult:
    system: str
    status: str  # "synced", or "off" when the project no longer mirrors into the system
    created: int = 0
    changed: int = 0
    url: str | None = None


@dataclass
class SyncFailure:
    workflow_id: str
    system: str
    error: str
    final: bool = False  # the run's last sync (recorded even when the first failure said the same)
