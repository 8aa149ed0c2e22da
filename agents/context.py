"""What an agent sees in a turn: the requirement, its task, the thread so far and earlier artifacts (plain data)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThreadMessage:
    author: str
    role: str  # an agent role, or "human" for a person
    message_type: str
    content: str


@dataclass(frozen=True)
class ArtifactText:
    path: str
    content: str


@dataclass(frozen=True)
class TurnContext:
    requirement: str
    step: str
    # What this turn must produce, in a sentence or two (from the workflow template's step).
    task: str
    thread: tuple[ThreadMessage, ...] = field(default_factory=tuple)
    artifacts: tuple[ArtifactText, ...] = field(default_factory=tuple)
