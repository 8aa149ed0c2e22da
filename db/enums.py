"""The enumerations of DESIGN.md (Data). Stored as strings; the API's schemas validate them."""

from enum import StrEnum


class ProjectStatus(StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class ProjectType(StrEnum):
    WEB_APP = "web_app"
    API_SERVICE = "api_service"
    MOBILE_APP = "mobile_app"
    LIBRARY = "library"
    DATA_PIPELINE = "data_pipeline"
    OTHER = "other"


class WorkflowStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A run that may still do something (cancel and delete stop it first), and one that is over.
ACTIVE_WORKFLOW_STATUSES = (WorkflowStatus.PENDING, WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)
FINISHED_WORKFLOW_STATUSES = (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)


class WorkflowPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class WorkflowType(StrEnum):
    FEATURE_DEVELOPMENT = "feature_development"
    BUG_FIX = "bug_fix"
    CODE_REVIEW = "code_review"
    REFACTORING = "refactoring"
    DOCUMENTATION = "documentation"


class AgentRole(StrEnum):
    PRODUCT_OWNER = "product_owner"
    ARCHITECT = "architect"
    DEVELOPER = "developer"
    REVIEWER = "reviewer"
    TESTER = "tester"
    DEVOPS = "devops"
    TECH_WRITER = "tech_writer"


class AgentStatus(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    OFFLINE = "offline"
    ERROR = "error"


class MessageType(StrEnum):
    PROPOSAL = "proposal"
    QUESTION = "question"
    ANSWER = "answer"
    REVIEW = "review"
    DECISION = "decision"
    STATUS_UPDATE = "status_update"
    HANDOFF = "handoff"
    HUMAN = "human"


# `agent_role` of a message a person wrote (the agent roles are AgentRole).
HUMAN_ROLE = "human"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
