import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.main import create_app
from config import CHAT_MODEL, CODE_MODEL, Settings
from db.enums import AgentRole, AgentStatus
from db.events import EventType, append_event
from db.models import WorkflowEvent
from db.records import set_agent_status
from db.session import transaction


def create_project(client, name="Shop"):
    return client.post("/api/projects", json={"name": name, "type": "web_app"}).json()


def create_agent(client, **fields):
    response = client.post("/api/agents", json={"name": "Dev", "role": "developer", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_templates_one_per_role_with_real_configuration(client):
    response = client.get("/api/agents/templates")
    assert response.status_code == 200
    templates = response.json()
    assert sorted(t["role"] for t in templates) == sorted(r.value for r in AgentRole)
    for t in templates:
        assert len(t["system_prompt"]) > 200, t["role"]
        assert 0 <= t["temperature"] <= 2 and t["max_tokens"] >= 256
        assert t["capabilities"] and t["name"] and t["description"] and t["model"]
    prompts = [t["system_prompt"] for t in templates]
    assert len(set(prompts)) == len(prompts)


def test_create_agent_from_a_template_as_the_ui_does(client):
    project = create_project(client)
    template = next(t for t in client.get("/api/agents/templates").json() if t["role"] == "reviewer")
    body = {
        k: template[k]
        for k in ("name", "role", "description", "model", "temperature", "max_tokens", "system_prompt", "capabilities")
    }
    response = client.post("/api/agents", json={**body, "project_id": project["id"]})
    assert response.status_code == 201
    agent = response.json()
    for key, value in body.items():
        assert agent[key] == value, key
    assert agent["status"] == "idle" and agent["project_id"] == project["id"]


def test_create_agent_fills_what_is_left_out_from_its_role_template(client):
    template = next(t for t in client.get("/api/agents/templates").json() if t["role"] == "tester")
    agent = create_agent(client, name="T", role="tester", temperature=0.75)
    assert agent["temperature"] == 0.75  # given values win
    for key in ("model", "max_tokens", "system_prompt", "capabilities", "description"):
        assert agent[key] == template[key], key


def test_read_update_delete_agent(client):
    agent = create_agent(client)
    url = f"/api/agents/{agent['agent_id']}"
    assert client.get(url).json() == agent
    updated = client.put(url, json={"temperature": 1.25, "system_prompt": "Be terse.", "status": "offline"}).json()
    assert (updated["temperature"], updated["system_prompt"], updated["status"]) == (1.25, "Be terse.", "offline")
    assert updated["name"] == "Dev" and updated["role"] == "developer"
    assert updated["updated_at"] > agent["updated_at"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def test_unknown_agent_is_404(client):
    missing = uuid.uuid4()
    assert client.get(f"/api/agents/{missing}").status_code == 404
    assert client.put(f"/api/agents/{missing}", json={"name": "x"}).status_code == 404
    assert client.post(f"/api/agents/{missing}/assign", json={"project_id": None}).status_code == 404
    assert client.get("/api/agents/not-a-uuid").status_code == 422


def test_assign_agent_to_a_project_and_unassign(client):
    project = create_project(client)
    agent = create_agent(client)
    response = client.post(f"/api/agents/{agent['agent_id']}/assign", json={"project_id": project["id"]})
    assert response.status_code == 200 and response.json()["project_id"] == project["id"]
    assert [a["agent_id"] for a in client.get(f"/api/projects/{project['id']}/agents").json()["items"]] == [
        agent["agent_id"]
    ]
    response = client.post(f"/api/agents/{agent['agent_id']}/assign", json={"project_id": None})
    assert response.status_code == 200 and response.json()["project_id"] is None
    assert client.get(f"/api/projects/{project['id']}/agents").json()["total"] == 0


def test_assign_to_unknown_project_is_refused_and_changes_nothing(client):
    project = create_project(client)
    agent = create_agent(client, project_id=project["id"])
    response = client.post(f"/api/agents/{agent['agent_id']}/assign", json={"project_id": str(uuid.uuid4())})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "project_id"]
    assert client.get(f"/api/agents/{agent['agent_id']}").json()["project_id"] == project["id"]
    assert client.post(f"/api/agents/{agent['agent_id']}/assign", json={}).status_code == 422


def test_create_or_update_with_unknown_project_is_refused(client):
    response = client.post("/api/agents", json={"name": "Dev", "role": "developer", "project_id": str(uuid.uuid4())})
    assert response.status_code == 422
    agent = create_agent(client)
    assert client.put(f"/api/agents/{agent['agent_id']}", json={"project_id": str(uuid.uuid4())}).status_code == 422
    assert client.get("/api/agents").json()["total"] == 1


def test_list_agents_filters_and_pages(client):
    shop, blog = create_project(client, "Shop"), create_project(client, "Blog")
    create_agent(client, name="a1", role="developer", project_id=shop["id"])
    create_agent(client, name="a2", role="developer", status="busy", project_id=blog["id"])
    create_agent(client, name="a3", role="tester", project_id=shop["id"])
    create_agent(client, name="a4", role="architect", status="offline")

    def names(**params):
        body = client.get("/api/agents", params=params).json()
        return sorted(a["name"] for a in body["items"]), body["total"]

    assert names(role="developer") == (["a1", "a2"], 2)
    assert names(status="busy") == (["a2"], 1)
    assert names(project_id=shop["id"]) == (["a1", "a3"], 2)
    assert names(project_id=shop["id"], role="tester") == (["a3"], 1)
    page = client.get("/api/agents", params={"skip": 1, "limit": 2}).json()
    assert page["total"] == 4 and len(page["items"]) == 2


@pytest.mark.parametrize("params", [{"role": "ceo"}, {"status": "asleep"}, {"project_id": "nope"}, {"limit": 1000}])
def test_list_agents_rejects_bad_filters(client, params):
    assert client.get("/api/agents", params=params).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"role": "developer"},
        {"name": "x", "role": "ceo"},
        {"name": "x", "role": "developer", "status": "asleep"},
        {"name": "x", "role": "developer", "temperature": 2.5},
        {"name": "x", "role": "developer", "temperature": -0.1},
        {"name": "x", "role": "developer", "max_tokens": 0},
        {"name": "x", "role": "developer", "max_tokens": 10**12},
        {"name": "x", "role": "developer", "capabilities": "python"},
        {"name": "x", "role": "developer", "capabilities": ["x" * 101]},
        {"name": "x", "role": "developer", "model": ""},
        {"name": "x", "role": "developer", "model": "   "},
        {"name": "x", "role": "developer", "project_id": "not-a-uuid"},
        {"name": "x", "role": "developer", "current_task": "set by the system only"},
    ],
)
def test_create_agent_rejects_invalid_input(client, body):
    response = client.post("/api/agents", json=body)
    assert response.status_code == 422, response.text
    assert client.get("/api/agents").json()["total"] == 0


@pytest.mark.parametrize("body", [{"name": None}, {"model": None}, {"role": "ceo"}, {"temperature": 3}])
def test_update_agent_rejects_invalid_input_and_changes_nothing(client, body):
    agent = create_agent(client)
    assert client.put(f"/api/agents/{agent['agent_id']}", json=body).status_code == 422
    assert client.get(f"/api/agents/{agent['agent_id']}").json() == agent


def test_temperature_keeps_two_decimals(client):
    assert create_agent(client, temperature=0.123)["temperature"] == 0.12


def test_an_agents_status_changed_while_its_turn_is_being_recorded_waits_instead_of_deadlocking(client, db):
    """A finishing turn takes the event lock, then the agent's row; the API must take them in the same order."""
    agent_id = create_agent(client, status="busy")["agent_id"]
    recording, answers, failures = threading.Event(), [], []

    def finish_turn() -> None:  # what run_agent_turn's last transaction does
        try:
            with transaction(db) as session:
                append_event(session, None, EventType.NEW_MESSAGE, {"turn": "done"})
                recording.set()
                time.sleep(1)  # the API request arrives meanwhile
                set_agent_status(session, uuid.UUID(agent_id), AgentStatus.IDLE, None)
        except Exception as exc:
            failures.append(exc)

    turn = threading.Thread(target=finish_turn)
    turn.start()
    assert recording.wait(10)
    request = threading.Thread(
        target=lambda: answers.append(client.put(f"/api/agents/{agent_id}", json={"status": "offline"}))
    )
    request.start()
    turn.join(20)
    request.join(20)
    assert failures == [] and answers[0].status_code == 200, (failures, answers[0].text)
    assert client.get(f"/api/agents/{agent_id}").json()["status"] == "offline"  # the later change wins
    with Session(db) as session:
        changes = session.scalars(
            select(WorkflowEvent.data)
            .where(WorkflowEvent.event_type == "agent_status_changed")
            .order_by(WorkflowEvent.id)
        ).all()
    assert [(c["previous_status"], c["status"]) for c in changes] == [("busy", "idle"), ("idle", "offline")]


def test_a_new_agent_takes_its_role_model_from_the_model_map(settings, db):
    """By default the code roles on the 1.5B coder and the rest on the 0.5B; LLM_ROLE_MODELS changes what it names."""
    defaults = {t["role"]: t["model"] for t in TestClient(create_app(settings)).get("/api/agents/templates").json()}
    assert defaults["developer"] == defaults["tester"] == CODE_MODEL
    assert {m for r, m in defaults.items() if r not in ("developer", "tester")} == {CHAT_MODEL}

    mapped = settings.model_copy(update={"llm_role_models": {"reviewer": "my-reviewer-model"}})
    with TestClient(create_app(mapped)) as client:
        templates = {t["role"]: t["model"] for t in client.get("/api/agents/templates").json()}
        assert templates["reviewer"] == "my-reviewer-model" and templates["developer"] == CODE_MODEL
        assert create_agent(client, name="R", role="reviewer")["model"] == "my-reviewer-model"
        assert create_agent(client, name="D", role="developer", model="own-model")["model"] == "own-model"


def test_the_model_map_names_only_roles():
    with pytest.raises(ValidationError, match="LLM_ROLE_MODELS names no such role: ceo"):
        Settings(llm_role_models={"ceo": CODE_MODEL})
