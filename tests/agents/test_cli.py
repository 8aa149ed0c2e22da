"""`python -m agents`: one agent or one decision on a requirement, the thread printed."""

import os
import subprocess
import sys

from config import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_BACKEND": "scripted", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "agents", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_produce_prints_the_agents_message_and_its_files() -> None:
    result = run_cli("produce", "--role", "developer", "--requirement", "Write slugify(text)", "--no-check")
    assert result.returncode == 0, result.stderr
    assert "Developer (developer) - proposal" in result.stdout
    assert "I have read the request" in result.stdout and "Write slugify(text)" in result.stdout
    assert "file: scripted/solution.py" in result.stdout


def test_decide_prints_proposal_votes_and_decision() -> None:
    result = run_cli(
        "decide",
        "--problem",
        "Which store?",
        "--variant",
        "PostgreSQL",
        "--variant",
        "Files",
        "--roles",
        "architect,reviewer",
        "--requirement",
        "Keep sessions",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Options:\nA: PostgreSQL\nB: Files" in out
    assert out.count(" - vote ") == 2 and "Decision: A - PostgreSQL" in out and "Votes: A 2, B 0." in out


def test_a_missing_model_is_a_clear_error() -> None:
    result = run_cli("produce", "--requirement", "x", "--model", "/nonexistent/model.gguf")
    assert result.returncode == 1
    assert "error: LLM_MODEL_PATH=/nonexistent/model.gguf is not a file" in result.stderr
