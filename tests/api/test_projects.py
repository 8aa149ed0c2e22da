import uuid

import pytest
from sqlalchemy import text

NEW = {"name": "Checkout", "type": "web_app", "status": "active", "created_by": "ana"}


def create_project(client, **fields):
    """The created project as GET shows it (without the warnings of its creation)."""
    response = client.post("/api/projects", json={**NEW, **fields})
    assert response.status_code == 201, response.text
    return {key: value for key, value in response.json().items() if key != "warnings"}


def test_create_project_returns_it_with_defaults(client):
    response = client.post("/api/projects", json={"name": "Checkout", "type": "web_app"})
    assert response.status_code == 201
    project = response.json()
    uuid.UUID(project["id"])
    assert project["name"] == "Checkout"
    assert project["status"] == "planning"
    assert project["jira_enabled"] is False and project["confluence_enabled"] is False
    assert project["created_by"] == "anonymous"
    assert project["created_at"] and project["updated_at"]


def test_create_project_keeps_every_seed_field(client):
    body = {
        **NEW,
        "description": "Shop checkout",
        "repository_url": "https://git.example.com/shop/checkout.git",
        "repository_branch": "main",
        "jira_project_key": "SHOP",
        "jira_enabled": True,
        "confluence_space_key": "DOCS",
        "confluence_enabled": True,
        "metadata": {"team": "payments", "budget": 3, "tags": ["a", "b"]},
    }
    response = client.post("/api/projects", json=body)
    assert response.status_code == 201, response.text
    project = response.json()
    for key, value in body.items():
        assert project[key] == value, key
    # Saved, and told why its runs cannot use Jira and Confluence here (nothing is configured in this test).
    assert project.pop("warnings") == [
        "Jira is turned on, but JIRA_URL, JIRA_USERNAME, JIRA_API_TOKEN are not set: its syncs will fail",
        "Confluence is turned on, but CONFLUENCE_URL, CONFLUENCE_USERNAME, CONFLUENCE_API_TOKEN are not set: its "
        "syncs will fail",
    ]
    assert client.get(f"/api/projects/{project['id']}").json() == project


def test_read_project(client):
    project = create_project(client)
    response = client.get(f"/api/projects/{project['id']}")
    assert response.status_code == 200
    assert response.json()["name"] == "Checkout"


def test_read_project_not_found(client):
    missing = uuid.uuid4()
    response = client.get(f"/api/projects/{missing}")
    assert response.status_code == 404
    assert str(missing) in response.json()["detail"]


def test_read_project_malformed_id(client):
    assert client.get("/api/projects/not-a-uuid").status_code == 422


def test_update_project_changes_only_the_fields_sent(client):
    project = create_project(client, description="old")
    response = client.put(f"/api/projects/{project['id']}", json={"description": "new", "status": "paused"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["description"] == "new" and updated["status"] == "paused"
    assert updated["name"] == "Checkout" and updated["type"] == "web_app"
    assert updated["updated_at"] > project["updated_at"]
    assert client.get(f"/api/projects/{project['id']}").json() == {k: v for k, v in updated.items() if k != "warnings"}


def test_update_project_null_clears_optional_field(client):
    project = create_project(client, description="old")
    updated = client.put(f"/api/projects/{project['id']}", json={"description": None}).json()
    assert updated["description"] is None


@pytest.mark.parametrize("body", [{"name": None}, {"status": "sleeping"}, {"name": ""}, {"id": str(uuid.uuid4())}])
def test_update_project_rejects_bad_input_and_changes_nothing(client, body):
    project = create_project(client)
    response = client.put(f"/api/projects/{project['id']}", json=body)
    assert response.status_code == 422
    assert client.get(f"/api/projects/{project['id']}").json() == project


def test_update_project_not_found(client):
    assert client.put(f"/api/projects/{uuid.uuid4()}", json={"name": "x"}).status_code == 404


def test_enabling_an_integration_needs_its_key(client):
    response = client.post("/api/projects", json={**NEW, "jira_enabled": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "jira_project_key"]
    project = create_project(client)
    response = client.put(f"/api/projects/{project['id']}", json={"confluence_enabled": True})
    assert response.status_code == 422
    assert "confluence_space_key" in response.text
    ok = client.put(f"/api/projects/{project['id']}", json={"confluence_enabled": True, "confluence_space_key": "ENG"})
    assert ok.status_code == 200 and ok.json()["confluence_enabled"] is True


def test_delete_project(client):
    project = create_project(client)
    assert client.delete(f"/api/projects/{project['id']}").status_code == 204
    assert client.get(f"/api/projects/{project['id']}").status_code == 404
    assert client.delete(f"/api/projects/{project['id']}").status_code == 404


def test_delete_project_cascades_to_workflows_and_unassigns_agents(client, db):
    project = create_project(client)
    agent = client.post("/api/agents", json={"name": "Dev", "role": "developer", "project_id": project["id"]}).json()
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workflows (project_id, name, workflow_type, status, priority, requirement, created_by) "
                "VALUES (:p, 'w', 'bug_fix', 'completed', 'low', 'fix it', 'ana')"
            ),
            {"p": project["id"]},
        )
    assert client.get(f"/api/projects/{project['id']}/workflows").json()["total"] == 1
    assert client.delete(f"/api/projects/{project['id']}").status_code == 204
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workflows")).scalar() == 0
    kept = client.get(f"/api/agents/{agent['agent_id']}")
    assert kept.status_code == 200 and kept.json()["project_id"] is None


def test_list_projects_pages_with_a_total(client):
    names = [f"p{i:02d}" for i in range(7)]
    for name in names:
        create_project(client, name=name)
    first = client.get("/api/projects", params={"limit": 3}).json()
    second = client.get("/api/projects", params={"skip": 3, "limit": 3}).json()
    last = client.get("/api/projects", params={"skip": 6, "limit": 3}).json()
    assert first["total"] == second["total"] == last["total"] == 7
    assert (len(first["items"]), len(second["items"]), len(last["items"])) == (3, 3, 1)
    seen = [p["name"] for page in (first, second, last) for p in page["items"]]
    assert sorted(seen) == names  # every project exactly once across the pages
    assert seen == list(reversed(names))  # newest first


def test_list_projects_filters(client):
    create_project(client, name="Alpha shop", status="active", type="web_app")
    create_project(client, name="Beta api", status="paused", type="api_service")
    create_project(client, name="alpha_lib 100%", status="active", type="library")

    def names(**params):
        return sorted(p["name"] for p in client.get("/api/projects", params=params).json()["items"])

    assert names(status="active") == ["Alpha shop", "alpha_lib 100%"]
    assert names(type="api_service") == ["Beta api"]
    assert names(search="ALPHA") == ["Alpha shop", "alpha_lib 100%"]
    assert names(search="100%") == ["alpha_lib 100%"]
    assert names(search="a_l") == ["alpha_lib 100%"]  # LIKE wildcards are taken literally
    assert names(status="active", type="library") == ["alpha_lib 100%"]


@pytest.mark.parametrize(
    "params", [{"limit": 501}, {"limit": 0}, {"skip": -1}, {"status": "sleeping"}, {"type": "spaceship"}]
)
def test_list_projects_rejects_bad_parameters(client, params):
    assert client.get("/api/projects", params=params).status_code == 422


def test_list_projects_limit_up_to_500(client):
    assert client.get("/api/projects", params={"limit": 500}).status_code == 200


def test_project_agents_and_workflows(client):
    project = create_project(client)
    other = create_project(client, name="Other")
    client.post("/api/agents", json={"name": "Arch", "role": "architect", "project_id": project["id"]})
    client.post("/api/agents", json={"name": "Dev", "role": "developer", "project_id": other["id"]})
    agents = client.get(f"/api/projects/{project['id']}/agents").json()
    assert agents["total"] == 1 and [a["name"] for a in agents["items"]] == ["Arch"]
    workflows = client.get(f"/api/projects/{project['id']}/workflows").json()
    assert workflows == {"items": [], "total": 0, "skip": 0, "limit": 100}
    assert client.get(f"/api/projects/{uuid.uuid4()}/agents").status_code == 404
    assert client.get(f"/api/projects/{uuid.uuid4()}/workflows").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"type": "web_app", "status": "active"},  # no name
        {"name": "x", "type": "spaceship"},
        {"name": "x", "type": "web_app", "status": "sleeping"},
        {"name": "   ", "type": "web_app"},
        {"name": "x" * 256, "type": "web_app"},
        {"name": "x", "type": "web_app", "jira_project_key": "lower-case"},
        {"name": "x", "type": "web_app", "unknown_field": 1},
        {"name": "x", "type": "web_app", "metadata": ["not", "an", "object"]},
        {"name": "x\u0000y", "type": "web_app"},
        {"name": "x", "type": "web_app", "metadata": {"k": "nul\u0000inside"}},
        {"name": "x", "type": "web_app", "created_by": None},
    ],
)
def test_create_project_rejects_invalid_input_and_creates_nothing(client, body):
    response = client.post("/api/projects", json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert client.get("/api/projects").json()["total"] == 0
