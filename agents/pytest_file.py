"""A tester's answer read into the pytest file it holds, made to test the real module (`guard_tests`).

A small model pastes its own copy of the code into its tests, copies the interface it was shown as stubs that do not
compile, writes `assert f(x) == ValueError` when it means that f raises, puts every example into one test and, when
it loops, writes tests that contradict one another. Each of these is undone here, and every change is said. Pure
functions, no I/O.
"""

import ast
import re
import textwrap

from agents.guard import extract_code_blocks
from agents.module_files import PYTHON, CodeFiles
from agents.python_source import (
    EXCEPTION_NAME,
    defines,
    import_name,
    is_test_path,
    salvage,
    salvaged,
    snake,
    strip_demo,
    syntax_error,
    with_imports,
)


def guard_tests(text: str, path: str, modules: dict[str, str]) -> CodeFiles:
    """The pytest file of a tester's answer, made to test the real module: definitions that shadow the module's own
    names are dropped (a small model pastes its own version of the code and tests that), and a file that does not
    import the module gets the import. Acceptable when it compiles and holds at least one test."""
    blocks = [b for b in extract_code_blocks(text) if b.language in PYTHON or b.path.endswith(".py")]
    tests = [b for b in blocks if is_test_path(b.path)] or blocks
    code = max(tests, key=lambda b: len(b.code)).code if tests else (text if syntax_error(text) is None else "")
    changes: list[str] = []
    provided = {name: import_name(p) for p, c in modules.items() for name in defines(c)}
    stubless = _without_stubs(code, set(provided)) if syntax_error(code, path) else code
    if stubless != code and syntax_error(salvage(stubless), path) is None:
        code = stubless
        changes.append("removed a copy of the module's interface that did not compile")
    code, dropped = strip_demo(salvaged(code, changes))
    changes += [f"removed the demo code `{line[:80]}`" for line in dropped]
    if not code.strip():
        return CodeFiles({}, "the answer holds no pytest code", changes)
    if error := syntax_error(code, path):
        return CodeFiles({path: code}, f"does not compile: {error}", changes)
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in provided:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            changes.append(f"removed `{lines[start - 1].strip()[:80]}`, which shadowed the module's own")
            del lines[start - 1 : node.end_lineno]
    code = _without_contradictions(_one_check_per_test(_raises_for_errors("".join(lines), changes), changes), changes)
    imported = {
        alias.asname or alias.name
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.ImportFrom | ast.Import)
        for alias in node.names
    }
    used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    missing = sorted(name for name in provided if name in used and name not in imported)
    by_module: dict[str, list[str]] = {}
    for name in missing:
        by_module.setdefault(provided[name], []).append(name)
    header = "".join(f"from {module} import {', '.join(names)}\n" for module, names in by_module.items())
    code = _tidy_blank_lines(with_imports(header + code, changes, known=frozenset({"pytest"})))
    if not any(
        (isinstance(n, ast.FunctionDef) and n.name.startswith("test"))
        or (isinstance(n, ast.ClassDef) and n.name.startswith("Test"))
        for n in ast.parse(code).body
    ):
        return CodeFiles({path: code}, "holds no test function (def test_...)", changes)
    return CodeFiles({path: code}, None, changes)


def _raises_for_errors(code: str, changes: list[str]) -> str:
    """`assert f(x) == ValueError` (or `is`) in a test becomes `with pytest.raises(ValueError): f(x)`: a small model
    writes the one when it means the other, and no function returns an exception class where a requirement says it
    raises."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    found = [
        node
        for test in tree.body
        if isinstance(test, ast.FunctionDef) and test.name.startswith("test")
        for node in test.body
        if isinstance(node, ast.Assert)
        and isinstance(node.test, ast.Compare)
        and len(node.test.ops) == 1
        and isinstance(node.test.ops[0], ast.Eq | ast.Is)
        and EXCEPTION_NAME.fullmatch(ast.unparse(node.test.comparators[0]))
    ]
    for node in reversed(found):
        assert isinstance(node.test, ast.Compare)
        indent = " " * node.col_offset
        error, call = ast.unparse(node.test.comparators[0]), ast.unparse(node.test.left)
        lines[node.lineno - 1 : node.end_lineno] = [f"{indent}with pytest.raises({error}):\n{indent}    {call}\n"]
        changes.append(f"`assert {call[:60]} == {error}` now checks that it raises {error}")
    return "".join(lines)


_STUB_HEADER = re.compile(r"(?:class|def)\s+(\w+)")


def _without_stubs(code: str, names: set[str]) -> str:
    """The code without top-level stubs of the module's own names (`class Stack:`, `def pop(self): ...` and their
    `...` and comment lines): a small model copies the interface it was shown into its tests, where a stub class
    without a body does not compile. A model that goes on writing checks under a stub (`def f(x): ...`, then
    indented asserts) meant them as a test: they become `def test_f():`."""
    kept: list[str] = []
    stub: str | None = None  # the name of the stub being left out
    for line in code.splitlines(keepends=True):
        text = line.strip()
        header = _STUB_HEADER.match(line)
        if header and header.group(1) in names and (line.startswith("class") or text.endswith("...")):
            stub = header.group(1)
            continue
        if stub is not None:
            indented = line[0] in " \t"
            if not text or (indented and (text.startswith("#") or text.endswith("..."))):
                continue
            if indented:
                kept.append(f"def test_{snake(stub)}():\n")
            stub = None
        kept.append(line)
    return "".join(kept)


def _tidy_blank_lines(code: str) -> str:
    """Runs of blank lines (left where tests were dropped, or where the model padded) cut to two, unless that would
    change the code (a string holding them)."""
    tidy = re.sub(r"\n(?:[ \t]*\n){3,}", "\n\n\n", code)
    return tidy if ast.dump(ast.parse(tidy)) == ast.dump(ast.parse(code)) else code


def _is_check(node: ast.stmt) -> bool:
    """`assert ...` or `with pytest.raises(...): ...`: a check that stands alone."""
    if isinstance(node, ast.Assert):
        return True
    return isinstance(node, ast.With) and all(
        isinstance(item.context_expr, ast.Call) and ast.unparse(item.context_expr.func) == "pytest.raises"
        for item in node.items
    )


def _one_check_per_test(code: str, changes: list[str]) -> str:
    """A test function made only of independent checks (asserts on fresh calls, `pytest.raises` blocks) becomes one
    test per check, `test_x_1`, `test_x_2`...: a small model puts every example into one test, and one wrong
    expectation then fails all of them. Apart, each example counts, and a wrong one can be ruled out alone. Tests
    with any other statement (state set up, then checked) are kept whole: their checks depend on each other."""
    tree = ast.parse(code)
    taken = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    lines = code.splitlines(keepends=True)
    for node in reversed(tree.body):
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not node.decorator_list):
            continue
        if node.args.args or node.args.posonlyargs or node.args.kwonlyargs or node.args.vararg or node.args.kwarg:
            continue  # fixtures: keep as written
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        if len(body) < 2 or not all(_is_check(stmt) for stmt in body):
            continue
        checks = [ast.unparse(stmt) for stmt in body]
        # a small model that loops repeats one check many times: each is kept once (repeats across tests are
        # dropped afterwards, by _without_contradictions)
        unique = list(dict.fromkeys(checks))
        parts = []
        for number, check in enumerate(unique, 1):
            name = f"{node.name}_{number}"
            while name in taken:
                name += "_"
            taken.add(name)
            parts.append(f"def {name}():\n" + textwrap.indent(check, "    ") + "\n")
        lines[node.lineno - 1 : node.end_lineno] = ["\n\n".join(parts)]
        repeated = f", {len(checks) - len(unique)} repeated check(s) dropped" if len(unique) < len(checks) else ""
        changes.append(f"split `{node.name}` into {len(unique)} tests, one check each{repeated}")
    return "".join(lines)


def _expectation(node: ast.FunctionDef) -> tuple[str, str] | None:
    """What a one-check test expects of which expression: `assert f(1) == 2` gives ("f(1)", "== 2"),
    `with pytest.raises(E): f(1)` gives ("f(1)", "raises E"); None for any other test."""
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if len(body) != 1:
        return None
    check = body[0]
    if isinstance(check, ast.Assert) and isinstance(test := check.test, ast.Compare) and len(test.ops) == 1:
        return (
            (ast.unparse(test.left), f"== {ast.unparse(test.comparators[0])}")
            if isinstance(test.ops[0], ast.Eq | ast.Is)
            else None
        )
    if (
        _is_check(check)
        and isinstance(check, ast.With)
        and len(check.body) == 1
        and isinstance(call := check.body[0], ast.Expr)
    ):
        return ast.unparse(call.value), f"raises {ast.unparse(check.items[0].context_expr)}"
    return None


def _without_contradictions(code: str, changes: list[str]) -> str:
    """Tests that expect different results of the same expression (`f(2) == 3` in one, `f(2) == 4` in another, or
    raising in a third) cannot all pass: which one is right is unknown, so none of them is kept. A small model that
    loops writes such sets; left in, they fail the right code. Identical tests are kept once."""
    tree = ast.parse(code)
    expected: dict[str, dict[str, list[ast.FunctionDef]]] = {}
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    for node in tests:
        if not node.decorator_list and (found := _expectation(node)) is not None:
            expected.setdefault(found[0], {}).setdefault(found[1], []).append(node)
    drop: dict[str, str] = {}  # test name: why it goes
    for expression, outcomes in expected.items():
        if len(outcomes) > 1:
            reason = f"it contradicts another test on `{expression[:60]}`"
            drop.update({n.name: reason for nodes in outcomes.values() for n in nodes})
        else:
            drop.update({n.name: "it repeats the test above" for nodes in outcomes.values() for n in nodes[1:]})
    lines = code.splitlines(keepends=True)
    for node in reversed(tests):
        if node.name in drop:
            del lines[node.lineno - 1 : node.end_lineno]
    changes += [f"removed `{node.name}`: {drop[node.name]}" for node in tests if node.name in drop]
    return "".join(lines)
