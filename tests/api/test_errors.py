"""Bad requests get a clear 4xx and change nothing."""

import json

import pytest


def _count(client):
    return client.get("/api/projects").json()["total"]


def test_body_over_1_mib_is_413_and_creates_nothing(client):
    body = json.dumps({"name": "x" * (2 << 20), "type": "web_app"})
    response = client.post("/api/projects", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert _count(client) == 0


def test_streamed_body_over_1_mib_without_length_is_413(client):
    def chunks():
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'", "type": "web_app"}'

    response = client.post("/api/projects", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _count(client) == 0


def test_body_just_under_the_limit_is_accepted(client):
    description = "d" * (1024 * 1024 - 200)
    response = client.post("/api/projects", json={"name": "big", "type": "library", "description": description})
    assert response.status_code == 201
    assert len(response.json()["description"]) == len(description)


def test_malformed_json_is_422(client):
    response = client.post("/api/projects", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "detail" in response.json()
    assert _count(client) == 0


def test_non_finite_numbers_and_deep_nesting_are_refused(client):
    raw = b'{"name": "x", "type": "web_app", "metadata": {"ratio": 1e999}}'
    response = client.post("/api/projects", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["n"] = {}
        node = node["n"]
    assert client.post("/api/projects", json={"name": "x", "type": "web_app", "metadata": deep}).status_code == 422
    assert _count(client) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "a\\ud800b", "type": "web_app"}',  # an unpaired surrogate: not storable as UTF-8
        b'{"name": "ok", "type": "web_app", "metadata": {"key\\udc00": 1}}',
        b'{"name": "ok", "type": "web_app", "description": "nul \\u0000 inside"}',
    ],
)
def test_text_postgresql_cannot_store_is_422_not_500(client, raw):
    response = client.post("/api/projects", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert _count(client) == 0


def test_wrong_method_is_405(client):
    assert client.patch("/api/projects").status_code == 405


def test_cors_allows_the_configured_ui_origin(client):
    response = client.options(
        "/api/projects",
        headers={"Origin": "http://localhost:4200", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:4200"
    other = client.options(
        "/api/projects", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
