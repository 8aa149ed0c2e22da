"""The API serves the built UI at `/`: its files, index.html for the UI's own pages (deep links), and nothing changes
for the API: unknown `/api` paths are still JSON 404s, a wrong method still a 405."""

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import Settings

INDEX = "<!doctype html><html><body><app-root></app-root><!-- conclave ui --></body></html>"


@pytest.fixture
def ui_dir(tmp_path):
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "main-ABCD1234.js").write_text("console.log('ui');")
    (tmp_path / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "font-WXYZ5678.woff2").write_bytes(b"wOF2")
    return tmp_path


def client_for(ui_dir) -> TestClient:
    # No database is needed for any of these requests (the app connects lazily).
    return TestClient(create_app(Settings(ui_dir=ui_dir, environment="development")))


def test_index_is_served_at_the_root_and_not_cached(ui_dir):
    response = client_for(ui_dir).get("/")
    assert response.status_code == 200
    assert "conclave ui" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("page", ["/workflows", "/workflows/7d7f8c1e-0000-4000-8000-000000000000", "/projects/new"])
def test_the_ui_pages_load_the_app(ui_dir, page):
    response = client_for(ui_dir).get(page)
    assert response.status_code == 200 and "conclave ui" in response.text


def test_hashed_files_are_served_with_their_type_and_kept(ui_dir):
    client = client_for(ui_dir)
    script = client.get("/main-ABCD1234.js")
    assert script.status_code == 200 and script.text == "console.log('ui');"
    assert "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    font = client.get("/media/font-WXYZ5678.woff2")
    assert font.status_code == 200 and font.content == b"wOF2"


def test_unhashed_files_are_revalidated(ui_dir):
    response = client_for(ui_dir).get("/favicon.ico")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"


def test_no_file_outside_the_ui_directory_is_served(ui_dir):
    (ui_dir.parent / "secret.txt").write_text("not for the browser")
    response = client_for(ui_dir).get("/%2e%2e/secret.txt")
    assert "not for the browser" not in response.text


def test_unknown_api_paths_are_still_json_404s(ui_dir):
    client = client_for(ui_dir)
    for path in ("/api", "/api/nope", "/api/workflows/templates/extra"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}, path


def test_the_api_answers_as_before(ui_dir):
    client = client_for(ui_dir)
    templates = client.get("/api/workflows/templates")
    assert templates.status_code == 200 and templates.json()[0]["workflow_type"]
    assert client.patch("/api/projects").status_code == 405
    assert client.get("/openapi.json").json()["info"]["title"] == "Conclave API"
    assert client.get("/docs").status_code == 200


def test_other_methods_outside_the_api_are_not_the_ui(ui_dir):
    response = client_for(ui_dir).post("/workflows", json={})
    assert response.status_code in (404, 405)
    assert "conclave ui" not in response.text


def test_without_a_build_the_root_says_how_to_build_it(tmp_path):
    client = client_for(tmp_path / "missing")
    response = client.get("/")
    assert response.status_code == 404 and "not built" in response.text and "make up" in response.text
    assert client.get("/api/nope").json() == {"detail": "Not Found"}
