"""Guardrails for small models: loop detection, JSON repair and code-block extraction. Pure functions, no I/O."""

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any


class RepetitionDetector:
    """Notices when streamed text has fallen into a loop: its tail repeats one block over and over.

    The tail is periodic with some period p (1..max_period characters) over at least `min_span` characters and at
    least `min_repeats` periods. That catches a line, a sentence or a token repeated until max_tokens, which is the
    usual failure of a small model, while a long but varied answer never trips it.
    """

    def __init__(self, max_period: int = 300, min_span: int = 240, min_repeats: int = 3, window: int = 4000) -> None:
        self.max_period = max_period
        self.min_span = min_span
        self.min_repeats = min_repeats
        self.window = window
        self._text = ""
        self._unchecked = 0
        self.period: int | None = None

    def feed(self, piece: str) -> bool:
        """Add generated text; True once the tail is a loop (then stop generating)."""
        self._text = (self._text + piece)[-self.window :]
        self._unchecked += len(piece)
        if self._unchecked < 32:
            return False
        self._unchecked = 0
        return self._check()

    def _check(self) -> bool:
        text = self._text
        for period in range(1, self.max_period + 1):
            span = max(self.min_span, self.min_repeats * period)
            if span + period > len(text):
                break
            if text[-span:] == text[-span - period : -period]:
                self.period = period
                return True
        return False

    def trim(self, text: str) -> str:
        """The text with its looping tail cut back to a single occurrence of the repeated block."""
        if self.period is None:
            return text
        p = self.period
        start = len(text) - p  # walk back while the text keeps repeating with period p
        while start > 0 and text[start - 1] == text[start - 1 + p]:
            start -= 1
        return text[: start + p].rstrip()


# --- JSON ------------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\s*\n?")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer, repairing what small models commonly get wrong.

    Handles prose or code fences around the object, trailing commas, and an answer cut off by max_tokens (open
    strings, arrays and objects are closed). Raises ValueError when there is no object to be found.
    """
    cleaned = _FENCE.sub("", text).strip()
    start = cleaned.find("{")
    if start < 0:
        raise ValueError("the answer contains no JSON object")
    candidate = cleaned[start:]
    end = candidate.rfind("}")
    attempts = [candidate[: end + 1]] if end >= 0 else []
    attempts.append(_close_truncated(candidate))
    error: Exception | None = None
    for attempt in attempts:
        for variant in (attempt, _TRAILING_COMMA.sub(r"\1", attempt)):
            try:
                value = json.loads(variant)
            except json.JSONDecodeError as exc:
                error = exc
                continue
            if isinstance(value, dict):
                return value
            error = ValueError("the answer's JSON is not an object")
    raise ValueError(f"the answer is not valid JSON ({error})")


def _close_truncated(text: str) -> str:
    """Close the strings, arrays and objects a cut-off JSON text left open, dropping a dangling key or comma."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    out = text + ('"' if in_string else "")
    out = re.sub(r'(,\s*"[^"]*"\s*:?\s*|,\s*|:\s*)$', "", out.rstrip())
    return out + "".join(reversed(stack))


# --- code blocks -----------------------------------------------------------------------------------------------

# a fence's language -> the extension of its file (a table: kept four to a line, not one pair per line)
EXTENSIONS = {
    "python": "py", "py": "py", "python3": "py", "javascript": "js", "js": "js", "typescript": "ts", "ts": "ts",
    "json": "json", "yaml": "yaml", "yml": "yaml", "toml": "toml", "ini": "ini", "sql": "sql", "bash": "sh",
    "sh": "sh", "shell": "sh", "dockerfile": "Dockerfile", "markdown": "md", "md": "md", "html": "html",
    "css": "css", "go": "go", "rust": "rs", "java": "java", "make": "mk", "makefile": "mk", "text": "txt",
}  # fmt: skip
_KNOWN_EXTENSIONS = {e.lower() for e in EXTENSIONS.values()} | {"yml", "cfg", "txt", "rst", "env", "jsx", "tsx"}
_BLOCK = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.M | re.S)
_PATH = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w.-]*\w\.(?:[A-Za-z]{1,5}))(?![\w/])|\b(Dockerfile|Makefile)\b")
_COMMENT_PATH = re.compile(r"^\s*(?:#|//|--)\s*(?:file(?:name)?\s*:\s*)?(\S+\.\w{1,5})\s*$", re.I)


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str
    path: str


def safe_path(path: str) -> str | None:
    """A relative, normalized path inside the run's workspace, or None for anything that would leave it."""
    path = path.strip().strip("`*'\"").replace("\\", "/")
    if not path or path.startswith("/") or ":" in path:
        return None
    norm = posixpath.normpath(path)
    if norm.startswith("..") or norm in (".", "") or len(norm) > 200:
        return None
    return norm


def extract_code_blocks(text: str, default_stem: str = "output") -> list[CodeBlock]:
    """The fenced code blocks of an answer, each with a path.

    The path comes from the line just before the fence (`src/slug.py`, **File: app.py**) or from a first-line
    comment in the block (`# file: app.py`); otherwise it is `<default_stem>_<n>.<ext>` from the fence's language.
    An unterminated last fence (the model ran out of tokens) still yields its block.
    """
    blocks: list[CodeBlock] = []
    used: set[str] = set()
    for match in _BLOCK.finditer(text):
        language = match.group(1).lower()
        code = match.group(2)
        if not code.strip():
            continue
        lines = code.splitlines()
        path = None
        comment = _COMMENT_PATH.match(lines[0]) if lines else None
        if comment:
            path = safe_path(comment.group(1))
        if path is None:
            path = _path_before(text[: match.start()])
        if path is None or path in used:
            ext = EXTENSIONS.get(language, "txt")
            n = len(blocks) + 1
            path = ext if ext == "Dockerfile" and "Dockerfile" not in used else f"{default_stem}_{n}.{ext}"
        used.add(path)
        blocks.append(CodeBlock(language=language or "text", code=code.rstrip() + "\n", path=path))
    return blocks


def _path_before(preceding: str) -> str | None:
    lines = [line for line in preceding.splitlines()[-3:] if line.strip()]
    if not lines:
        return None
    found = _PATH.findall(lines[-1])
    if not found:
        return None
    for plain, special in reversed(found):
        candidate = plain or special
        if special or candidate.rsplit(".", 1)[-1].lower() in _KNOWN_EXTENSIONS:
            return safe_path(candidate)
    return None
