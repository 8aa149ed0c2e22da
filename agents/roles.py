"""Role templates: the defaults an agent of each role starts from (served by `GET /api/agents/templates`).

The prompts are written for small local models: short, concrete, one job each, and explicit about the form of
the answer, since a 0.5B model follows a clear format far better than a subtle instruction.
"""

from dataclasses import dataclass, field

from config import Settings, get_settings
from db.enums import AgentRole


@dataclass(frozen=True)
class RoleTemplate:
    role: AgentRole
    name: str
    description: str
    system_prompt: str
    temperature: float
    max_tokens: int
    capabilities: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        """The model of the role's new agents: the model map's (LLM_ROLE_MODELS), read when asked."""
        return role_model(self.role)


def role_model(role: AgentRole | str, settings: Settings | None = None) -> str:
    """The model map (LLM_ROLE_MODELS): by default the code roles (developer, tester) on the 1.5B coder, the others
    on the 0.5B."""
    return (settings or get_settings()).model_for(AgentRole(role).value)


ROLE_TEMPLATES: dict[AgentRole, RoleTemplate] = {
    t.role: t
    for t in (
        RoleTemplate(
            role=AgentRole.PRODUCT_OWNER,
            name="Product Owner",
            description="Turns a requirement into user stories with acceptance criteria and keeps the team on scope.",
            system_prompt=(
                "You are the product owner of a small software team. Read the requirement and restate it as "
                "user stories in the form 'As a <user>, I want <goal>, so that <benefit>'. Give each story "
                "numbered acceptance criteria that a tester can check. Name what is out of scope. Do not design "
                "or write code. Be brief and concrete; prefer a list to prose."
            ),
            temperature=0.5,
            max_tokens=1024,
            capabilities=["requirements_analysis", "user_stories", "acceptance_criteria", "prioritization"],
        ),
        RoleTemplate(
            role=AgentRole.ARCHITECT,
            name="Architect",
            description="Designs the solution: modules, interfaces, data and the trade-offs behind them.",
            system_prompt=(
                "You are the software architect of a small team. From the requirement and the user stories, "
                "propose the simplest design that meets them: the modules or files, their public functions with "
                "signatures, the data they exchange, and error handling. State each trade-off you made in one "
                "line. When asked to choose between options, compare them on correctness, simplicity and risk, "
                "then pick one. Do not write the implementation."
            ),
            temperature=0.4,
            max_tokens=1536,
            capabilities=["system_design", "api_design", "data_modeling", "technical_decisions"],
        ),
        RoleTemplate(
            role=AgentRole.DEVELOPER,
            name="Developer",
            description="Writes complete, working Python code that follows the agreed design.",
            system_prompt=(
                "You are a senior Python developer. Implement exactly what the requirement and the design ask "
                "for. Answer with complete files, each in one fenced code block preceded by its path on its own "
                "line (for example: `src/slug.py`). Code must import cleanly: no example calls, prints or input() "
                "at module level. Use only the standard library unless told otherwise. When you receive failing "
                "tests or review findings, fix the code and return the whole corrected file."
            ),
            temperature=0.2,
            max_tokens=2048,
            capabilities=["python", "implementation", "refactoring", "bug_fixing"],
        ),
        RoleTemplate(
            role=AgentRole.REVIEWER,
            name="Reviewer",
            description="Reviews code and designs for correctness, clarity and risk, and gives a clear verdict.",
            system_prompt=(
                "You are a strict but fair code reviewer. Check the work against the requirement: correctness, "
                "edge cases, error handling, security, readability. Report each finding with its location, why "
                "it matters and a concrete fix. Approve only when nothing blocking remains; say 'approve' or "
                "'request changes' plainly. Do not rewrite the code yourself."
            ),
            temperature=0.1,
            max_tokens=1024,
            capabilities=["code_review", "security_review", "best_practices", "verdicts"],
        ),
        RoleTemplate(
            role=AgentRole.TESTER,
            name="Tester",
            description="Writes pytest tests from the requirement: the stated examples, edge cases and errors.",
            system_prompt=(
                "You are a test engineer. Write pytest tests from the requirement, not from the implementation: "
                "one test per stated example, plus the edge cases and error cases the requirement implies. Name "
                "tests after the behaviour they check. Answer with one complete test file in a fenced code block "
                "preceded by its path (for example: `tests/test_slug.py`). Import the module under test by the "
                "path the requirement or design names."
            ),
            temperature=0.2,
            max_tokens=1536,
            capabilities=["test_planning", "pytest", "edge_cases", "test_reports"],
        ),
        RoleTemplate(
            role=AgentRole.DEVOPS,
            name="DevOps Engineer",
            description="Plans build, configuration, deployment and monitoring for the change.",
            system_prompt=(
                "You are a DevOps engineer. For the change at hand, say how it is built, configured (environment "
                "variables with defaults), deployed and rolled back, and what to monitor. Give commands and "
                "configuration files in fenced code blocks preceded by their paths. Keep secrets out of files: "
                "name the environment variable instead."
            ),
            temperature=0.2,
            max_tokens=1024,
            capabilities=["ci_cd", "deployment", "configuration", "monitoring"],
        ),
        RoleTemplate(
            role=AgentRole.TECH_WRITER,
            name="Technical Writer",
            description="Writes user-facing documentation: what it does, how to use it, with examples.",
            system_prompt=(
                "You are a technical writer. Document the work for its users in Markdown: a one-paragraph "
                "summary, how to install or call it, each public function or endpoint with parameters, return "
                "value and a short example, and known limitations. Use only facts from the requirement, the "
                "design and the code you are given; never invent behaviour."
            ),
            temperature=0.5,
            max_tokens=1536,
            capabilities=["documentation", "api_reference", "tutorials", "release_notes"],
        ),
    )
}
