"""The default model is assembled from its PyPI parts once, verified by SHA-256."""

import hashlib
from pathlib import Path

import pytest

from agents.llm import LLMError
from agents.llm.model import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256, assemble, ensure_default_model


def write_parts(directory: Path, chunks: list[bytes]) -> list[Path]:
    parts = []
    for i, chunk in enumerate(chunks, 1):
        part = directory / f"part{i:02d}.bin"
        part.write_bytes(chunk)
        parts.append(part)
    return parts


def test_parts_are_joined_in_order_and_reused_once_verified(tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes(1000), b"second" * 100, b"end"]
    parts = write_parts(tmp_path, chunks)
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    target = assemble(parts, tmp_path / "cache" / "model.gguf", sha)
    assert target.read_bytes() == b"".join(chunks)
    mtime = target.stat().st_mtime_ns
    assert assemble(parts, target, sha) == target
    assert target.stat().st_mtime_ns == mtime  # verified stamp: not rebuilt


def test_a_wrong_checksum_leaves_no_file_behind(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, [b"abc", b"def"])
    with pytest.raises(LLMError, match="corrupt"):
        assemble(parts, tmp_path / "cache" / "model.gguf", "0" * 64)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_truncated_cached_model_is_rebuilt(tmp_path: Path) -> None:
    chunks = [b"one" * 50, b"two" * 50]
    parts = write_parts(tmp_path, chunks)
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    target = assemble(parts, tmp_path / "m.gguf", sha)
    target.write_bytes(b"one")  # damaged after it was verified
    assert assemble(parts, target, sha).read_bytes() == b"".join(chunks)


def test_the_default_model_assembles_from_the_installed_parts(tmp_path: Path) -> None:
    model = ensure_default_model(tmp_path)
    try:
        assert model.name == DEFAULT_MODEL_FILE
        with model.open("rb") as f:
            assert f.read(4) == b"GGUF"
        assert (tmp_path / f"{DEFAULT_MODEL_FILE}.sha256").read_text().split()[0] == DEFAULT_MODEL_SHA256
    finally:
        model.unlink()  # ~470 MB: not left behind in pytest's kept temporary directories
