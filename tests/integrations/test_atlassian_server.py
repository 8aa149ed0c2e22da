"""The Atlassian stand-in (tests/atlassian.py) answers what the real `jira` and `atlassian-python-api` expect."""

from collections.abc import Iterator

import pytest
from atlassian import Confluence
from atlassian.errors import ApiError
from jira import JIRA, JIRAError
from requests import HTTPError

from tests.atlassian import (
    CONFLUENCE_TOKEN,
    CONFLUENCE_USER,
    EPIC_LINK,
    EPIC_NAME,
    JIRA_TOKEN,
    JIRA_USER,
    FakeAtlassian,
    serve_atlassian,
)


@pytest.fixture(params=[False, True], ids=["server", "cloud"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeAtlassian]:
    with serve_atlassian(cloud=request.param) as fake:
        yield fake


def jira_for(fake: FakeAtlassian, password: str = JIRA_TOKEN) -> JIRA:
    return JIRA(server=fake.jira_url, basic_auth=(JIRA_USER, password), max_retries=0)


def confluence_for(fake: FakeAtlassian, password: str = CONFLUENCE_TOKEN) -> Confluence:
    return Confluence(url=fake.confluence_url, username=CONFLUENCE_USER, password=password, cloud=fake.cloud)


def epic_and_story(fake: FakeAtlassian, jira: JIRA) -> tuple[str, str]:
    common = {"project": {"key": "CONC"}, "description": "Why & how <b>", "labels": ["conclave", "run-7"]}
    epic_fields = {**common, "issuetype": {"name": "Epic"}, "summary": "Run 7"}
    if not fake.cloud:
        epic_fields[EPIC_NAME] = "Run 7"
    epic = jira.create_issue(fields=epic_fields, prefetch=False)
    link = {"parent": {"key": epic.key}} if fake.cloud else {EPIC_LINK: epic.key}
    story = jira.create_issue(
        fields={**common, **link, "issuetype": {"name": "Story"}, "summary": "Do it"}, prefetch=False
    )
    return epic.key, story.key


def test_jira_client_connects_and_reads_fields_and_projects(fake):
    jira = jira_for(fake)
    assert jira.deploymentType == ("Cloud" if fake.cloud else "Server") and jira._is_cloud == fake.cloud
    assert jira.myself()["emailAddress"] == JIRA_USER
    names = {field["name"]: field for field in jira.fields()}
    assert {"Summary", "Description", "Labels", "Issue Type", "Project", "Parent", "Status"} <= names.keys()
    assert ("Epic Link" in names) == ("Epic Name" in names) == (not fake.cloud)
    assert jira.project("CONC").key == "CONC"
    with pytest.raises(JIRAError) as missing:
        jira.project("NOPE")
    assert missing.value.status_code == 404
    assert fake.requests[0] == ("GET", "/jira/rest/api/2/serverInfo")


def test_jira_creates_an_epic_and_a_story_under_it(fake):
    jira = jira_for(fake)
    epic, story = epic_and_story(fake, jira)
    assert (epic, story) == ("CONC-1", "CONC-2")
    assert [e["key"] for e in fake.epics()] == [epic] and fake.stories()[0]["epic"] == epic
    assert fake.issues[story]["labels"] == ["conclave", "run-7"] and fake.issues[story]["status"] == "To Do"
    got = jira.issue(story)
    assert got.fields.summary == "Do it" and got.fields.issuetype.name == "Story"
    assert got.fields.status.statusCategory.key == "new"
    if fake.cloud:
        assert got.fields.parent.key == epic and not hasattr(got.fields, EPIC_LINK)
    else:
        assert getattr(got.fields, EPIC_LINK) == epic and getattr(jira.issue(epic).fields, EPIC_NAME) == "Run 7"


def test_jira_refuses_what_jira_refuses(fake):
    jira = jira_for(fake)
    base = {"project": {"key": "CONC"}, "issuetype": {"name": "Story"}, "summary": "S"}
    story = jira.create_issue(fields=base, prefetch=False).key
    wrong_link = {EPIC_LINK: "CONC-1"} if fake.cloud else {"parent": {"key": "CONC-1"}}
    right_link_to_a_story = {"parent": {"key": story}} if fake.cloud else {EPIC_LINK: story}
    refused = [
        ({**base, "project": {"key": "NOPE"}}, "project"),
        ({**base, "summary": ""}, "summary"),
        ({**base, "issuetype": {"name": "Bug"}}, "issuetype"),
        ({**base, "labels": ["two words"]}, "labels"),
        ({**base, **wrong_link}, next(iter(wrong_link))),
        ({**base, **right_link_to_a_story}, next(iter(right_link_to_a_story))),
    ]
    if not fake.cloud:
        refused.append(({**base, "issuetype": {"name": "Epic"}}, EPIC_NAME))
    for fields, field in refused:
        with pytest.raises(JIRAError) as error:
            jira.create_issue(fields=fields, prefetch=False)
        assert error.value.status_code == 400 and field in error.value.response.json()["errors"], fields
    assert list(fake.issues) == [story]


def test_jira_search_by_project_and_label_in_both_apis(fake):
    jira = jira_for(fake)
    epic, story = epic_and_story(fake, jira)
    jira.create_issue(fields={"project": {"key": "CONC"}, "issuetype": {"name": "Task"}, "summary": "x"})
    found = jira.search_issues('project = CONC AND labels = "run-7" ORDER BY created DESC')
    assert [issue.key for issue in found] == [epic, story]
    assert found[1].fields.summary == "Do it"
    link = "parent" if fake.cloud else '"Epic Link"'
    assert [issue.key for issue in jira.search_issues(f"{link} = {epic}")] == [story]
    assert jira.search_issues("project = CONC AND labels = nothing") == []
    path = "/jira/rest/api/2/search/jql" if fake.cloud else "/jira/rest/api/2/search"
    assert ("GET", path) in fake.requests
    for bad in ("project ~ CONC", "project = NOPE", "summary = x", "project = CONC AND"):
        with pytest.raises(JIRAError) as error:
            jira.search_issues(bad)
        assert error.value.status_code == 400, bad


def test_jira_comments_and_transitions_by_id(fake):
    jira = jira_for(fake)
    _, story = epic_and_story(fake, jira)
    comment = jira.add_comment(story, "Started: see <the run>")
    assert [c.body for c in jira.comments(story)] == ["Started: see <the run>"] and comment.id
    assert fake.issues[story]["comments"] == [{"id": comment.id, "body": "Started: see <the run>"}]
    available = {t["name"]: t for t in jira.transitions(story)}
    assert {name: t["id"] for name, t in available.items()} == {"Start work": "21", "Close": "41"}
    assert available["Start work"]["to"]["statusCategory"]["key"] == "indeterminate"
    jira.transition_issue(story, available["Start work"]["id"])
    assert fake.issues[story]["status"] == "In Progress"
    with pytest.raises(JIRAError) as error:
        jira.transition_issue(story, "41")  # "Close" is only available from To Do
    assert error.value.status_code == 400
    jira.transition_issue(story, "Finish")  # by name: the client looks the id up
    assert jira.issue(story).fields.status.statusCategory.key == "done"


def test_jira_wrong_password_and_outage():
    with serve_atlassian() as fake:
        with pytest.raises(JIRAError) as error:
            jira_for(fake, password="wrong")
        assert error.value.status_code == 401
        jira = jira_for(fake)
        fake.down = True
        with pytest.raises(JIRAError) as error:
            jira.project("CONC")
        assert error.value.status_code == 503


def test_confluence_space_and_pages(fake):
    confluence = confluence_for(fake)
    assert confluence.get_space("DOCS")["key"] == "DOCS"
    assert [space["key"] for space in confluence.get("rest/api/space", params={"limit": 1})["results"]] == ["DOCS"]
    with pytest.raises(ApiError):
        confluence.get_space("NOPE")
    assert confluence.get_page_by_title("DOCS", "Run 7", expand="body.storage,version") is None
    created = confluence.create_page("DOCS", "Run 7", "<p>a &amp; b</p>", representation="storage")
    assert created["version"]["number"] == 1 and created["_links"]["webui"]
    page = confluence.get_page_by_title("DOCS", "Run 7", expand="body.storage,version")
    assert page["id"] == created["id"] and page["body"]["storage"]["value"] == "<p>a &amp; b</p>"
    with pytest.raises(HTTPError) as error:
        confluence.create_page("DOCS", "Run 7", "<p>again</p>", representation="storage")
    assert error.value.response.status_code == 400 and "already exists" in str(error.value)
    updated = confluence.update_page(page["id"], "Run 7", "<p>v2</p>", representation="storage")
    assert updated["version"]["number"] == 2
    assert fake.pages[page["id"]]["versions"] == ["<p>a &amp; b</p>", "<p>v2</p>"]
    assert ("POST", "/wiki/rest/api/content") in fake.requests  # url_joiner strips create_page's trailing slash


def test_confluence_refuses_malformed_storage_and_stale_versions():
    with serve_atlassian() as fake:
        confluence = confluence_for(fake)
        for body in ("<p>a & b</p>", "<p>x < y</p>", "<p>&nbsp;</p>", "<p>open"):
            with pytest.raises(HTTPError) as error:
                confluence.create_page("DOCS", "Bad", body, representation="storage")
            assert error.value.response.status_code == 400 and "Error parsing xhtml" in str(error.value), body
        assert fake.pages == {}
        page = confluence.create_page("DOCS", "Good", '<ac:structured-macro ac:name="toc"/><p>&#160;</p>')
        stale = {
            "id": page["id"],
            "type": "page",
            "title": "Good",
            "version": {"number": 1},
            "body": {"storage": {"value": "<p>v</p>", "representation": "storage"}},
        }
        with pytest.raises(HTTPError) as error:
            confluence.put(f"rest/api/content/{page['id']}", data=stale)
        assert error.value.response.status_code == 409


def test_confluence_wrong_password():
    with serve_atlassian() as fake, pytest.raises(HTTPError) as error:
        confluence_for(fake, password="wrong").get_space("DOCS")
    assert error.value.response.status_code == 401
