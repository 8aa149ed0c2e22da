"""A run's Confluence page in storage format (XHTML), built from plain data.

All text comes from people and models, so every piece of it is escaped (`text`), never pasted in as markup: a
requirement that says `<script>` or `&` shows those characters. Characters XML does not allow are dropped.
"""

import html
import re
from dataclasses import dataclass, field

MESSAGE_CHARS = 3_000  # of one message on the page; the whole message is in Conclave
MAX_MESSAGES = 300  # the latest ones; the page says how many more Conclave has

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text(value: object) -> str:
    return html.escape(_NOT_XML.sub("", str(value)), quote=True)


def paragraphs(value: str) -> str:
    """Plain text as paragraphs (blank lines) and line breaks, escaped."""
    blocks = [b for b in re.split(r"\n\s*\n", value.strip()) if b.strip()]
    return "".join("<p>" + "<br />".join(text(line) for line in b.splitlines()) + "</p>" for b in blocks) or "<p />"


def link(url: str | None, label: str) -> str:
    return f'<a href="{text(url)}">{text(label)}</a>' if url else text(label)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A table; `rows` hold markup already escaped by the caller."""
    head = "<tr>" + "".join(f"<th>{text(h)}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tbody>{head}{body}</tbody></table>"


@dataclass
class StepReport:
    title: str
    status: str
    agent: str | None
    summary: str
    error: str | None = None
    artifacts: list[str] = field(default_factory=list)
    jira_key: str | None = None
    jira_url: str | None = None


@dataclass
class VoteReport:
    agent: str
    variant_id: str
    reason: str


@dataclass
class DecisionReport:
    problem: str
    chosen: str
    variants: list[tuple[str, str, str]]  # id, title, description
    votes: list[VoteReport]
    justification: str


@dataclass
class ArtifactReport:
    path: str
    url: str
    size_bytes: int
    sha256: str
    agent: str | None


@dataclass
class MessageReport:
    author: str
    role: str
    message_type: str
    at: str
    content: str


@dataclass
class RunReport:
    workflow_id: str
    name: str
    workflow_type: str
    status: str
    priority: str
    project: str
    requirement: str
    description: str | None
    created_by: str
    started_at: str | None
    completed_at: str | None
    tokens: int
    conclave_url: str
    jira_epic_key: str | None = None
    jira_epic_url: str | None = None
    steps: list[StepReport] = field(default_factory=list)
    decisions: list[DecisionReport] = field(default_factory=list)
    artifacts: list[ArtifactReport] = field(default_factory=list)
    messages: list[MessageReport] = field(default_factory=list)
    total_messages: int = 0
    errors: list[str] = field(default_factory=list)


def render(run: RunReport) -> str:
    overview = [
        ["Run", link(run.conclave_url, run.workflow_id)],
        ["Type", text(run.workflow_type.replace("_", " "))],
        ["Status", text(run.status)],
        ["Priority", text(run.priority)],
        ["Project", text(run.project)],
        ["Started by", text(run.created_by)],
        ["Started", text(run.started_at or "-")],
        ["Finished", text(run.completed_at or "-")],
        ["Tokens", text(f"{run.tokens:,}")],
        ["Jira epic", link(run.jira_epic_url, run.jira_epic_key) if run.jira_epic_key else "-"],
    ]
    parts = [
        "<h2>Overview</h2>",
        f"<table><tbody>{''.join(f'<tr><th>{text(k)}</th><td>{v}</td></tr>' for k, v in overview)}</tbody></table>",
    ]
    if run.description:
        parts += [paragraphs(run.description)]
    parts += ["<h2>Requirement</h2>", paragraphs(run.requirement)]
    if run.errors:
        parts += ["<h2>Errors</h2>", "<ul>" + "".join(f"<li>{text(e)}</li>" for e in run.errors) + "</ul>"]
    parts += ["<h2>Steps</h2>", _steps(run.steps)]
    parts += ["<h2>Decisions</h2>", "".join(_decision(d) for d in run.decisions) or "<p>No decisions.</p>"]
    parts += ["<h2>Artifacts</h2>", _artifacts(run.artifacts)]
    parts += ["<h2>Agent communication</h2>", _messages(run)]
    return "".join(parts)


def _steps(steps: list[StepReport]) -> str:
    return table(["Step", "Agent", "Status", "Outcome", "Artifacts", "Jira"], [_step_row(s) for s in steps])


def _step_row(s: StepReport) -> list[str]:
    outcome = text(s.summary or "-") + (f"<br /><strong>Error:</strong> {text(s.error)}" if s.error else "")
    return [
        text(s.title),
        text(s.agent or "-"),
        text(s.status.replace("_", " ")),
        outcome,
        text(", ".join(s.artifacts) or "-"),
        link(s.jira_url, s.jira_key) if s.jira_key else "-",
    ]


def _decision(d: DecisionReport) -> str:
    variants = "".join(
        f"<li><strong>{text(i)}: {text(t)}</strong>" + (f" - {text(desc)}" if desc else "") + "</li>"
        for i, t, desc in d.variants
    )
    votes = table(["Agent", "Vote", "Reason"], [[text(v.agent), text(v.variant_id), text(v.reason)] for v in d.votes])
    return (
        f"<h3>{text(d.problem)}</h3><p><strong>Chosen:</strong> {text(d.chosen)}</p><ul>{variants}</ul>{votes}"
        f"<p><strong>Justification:</strong></p>{paragraphs(d.justification or '-')}"
    )


def _artifacts(artifacts: list[ArtifactReport]) -> str:
    if not artifacts:
        return "<p>No artifacts.</p>"
    rows = [
        [
            link(a.url, a.path),
            text(f"{a.size_bytes:,} bytes"),
            f"<code>{text(a.sha256[:12])}</code>",
            text(a.agent or "-"),
        ]
        for a in artifacts
    ]
    return table(["File", "Size", "SHA-256", "Written by"], rows)


def _messages(run: RunReport) -> str:
    if not run.messages:
        return "<p>No messages.</p>"
    parts = []
    if (earlier := run.total_messages - len(run.messages)) > 0:
        parts.append(f"<p>{text(earlier)} earlier messages are in {link(run.conclave_url, 'Conclave')}.</p>")
    for m in run.messages:
        content = m.content if len(m.content) <= MESSAGE_CHARS else m.content[: MESSAGE_CHARS - 1] + "…"
        parts.append(
            f"<p><strong>{text(m.author)}</strong> ({text(m.role)}, {text(m.message_type)}, {text(m.at)})</p>"
            + paragraphs(content)
        )
    return "".join(parts)
