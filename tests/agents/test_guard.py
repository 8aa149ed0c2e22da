"""The guardrails on their own: loop detection, JSON repair, code blocks and paths."""

import pytest

from agents.guard import RepetitionDetector, extract_code_blocks, parse_json_object, safe_path


def feed_all(detector: RepetitionDetector, text: str, piece: int = 5) -> bool:
    return any(detector.feed(text[i : i + piece]) for i in range(0, len(text), piece))


def test_a_repeated_line_is_a_loop_and_is_trimmed_to_one_copy() -> None:
    text = "Here is the plan.\n" + "- check the input again\n" * 30
    detector = RepetitionDetector()
    assert feed_all(detector, text)
    trimmed = detector.trim(text)
    assert trimmed.startswith("Here is the plan.")
    assert trimmed.count("- check the input again") == 1


def test_a_long_varied_answer_is_not_a_loop() -> None:
    text = "\n".join(f"def f{i}(x):\n    return x * {i} + {i * i}\n" for i in range(200))
    assert not feed_all(RepetitionDetector(), text)


def test_a_short_repeated_token_is_a_loop() -> None:
    assert feed_all(RepetitionDetector(), "The answer is" + " yes" * 200)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('{"verdict": "approve", "findings": []}', {"verdict": "approve", "findings": []}),
        ('Sure! Here it is:\n```json\n{"a": 1}\n```\nHope that helps.', {"a": 1}),
        ('{"a": [1, 2,], "b": "x",}', {"a": [1, 2], "b": "x"}),
        ('{"summary": "cut off in the mid', {"summary": "cut off in the mid"}),
        ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),
        ('{"a": 1, "b":', {"a": 1}),
    ],
)
def test_parse_json_object_repairs_common_small_model_mistakes(answer: str, expected: dict) -> None:
    assert parse_json_object(answer) == expected


@pytest.mark.parametrize("answer", ["I approve this change.", "[1, 2, 3]", ""])
def test_parse_json_object_refuses_what_is_not_an_object(answer: str) -> None:
    with pytest.raises(ValueError):
        parse_json_object(answer)


def test_code_blocks_take_the_path_named_before_them() -> None:
    answer = (
        "The module:\n\n`src/slug.py`\n```python\ndef slugify(text):\n    return text\n```\n\n"
        "**File: tests/test_slug.py**\n```python\ndef test_it():\n    assert True\n```\n"
    )
    blocks = extract_code_blocks(answer, default_stem="code")
    assert [(b.path, b.language) for b in blocks] == [("src/slug.py", "python"), ("tests/test_slug.py", "python")]
    assert blocks[0].code == "def slugify(text):\n    return text\n"


def test_code_blocks_without_a_path_get_one_from_the_step_and_language() -> None:
    answer = "Plan, e.g. this:\n```python\nx = 1\n```\nand\n```yaml\na: 1\n```"
    assert [b.path for b in extract_code_blocks(answer, default_stem="design")] == ["design_1.py", "design_2.yaml"]


def test_a_first_line_comment_names_the_file() -> None:
    blocks = extract_code_blocks("```python\n# file: app/main.py\nprint(1)\n```")
    assert blocks[0].path == "app/main.py"


def test_an_unterminated_fence_still_yields_its_code() -> None:
    blocks = extract_code_blocks("`calc.py`\n```python\ndef add(a, b):\n    return a + b\n")
    assert [(b.path, b.code) for b in blocks] == [("calc.py", "def add(a, b):\n    return a + b\n")]


def test_empty_blocks_are_dropped_and_duplicate_paths_renamed() -> None:
    answer = "`a.py`\n```python\n```\n`a.py`\n```python\nx = 1\n```\n`a.py`\n```python\nx = 2\n```"
    assert [b.path for b in extract_code_blocks(answer, "s")] == ["a.py", "s_2.py"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/a.py", "src/a.py"),
        ("./src//a.py", "src/a.py"),
        ("/etc/passwd", None),
        ("../x.py", None),
        ("a/../../x.py", None),
        ("C:/x.py", None),
        ("`b.py`", "b.py"),
    ],
)
def test_paths_never_leave_the_workspace(path: str, expected: str | None) -> None:
    assert safe_path(path) == expected
