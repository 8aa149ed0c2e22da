from fastapi.testclient import TestClient

from api.main import create_app
from config import Settings
from migrations.revision import head_revision
from tests.support import free_port


def test_health_reports_the_database_up_at_the_current_schema(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    database = report["components"]["database"]
    assert database["status"] == "up"
    assert head_revision() in database["detail"]
    assert database["latency_ms"] >= 0


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
