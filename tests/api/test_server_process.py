"""The API as `make up` runs it: `python -m api`, configured by the environment, on a real socket."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_python_m_api_serves_health_from_the_environment(database_url, db, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "API_PORT": str(port), "API_HOST": "127.0.0.1"}
    log = (tmp_path / "api.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, report = _get(f"http://127.0.0.1:{port}/api/health")
                break
            except OSError:
                assert server.poll() is None, Path(log.name).read_text()
                assert time.monotonic() < deadline, "API did not answer within 30 s"
                time.sleep(0.2)
        assert status == 200
        assert report["components"]["database"]["status"] == "up"
        status, templates = _get(f"http://127.0.0.1:{port}/api/agents/templates")
        assert status == 200 and len(templates) == 7
    finally:
        server.terminate()
        server.wait(timeout=20)
    output = Path(log.name).read_text()
    assert "Traceback" not in output
