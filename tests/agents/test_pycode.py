"""Python out of small models' answers: the right block, no demo code, never an empty or broken module."""

from agents.pycode import pick_block, python_module, strip_demo

MODULE = 'def slugify(text: str) -> str:\n    return "-".join(text.lower().split())\n'


def test_the_module_is_found_among_prose_and_example_blocks():
    answer = (
        "Here is the implementation.\n\n**utils/slug.py**\n```python\n" + MODULE + "```\n\n"
        "Example usage:\n```python\nprint(slugify('Hello World'))\n```\nHope this helps!"
    )
    assert python_module(answer, "utils/slug.py").code == MODULE
    assert pick_block(answer) == MODULE, "without a path: the largest block"


def test_an_unterminated_fence_and_a_fenceless_answer_still_give_the_module():
    assert python_module("```python\n" + MODULE).code == MODULE
    assert python_module(MODULE).code == MODULE
    assert (
        python_module("I would write a function that lowercases the text.").error == "the answer holds no Python code"
    )


def test_top_level_demo_code_is_removed_and_definitions_kept():
    code = (
        '"""Slugs."""\nimport re\n\nSEPARATOR = "-"\n\n\n@staticmethod\ndef slugify(text):\n    return text\n\n'
        'print(slugify("A B"))\nresult = print("x")\nfor word in ["a"]:\n    print(word)\nslugify("x")\n\n'
        'if __name__ == "__main__":\n    print(slugify("Hello"))\n'
    )
    stripped, removed = strip_demo(code)
    assert (
        stripped
        == '"""Slugs."""\nimport re\n\nSEPARATOR = "-"\n\n\n@staticmethod\ndef slugify(text):\n    return text\n'
    )
    assert removed == ['print(slugify("A B"))', 'result = print("x")', 'for word in ["a"]:', 'slugify("x")',
                       'if __name__ == "__main__":']  # fmt: skip


def test_an_empty_or_broken_module_is_never_accepted():
    assert python_module("```python\n\n```").error == "the answer holds no Python code"
    broken = python_module("```python\ndef slugify(text)\n    return text\n```", "slug.py")
    assert broken.error is not None and broken.error.startswith("does not compile: slug.py, line 1")
    assert python_module("```python\nprint('hello')\n```").error == "the answer holds no Python code"
    assert python_module("```python\nimport os\nX = 1\n```").error == "defines no function or class"
