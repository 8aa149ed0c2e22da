"""Python out of small models' answers: the right block, no demo code, never an empty or broken module."""

from activities.sandbox import Limits, run_pytest
from agents.module_files import module_files, pick_block, python_module
from agents.prompts import FailingTest, failures_block
from agents.pytest_file import guard_tests
from agents.python_source import (
    interface,
    missing_imports,
    named_in,
    named_modules,
    path_for_tests,
    source_of_test,
    strip_demo,
    syntax_error,
)

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
    assert removed == [
        'print(slugify("A B"))',
        'result = print("x")',
        'for word in ["a"]:',
        'slugify("x")',
        'if __name__ == "__main__":',
    ]


def test_an_empty_or_broken_module_is_never_accepted():
    assert python_module("```python\n\n```").error == "the answer holds no Python code"
    broken = python_module("```python\ndef slugify(text)\n    return text\n```", "slug.py")
    assert broken.error is not None and broken.error.startswith("does not compile: slug.py, line 1")
    assert python_module("```python\nprint('hello')\n```").error == "the answer holds no Python code"
    assert python_module("```python\nimport os\nX = 1\n```").error == "defines no function or class"


def test_the_modules_of_an_answer_land_at_the_path_the_requirement_names():
    requirement = "Add `slugify(text)` in `utils/slug.py`; tests go in tests/test_slug.py."
    answer = (
        "```python\nimport re\n\ndef slugify(text: str) -> str:\n    return re.sub('[^a-z]+', '-', text.lower())\n\n"
        "print(slugify('A b'))\n```\nUsage:\n```python\nfrom utils.slug import slugify\nprint(slugify('x'))\n```\n"
        "`tests/test_slug.py`\n```python\ndef test_x():\n    assert True\n```"
    )
    code = module_files(answer, requirement)
    assert list(code.files) == ["utils/slug.py"], "the usage block and the developer's own tests are not modules"
    assert (
        code.error is None
        and "print(" not in code.files["utils/slug.py"]
        and code.changes == ["removed the demo code `print(slugify('A b'))`"]
    )
    assert list(module_files("```python\nclass WordCounter:\n    pass\n```").files) == ["word_counter.py"]
    assert module_files("```python\nfrom x import y\n```").error == "defines no function or class"
    assert module_files("Sorry, I cannot.").error == "the answer holds no Python module"
    assert module_files("```python\ndef f(:\n```").error.startswith("does not compile: solution.py, line 1")


def test_tests_get_the_real_module_not_a_pasted_copy():
    modules = {"utils/slug.py": "def slugify(text):\n    return text\n\nclass Slugger:\n    pass\n"}
    answer = (
        "```python\nimport pytest\n\ndef slugify(text):\n    return 'fake'\n\n"
        "def test_it():\n    assert slugify('A') == 'a'\n    assert Slugger()\n\ntest_it()\n```"
    )
    tests = guard_tests(answer, "tests/test_slug.py", modules)
    code = tests.files["tests/test_slug.py"]
    assert tests.error is None and code.startswith("from utils.slug import Slugger, slugify\n")
    assert "'fake'" not in code and "\ntest_it()" not in code
    cut_off = (
        "```python\nfrom utils.slug import slugify\n\ndef test_a():\n    assert slugify('A') == 'a'\n\n"
        "def test_b():\n    assert slugify('B') =="
    )
    salvaged = guard_tests(cut_off, "tests/test_slug.py", modules)
    assert salvaged.error is None and "def test_a" in salvaged.files["tests/test_slug.py"]
    assert "test_b" not in salvaged.files["tests/test_slug.py"]
    assert salvaged.changes == ["dropped the unfinished end of a cut-off answer (2 lines)"]
    assert guard_tests("```python\ndef helper():\n    pass\n```", "tests/t.py", modules).error == (
        "holds no test function (def test_...)"
    )


def test_the_tester_sees_signatures_not_bodies_and_a_failing_test_is_found_by_its_node_id():
    modules = {
        "stack.py": 'class Stack:\n    """A LIFO stack."""\n\n    def __init__(self):\n        self._items = []\n\n'
        "    def push(self, item: int) -> None:\n        self._items.append(item)\n\n"
        "    def _secret(self):\n        pass\n\n"
        'def peek(s: "Stack") -> int:\n    """The top item."""\n    return s._items[-1]\n'
    }
    api = interface(modules)
    assert "# stack.py (import it as `stack`)" in api and "class Stack:\n    # A LIFO stack." in api
    assert "def push(self, item: int) -> None: ..." in api and "def __init__(self): ..." in api
    assert "def peek(s: 'Stack') -> int: ...\n    # The top item." in api
    assert "append" not in api and "_secret" not in api
    tests = {
        "tests/test_stack.py": "class TestStack:\n    def test_push(self):\n        assert 1\n\n"
        "def test_b():\n    pass\n"
    }
    assert source_of_test(tests, "tests/test_stack.py::TestStack::test_push[1]").startswith("def test_push(self):")
    assert source_of_test(tests, "tests/test_stack.py::test_b") == "def test_b():\n    pass"
    assert source_of_test(tests, "tests/test_stack.py::test_missing") == ""
    assert path_for_tests(modules) == "tests/test_stack.py"
    assert named_modules("see `a/b.py` and test_b.py") == ["a/b.py"]


def test_a_forgotten_standard_import_is_added_and_failures_alike_are_shown_once():
    answer = (
        "```python\n'''Slugs.'''\ndef slugify(text, string=None):\n    return re.sub('[^a-z]', '', text) + os.sep\n```"
    )
    code = module_files(answer, "Write `slug.py`.")
    assert code.files["slug.py"].startswith("'''Slugs.'''\nimport os\nimport re\ndef slugify")
    assert "added the missing `import os`, `import re`" in code.changes
    assert missing_imports("import re as regex\ndef f(json):\n    return regex.x, json.y, undefined_name") == []

    same = [FailingTest(f"t.py::test_{n}", "", "NameError: name 'string' is not defined\nmore") for n in range(5)]
    block = failures_block([*same, FailingTest("t.py::test_x", "def test_x(): ...", "assert 1 == 2")])
    assert block.count("NameError") == 1 and "(and 4 more tests failing with the same error)" in block
    assert "### t.py::test_x\n```python\ndef test_x(): ...\n```" in block


def test_code_that_lacks_a_name_the_requirement_gives_is_sent_back():
    requirement = "Write `stack.py` with a class `Stack` (`push(item)`, `pop()`, `len(stack)`) and `EmptyStackError`."
    assert named_in(requirement) == ["Stack", "push", "pop", "EmptyStackError"]
    answer = "```python\nclass Stack:\n    def push(self, item):\n        pass\n\n    def pop(self):\n        pass\n```"
    assert module_files(answer, requirement).error == "does not define `EmptyStackError`, which the requirement names"
    fixed = answer.replace("```python\n", "```python\nclass EmptyStackError(Exception):\n    pass\n\n")
    assert module_files(fixed, requirement).error is None


def test_tests_written_into_the_module_are_taken_out_of_it_and_of_what_the_tester_sees():
    answer = (
        "```python\n# src/slugify.py\ndef slugify(text):\n    return text\n\n# src/tests/slugify_test.py\n"
        "import unittest\nfrom slugify import slugify\n\nclass TestSlugify(unittest.TestCase):\n"
        "    def test_a(self):\n        pass\n```"
    )
    code = module_files(answer)
    assert code.files == {
        "src/slugify.py": "# src/slugify.py\ndef slugify(text):\n    return text\n\n# src/tests/slugify_test.py\n\n"
    }
    assert interface(code.files) == "# src/slugify.py (import it as `src.slugify`)\ndef slugify(text): ..."


def test_a_module_that_would_hide_a_standard_library_module_is_sent_back():
    requirement = "Write `numbers.py` with `clamp(value, low, high)`."
    hiding = module_files("```python\ndef clamp(value, low, high):\n    return value\n```", requirement)
    assert list(hiding.files) == ["clamp.py"], "the name the requirement gives is not forced on it"
    named = module_files("`numbers.py`\n```python\ndef clamp(value, low, high):\n    return value\n```", requirement)
    assert named.error == "`numbers.py` would hide the standard-library module of that name: name it otherwise"


def test_a_test_of_many_independent_checks_becomes_one_test_per_check():
    modules = {"roman.py": "def to_roman(n):\n    return 'I' * n\n"}
    answer = (
        "```python\nimport pytest\nfrom roman import to_roman\n\n"
        "def test_to_roman():\n    # examples\n    assert to_roman(1) == 'I'\n    assert to_roman(4) == 'IV'\n"
        "    with pytest.raises(ValueError):\n        to_roman(0)\n    assert to_roman(4) == 'IV'\n\n"
        "def test_state():\n    items = [to_roman(2)]\n    assert items == ['II']\n    assert len(items) == 1\n```"
    )
    tests = guard_tests(answer, "tests/test_roman.py", modules)
    assert tests.error is None and tests.changes == [
        "split `test_to_roman` into 3 tests, one check each, 1 repeated check(s) dropped"
    ]
    result = run_pytest(tests.files | modules, limits=Limits(wall_seconds=60))
    outcomes = {t.name.split("::")[1]: t.outcome for t in result.tests}
    # one wrong example no longer hides the others; a test that sets up state is kept whole
    assert outcomes == {
        "test_to_roman_1": "passed",
        "test_to_roman_2": "failed",
        "test_to_roman_3": "failed",
        "test_state": "passed",
    }


def test_tests_that_contradict_each_other_are_dropped_and_repeats_kept_once():
    modules = {"textstats.py": "def word_count(text):\n    return len(text.split())\n"}
    answer = (
        "```python\nimport pytest\nfrom textstats import word_count\n\n"
        "def test_empty():\n    assert word_count('') == 0\n\n"
        "def test_trailing():\n    assert word_count('a b  ') == 3\n\n"
        "def test_trailing_again():\n    assert word_count('a b  ') == 4\n\n"
        "def test_trailing_raises():\n    with pytest.raises(ValueError):\n        word_count('a b  ')\n\n"
        "def test_two():\n    assert word_count('a b') == 2\n\n"
        "def test_two_again():\n    assert word_count('a b') == 2\n```"
    )
    tests = guard_tests(answer, "tests/test_textstats.py", modules)
    result = run_pytest(tests.files | modules, limits=Limits(wall_seconds=60))
    assert [t.name.split("::")[1] for t in result.tests] == ["test_empty", "test_two"] and result.status == "passed"
    assert tests.changes == [
        "removed `test_trailing`: it contradicts another test on `word_count('a b  ')`",
        "removed `test_trailing_again`: it contradicts another test on `word_count('a b  ')`",
        "removed `test_trailing_raises`: it contradicts another test on `word_count('a b  ')`",
        "removed `test_two_again`: it repeats the test above",
    ]


def test_an_assert_that_a_call_equals_an_exception_class_checks_that_it_raises():
    modules = {
        "duration.py": "def parse_duration(text):\n    if text == 'h':\n        raise ValueError(text)\n    return 45\n"
    }
    answer = (
        "```python\nfrom duration import parse_duration\n\n"
        "def test_units():\n    assert parse_duration('45s') == 45\n"
        "    assert parse_duration('h') == ValueError\n\n\n\n\n\n"
        "def test_no_number():\n    assert parse_duration('h') is ValueError\n```"
    )
    tests = guard_tests(answer, "tests/test_duration.py", modules)
    result = run_pytest(tests.files | modules, limits=Limits(wall_seconds=60))
    assert result.status == "passed" and result.passed == 2, result.output  # the repeated check is kept once
    assert "`assert parse_duration('h') == ValueError` now checks that it raises ValueError" in tests.changes
    assert "\n\n\n\n" not in tests.files["tests/test_duration.py"]
    wrong = {"duration.py": "def parse_duration(text):\n    return ValueError\n"}  # the check does not pass by itself
    assert run_pytest(tests.files | wrong, limits=Limits(wall_seconds=60)).passed == 0


def test_a_copy_of_the_interface_in_the_tests_is_dropped_and_the_interface_itself_compiles():
    modules = {
        "stack.py": "class EmptyStackError(Exception):\n    pass\n\nclass Stack:\n    def __init__(self):\n"
        "        self.items = []\n\n    def pop(self):\n        if not self.items:\n"
        "            raise EmptyStackError()\n        return self.items.pop()\n"
    }
    api = interface(modules)
    assert "class EmptyStackError(Exception):\n    ...\n" in api and syntax_error(api) is None
    copied = api.replace("    ...\n", "")  # as a model copies it: the exception class without a body
    answer = (
        f"```python\nimport pytest\n{copied}\n\ndef test_pop_empty():\n    with pytest.raises(EmptyStackError):\n"
        "        Stack().pop()\n```"
    )
    tests = guard_tests(answer, "tests/test_stack.py", modules)
    assert tests.error is None and "removed a copy of the module's interface that did not compile" in tests.changes
    result = run_pytest(tests.files | modules, limits=Limits(wall_seconds=60))
    assert result.status == "passed" and result.passed == 1, result.output  # the module's own classes were tested


def test_checks_written_under_a_copied_stub_become_a_test():
    modules = {"wordcount.py": "import re\n\ndef word_count(text):\n    return len(re.findall('[a-z]+', text))\n"}
    answer = (  # as the 0.5B tester wrote it: the stub it was shown, its checks indented under it, then cut off
        "```python\n# wordcount.py (import it as `wordcount`)\ndef word_count(text: str) -> int: ...\n"
        "    # Counts the words.\n    # Edge case: empty input\n    assert word_count('') == 0\n\n"
        "    assert word_count('a b') == 2\n    assert word_count('a b c\n"
    )
    tests = guard_tests(answer, "tests/test_wordcount.py", modules)
    assert tests.error is None, tests.error
    result = run_pytest(tests.files | modules, limits=Limits(wall_seconds=60))
    assert [t.name.split("::")[1] for t in result.tests] == ["test_word_count_1", "test_word_count_2"]
    assert result.status == "passed", result.output


def test_an_exception_class_raised_but_never_defined_is_defined_on_the_base_the_requirement_gives():
    requirement = "Write `stack.py` with a class `Stack` and an exception class `EmptyStackError(LookupError)`."
    answer = (
        "```python\nimport re\n\nclass Stack:\n    def pop(self):\n        raise EmptyStackError('empty')\n\n"
        "    def check(self, text):\n        if not re.match('a', text):\n            raise BadInput(text)\n```"
    )
    code = module_files(answer, requirement)
    assert code.error is None and code.changes == ["defined the missing exception class(es) `EmptyStackError`"]
    module = code.files["stack.py"]
    assert module.startswith("import re\n\n\nclass EmptyStackError(LookupError):\n    pass\n\n\nclass Stack:")
    check = "from stack import EmptyStackError\n\ndef test_b():\n    assert issubclass(EmptyStackError, LookupError)\n"
    assert run_pytest({"stack.py": module, "tests/test_s.py": check}).status == "passed"
