"""The Jira and Confluence wrappers with the real clients against the local server (tests/atlassian.py): Cloud and
Server/Data Center, transitions by the project's workflow, retries that create nothing twice, escaped pages, errors
that never carry a token, and what `/api/health` and a project's save say about them."""

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, delete

from api.main import create_app
from config import Settings
from db.models import IntegrationLink
from integrations import CONFLUENCE, JIRA, IntegrationError, NotConfigured
from integrations import confluence as confluence_api
from integrations import jira as jira_api
from integrations.jira import DONE, EPIC, IN_PROGRESS, STORY, JiraMirror
from integrations.links import Links
from integrations.page import RunReport, StepReport, render
from tests.atlassian import CONFLUENCE_TOKEN, CONFLUENCE_USER, JIRA_TOKEN, JIRA_USER, FakeAtlassian, serve_atlassian
from tests.support import free_port, new_run


@pytest.fixture(params=[False, True], ids=["server", "cloud"])
def atlassian(request: pytest.FixtureRequest) -> Iterator[FakeAtlassian]:
    with serve_atlassian(cloud=request.param) as fake:
        yield fake


def configured(settings: Settings, fake: FakeAtlassian, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "jira_url": fake.jira_url,
            "jira_username": JIRA_USER,
            "jira_api_token": SecretStr(JIRA_TOKEN),
            "confluence_url": fake.confluence_url,
            "confluence_username": CONFLUENCE_USER,
            "confluence_api_token": SecretStr(CONFLUENCE_TOKEN),
            **changes,
        }
    )


def jira_mirror(settings: Settings, db: Engine, run: object) -> JiraMirror:
    return JiraMirror(jira_api.connect(settings), "CONC", Links(db, run, JIRA))  # type: ignore[arg-type]


def test_epic_and_stories_link_the_way_the_deployment_wants(settings: Settings, db: Engine, atlassian: FakeAtlassian):
    settings, run = configured(settings, atlassian), new_run(db)
    mirror = jira_mirror(settings, db, run)
    epic = mirror.ensure_issue("", EPIC, "Checkout", "The run.")
    story = mirror.ensure_issue("design", STORY, "Checkout: Design", "A step.", epic=epic.key, step="design")
    assert mirror.cloud is atlassian.cloud
    assert atlassian.issues[story.key]["epic"] == epic.key
    assert atlassian.issues[epic.key]["epic_name"] == (None if atlassian.cloud else "Checkout")
    assert epic.url == f"{atlassian.jira_url}/browse/{epic.key}"

    # Recorded: asked again, nothing is created; lost before it was recorded: found again by its label
    assert mirror.ensure_issue("", EPIC, "Checkout", "The run.") == epic
    with db.begin() as connection:
        connection.execute(delete(IntegrationLink).where(IntegrationLink.workflow_id == run))
    again = jira_mirror(settings, db, run)
    assert again.ensure_issue("design", STORY, "x", "y", epic=epic.key) == story
    assert len(atlassian.issues) == 2 and again.created == 0


def test_statuses_move_by_the_transitions_the_workflow_offers(settings: Settings, db: Engine, atlassian: FakeAtlassian):
    settings, run = configured(settings, atlassian), new_run(db)
    mirror = jira_mirror(settings, db, run)
    first = mirror.ensure_issue("one", STORY, "One", "")
    second = mirror.ensure_issue("two", STORY, "Two", "")
    mirror.move("story", "one", first.key, IN_PROGRESS)
    mirror.move("story", "one", first.key, DONE)
    mirror.move("story", "two", second.key, DONE)  # straight from To Do, by the transition the workflow has
    assert [atlassian.issues[k]["status"] for k in (first.key, second.key)] == ["Done", "Done"]
    moves = len([r for r in atlassian.requests if r[0] == "POST" and r[1].endswith("/transitions")])
    assert moves == 3
    mirror.move("story", "one", first.key, IN_PROGRESS)  # never back from done, and not asked again
    assert atlassian.issues[first.key]["status"] == "Done"
    assert len([r for r in atlassian.requests if r[0] == "POST" and r[1].endswith("/transitions")]) == moves


def test_a_comment_is_posted_once_even_when_its_record_was_lost(
    settings: Settings, db: Engine, atlassian: FakeAtlassian
):
    settings, run = configured(settings, atlassian), new_run(db)
    mirror = jira_mirror(settings, db, run)
    epic = mirror.ensure_issue("", EPIC, "Run", "")
    mirror.ensure_comment(epic.key, "message-1", "Hello {code}team{code}")
    mirror.ensure_comment(epic.key, "message-1", "Hello {code}team{code}")
    with db.begin() as connection:
        connection.execute(delete(IntegrationLink).where(IntegrationLink.kind == "comment"))
    jira_mirror(settings, db, run).ensure_comment(epic.key, "message-1", "Hello {code}team{code}")
    [comment] = atlassian.issues[epic.key]["comments"]
    assert comment["body"].startswith("Hello {code}team{code}")


def test_the_page_is_created_once_then_versioned_and_a_namesake_gets_its_own(
    settings: Settings, db: Engine, atlassian: FakeAtlassian
):
    settings, run, other = configured(settings, atlassian), new_run(db), new_run(db)

    def publish(workflow_id: object, body: str) -> confluence_api.ConfluenceMirror:
        mirror = confluence_api.ConfluenceMirror(
            confluence_api.connect(settings),
            "DOCS",
            Links(db, workflow_id, CONFLUENCE),  # type: ignore[arg-type]
        )
        mirror.publish("Workflow: Checkout", body)
        return mirror

    first = publish(run, f"<p>{run}</p><p>first</p>")
    assert (first.created, first.updated) == (1, 0)
    assert publish(run, f"<p>{run}</p><p>first</p>").updated == 0, "unchanged: no new version"
    assert publish(run, f"<p>{run}</p><p>second</p>").updated == 1
    [page] = atlassian.pages.values()
    assert len(page["versions"]) == 2 and page["versions"][-1].endswith("second</p>")

    with db.begin() as connection:
        connection.execute(delete(IntegrationLink).where(IntegrationLink.workflow_id == run))
    assert publish(run, f"<p>{run}</p><p>second</p>").created == 0, "found by its run id"
    publish(other, f"<p>{other}</p>")
    titles = sorted(p["title"] for p in atlassian.pages.values())
    assert titles == ["Workflow: Checkout", f"Workflow: Checkout ({str(other)[:8]})"]


def test_the_page_shows_every_text_as_written(settings: Settings, db: Engine, atlassian: FakeAtlassian):
    hostile = "a <script>alert(1)</script> & b \"c\" 'd' ]]> \x07 &nbsp; é"
    report = RunReport(
        workflow_id="w",
        name=hostile,
        workflow_type="bug_fix",
        status="completed",
        priority="high",
        project=hostile,
        requirement=f"{hostile}\n\nsecond paragraph",
        description=None,
        created_by=hostile,
        started_at=None,
        completed_at=None,
        tokens=1234,
        conclave_url=f"http://x/?a=1&b={hostile}",
        steps=[StepReport(title=hostile, status="completed", agent=hostile, summary=hostile, error=hostile)],
    )
    body = render(report)
    assert "<script>" not in body and "&lt;script&gt;" in body and "&amp;nbsp;" in body and "\x07" not in body
    settings = configured(settings, atlassian)
    mirror = confluence_api.ConfluenceMirror(
        confluence_api.connect(settings), "DOCS", Links(db, new_run(db), CONFLUENCE)
    )
    mirror.publish("Workflow: hostile", body)  # the server refuses a body that is not well-formed XHTML
    [page] = atlassian.pages.values()
    assert page["versions"] == [body]


def test_failures_are_plain_and_never_carry_the_token(
    settings: Settings, db: Engine, atlassian: FakeAtlassian, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)  # the clients' own debug logging too
    with pytest.raises(NotConfigured, match="JIRA_URL, JIRA_USERNAME, JIRA_API_TOKEN are not set"):
        jira_api.connect(settings)
    wrong = configured(settings, atlassian, jira_api_token=SecretStr("not-the-token"))
    with pytest.raises(IntegrationError) as refused:
        jira_mirror(wrong, db, new_run(db)).ensure_issue("", EPIC, "x", "y")
    assert "refused the credentials (HTTP 401)" in str(refused.value)
    nowhere = configured(settings, atlassian, jira_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IntegrationError, match="could not be reached"):
        jira_api.connect(nowhere)
    settings = configured(settings, atlassian)
    with pytest.raises(IntegrationError) as bad:
        jira_mirror(settings, db, new_run(db)).ensure_issue("", "Saga", "x", "y")
    assert "HTTP 400" in str(bad.value) and "issuetype" in str(bad.value)
    for error in (refused.value, bad.value):
        assert JIRA_TOKEN not in str(error) and "not-the-token" not in str(error) and error.__cause__ is None
    assert caplog.records and JIRA_TOKEN not in caplog.text and "not-the-token" not in caplog.text


def test_health_and_project_save_say_what_stands_in_the_way(settings: Settings, db: Engine, atlassian: FakeAtlassian):
    def health(s: Settings) -> dict[str, dict[str, object]]:
        with TestClient(create_app(s)) as client:
            return client.get("/api/health").json()["components"]

    assert health(settings)[JIRA]["status"] == "disabled"
    with TestClient(create_app(settings)) as client:
        body = {"name": "On", "type": "library", "jira_enabled": True, "jira_project_key": "CONC"}
        assert client.post("/api/projects", json=body).status_code == 201
        jira = client.get("/api/health").json()["components"][JIRA]
    assert jira["status"] == "degraded" and jira["detail"].startswith("1 project(s) turn Jira on, but JIRA_URL")
    good = configured(settings, atlassian)
    components = health(good)
    assert (components[JIRA]["status"], components[CONFLUENCE]["status"]) == ("up", "up")
    down = health(
        configured(
            settings, atlassian, jira_api_token=SecretStr("nope"), confluence_url=f"http://127.0.0.1:{free_port()}"
        )
    )
    assert down[JIRA]["status"] == "down" and "refused the credentials" in str(down[JIRA]["detail"])
    assert down[CONFLUENCE]["status"] == "down" and "could not be reached" in str(down[CONFLUENCE]["detail"])

    with TestClient(create_app(good)) as client:
        body = {
            "name": "P",
            "type": "library",
            "jira_enabled": True,
            "jira_project_key": "NOPE",
            "confluence_enabled": True,
            "confluence_space_key": "DOCS",
        }
        saved = client.post("/api/projects", json=body)
        assert saved.status_code == 201
        [warning] = saved.json()["warnings"]
        assert "Jira project NOPE was not found" in warning
        fixed = client.put(f"/api/projects/{saved.json()['id']}", json={"jira_project_key": "CONC"})
        assert fixed.json()["warnings"] == []


def test_a_page_deleted_in_confluence_is_created_again_and_an_unchanged_one_costs_nothing(
    settings: Settings, db: Engine, atlassian: FakeAtlassian
):
    settings, run = configured(settings, atlassian), new_run(db)

    def publish(body: str) -> confluence_api.ConfluenceMirror:
        mirror = confluence_api.ConfluenceMirror(confluence_api.connect(settings), "DOCS", Links(db, run, CONFLUENCE))
        mirror.publish("Workflow: Gone", body)
        return mirror

    publish(f"<p>{run}</p>")
    asked = len(atlassian.requests)
    publish(f"<p>{run}</p>")
    assert len(atlassian.requests) == asked, "the body written last is known: Confluence is not even asked"

    atlassian.pages.clear()  # someone deleted the page
    again = publish(f"<p>{run}</p><p>more</p>")
    assert again.created == 1
    [page] = atlassian.pages.values()
    assert page["title"] == "Workflow: Gone" and page["versions"] == [f"<p>{run}</p><p>more</p>"]


def test_jira_text_cannot_break_out_of_its_quote():
    quoted = jira_api.plain("a {NOFORMAT} b {noformat:title=x} c " + "x" * 50_000)
    assert quoted.startswith("{noformat}\n") and quoted.endswith("\n{noformat}")
    assert quoted.lower().count("{noformat") == 2, "only the block's own markers"
    assert len(quoted) < jira_api.TEXT_CHARS
