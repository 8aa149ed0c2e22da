from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from config import CHAT_MODEL, CODE_MODEL, Settings
from migrations.revision import head_revision
from tests.llama import start_llama_server
from tests.support import free_port


def test_health_reports_the_database_up_at_the_current_schema(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    report = response.json()
    # No Temporal here (tests/workflows sees "ok" with a dev server and a worker): degraded, not down.
    assert report["status"] == "degraded"
    assert report["components"]["temporal"]["status"] == "down"
    database = report["components"]["database"]
    assert database["status"] == "up"
    assert head_revision() in database["detail"]
    assert database["latency_ms"] >= 0
    assert report["components"]["storage"]["status"] == "up"
    assert report["components"]["llm"]["status"] == "up"


def test_health_names_storage_down_without_its_secret(settings):
    down = settings.model_copy(update={"s3_endpoint": f"127.0.0.1:{free_port()}"})
    with TestClient(create_app(down)) as client:
        response = client.get("/api/health")
    report = response.json()
    assert response.status_code == 200 and report["status"] == "degraded"
    assert report["components"]["storage"]["status"] == "down"
    assert (
        "unreachable" in report["components"]["storage"]["detail"]
        or "failed" in report["components"]["storage"]["detail"]
    )
    assert down.s3_secret_key.get_secret_value() not in response.text


def test_health_says_when_the_model_file_is_missing(settings, tmp_path):
    missing = settings.model_copy(update={"llm_backend": "llama_cpp", "llm_model_path": tmp_path / "none.gguf"})
    with TestClient(create_app(missing)) as client:
        llm = client.get("/api/health").json()["components"]["llm"]
    assert llm["status"] == "down" and "none.gguf" in llm["detail"]


def test_health_is_503_and_names_the_database_when_it_is_down():
    settings = Settings(
        database_url=f"postgresql://conclave:s3cret-pw@127.0.0.1:{free_port()}/conclave", database_connect_timeout=1
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/health")
        assert response.status_code == 503
        report = response.json()
        assert report["status"] == "down"
        assert report["components"]["database"]["status"] == "down"
        assert "s3cret-pw" not in response.text
        # Other endpoints say so plainly rather than fail with a stack trace.
        listing = client.get("/api/projects")
        assert listing.status_code == 503
        assert "health" in listing.json()["detail"] and "s3cret-pw" not in listing.text


def test_health_says_when_the_database_is_not_migrated(fresh_database):
    with TestClient(create_app(Settings(database_url=fresh_database()))) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    database = response.json()["components"]["database"]
    assert database["status"] == "degraded" and "migrat" in database["detail"]


def test_openapi_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Conclave API"
    for path in (
        "/api/health",
        "/api/projects",
        "/api/projects/{project_id}",
        "/api/agents/templates",
        "/api/agents/{agent_id}/assign",
        "/api/projects/{project_id}/workflows",
    ):
        assert path in spec["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_health_says_when_the_model_server_is_unreachable(settings):
    remote = settings.model_copy(
        update={
            "llm_backend": None,
            "llm_base_url": f"http://127.0.0.1:{free_port()}/v1",
            "llm_api_key": SecretStr("sk-hidden"),
        }
    )
    with TestClient(create_app(remote)) as client:
        response = client.get("/api/health")
    llm = response.json()["components"]["llm"]
    assert llm["status"] == "down" and "unreachable" in llm["detail"] and "sk-hidden" not in response.text


def test_health_shows_each_model_service_its_roles_and_slots(settings, model_path):
    """The model map (code roles on the coder by default) and each service's state, from llama.cpp's server."""
    server = start_llama_server(model_path, slots=2, api_key="sk-hidden")
    served = settings.model_copy(
        update={
            "llm_backend": "openai",
            "llm_services": {CODE_MODEL: server.url},
            "llm_base_url": f"http://127.0.0.1:{free_port()}/v1",  # the default: nobody there
            "llm_api_key": SecretStr("sk-hidden"),
        }
    )
    try:
        with TestClient(create_app(served)) as client:
            response = client.get("/api/health")
    finally:
        server.stop()
    models = {m["model"]: m for m in response.json()["models"]}
    assert set(models) == {CODE_MODEL, CHAT_MODEL}
    coder = models[CODE_MODEL]
    assert coder["roles"] == ["developer", "tester"] and coder["url"] == server.url
    assert (coder["status"], coder["slots"], coder["busy"], coder["queued"]) == ("up", 2, 0, 0)
    chat = models[CHAT_MODEL]
    assert chat["status"] == "down" and "architect" in chat["roles"] and "default server" in chat["detail"]
    llm = response.json()["components"]["llm"]
    assert llm["status"] == "down" and CHAT_MODEL in llm["detail"]
    assert "sk-hidden" not in response.text
