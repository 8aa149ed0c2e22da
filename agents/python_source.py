"""Python from a small model's answer, made fit to import: the right code block, no demo code, and compiling.

Small models wrap code in prose, write several blocks (the module, then "example usage"), forget to close a fence,
and end modules with `print(...)` calls or an `if __name__ == "__main__":` demo. Before any of it is run or
accepted, `python_module` picks the block, `strip_demo` keeps only what a module should do on import (imports,
definitions, constants, its docstring) and `syntax_error` says whether it compiles. Pure functions, no I/O.
"""

import ast
import builtins
import contextlib
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from agents.guard import CodeBlock, extract_code_blocks, safe_path

PYTHON = ("python", "py", "python3", "")
# What a module may do at import: define things, import things, bind names, document itself.
UNNAMED = "unnamed"  # the stem of a block without a file name, until it gets one
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


@dataclass(frozen=True)
class Module:
    code: str
    error: str | None  # why it is not acceptable (empty, does not compile); None: it is
    removed: list[str]  # the top-level statements dropped as demo code, first line of each


def salvage(code: str) -> str:
    """Code cut off mid-statement (the model ran out of tokens, often in a loop) without its unfinished tail: the
    longest run of its first lines that compiles, if that keeps at least half of it; else the code as it is."""
    if syntax_error(code) is None:
        return code
    lines = code.splitlines(keepends=True)
    for end in range(len(lines) - 1, len(lines) // 2, -1):
        head = "".join(lines[:end])
        if head.strip() and syntax_error(head) is None:
            return head
    return code


def missing_imports(code: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Standard-library modules the code uses by name (`string.punctuation`, `re.sub`) but never imports: the most
    common slip of a small model, and a NameError only when the function runs."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    modules = sys.stdlib_module_names | known
    return sorted(name for name in _unbound(tree) if name in modules and not name.startswith("_"))


def _unbound(tree: ast.Module) -> set[str]:
    """Names the code reads but never binds (no import, definition, assignment or argument), builtins aside."""
    bound: set[str] = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound


def with_imports(code: str, changes: list[str], known: frozenset[str] = frozenset()) -> str:
    """The code with the standard-library (and `known`) imports it forgot, after its docstring and `__future__`
    imports."""
    missing = missing_imports(code, known)
    if not missing:
        return code
    changes.append("added the missing " + ", ".join(f"`import {m}`" for m in missing))
    tree = ast.parse(code)
    at = 0
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            at = node.end_lineno or at
    lines = code.splitlines(keepends=True)
    return "".join([*lines[:at], *(f"import {m}\n" for m in missing), *lines[at:]])


def _after_header(tree: ast.Module) -> int:
    """The line after a module's docstring and its leading imports: where added lines go."""
    at = 0
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring or isinstance(node, ast.Import | ast.ImportFrom)):
            break
        at = node.end_lineno or at
    return at


_EXCEPTION_NAME = re.compile(r"[A-Z]\w*(?:Error|Exception)")


def exception_names(text: str) -> list[str]:
    """The exception classes a text (a requirement) names: `ValueError`, `EmptyStackError`..."""
    return sorted({m.group() for m in re.finditer(rf"\b{_EXCEPTION_NAME.pattern}\b", text)})


def with_exceptions(code: str, requirement: str, changes: list[str]) -> str:
    """The code with the exception classes it raises but never defines (`raise EmptyStackError(...)`, a NameError
    when it runs): each defined after the imports, on the base the requirement gives (`EmptyStackError(LookupError)`)
    or `Exception`."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    missing = sorted(n for n in _unbound(tree) if _EXCEPTION_NAME.fullmatch(n))
    if not missing:
        return code
    classes = []
    for name in missing:
        given = re.search(rf"\b{name}\(\s*([A-Z]\w*)\s*\)", requirement)
        base = given.group(1) if given and isinstance(getattr(builtins, given.group(1), None), type) else "Exception"
        classes.append(f"class {name}({base}):\n    pass\n")
    changes.append("defined the missing exception class(es) " + ", ".join(f"`{n}`" for n in missing))
    lines = code.splitlines(keepends=True)
    at = _after_header(tree)
    head, rest = "".join(lines[:at]), "".join(lines[at:]).lstrip("\n")
    return (f"{head.rstrip(chr(10))}\n\n\n" if head else "") + "\n\n".join(classes) + "\n\n" + rest


def _salvaged(code: str, changes: list[str]) -> str:
    kept = salvage(code)
    if kept != code:
        changes.append(
            f"dropped the unfinished end of a cut-off answer ({len(code.splitlines()) - len(kept.splitlines())} lines)"
        )
    return kept


def syntax_error(code: str, filename: str = "module.py") -> str | None:
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{filename}, line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. a NUL byte
        return f"{filename}: {exc}"
    return None


def pick_block(text: str, path: str | None = None) -> str:
    """The Python code of an answer: the block named `path`, else the largest block that compiles, else the largest
    block, else the whole answer when it compiles as it is (a model that wrote no fence)."""
    blocks = [b for b in extract_code_blocks(text) if b.language in PYTHON or b.path.endswith(".py")]
    if path is not None and (named := [b for b in blocks if b.path == path or b.path.endswith("/" + path)]):
        return named[-1].code
    compiling = [b for b in blocks if syntax_error(b.code) is None]
    if compiling or blocks:
        return max(compiling or blocks, key=lambda b: len(b.code)).code
    return text if syntax_error(text) is None else ""


def strip_demo(code: str) -> tuple[str, list[str]]:
    """The module without its top-level demo: calls, prints, loops and `if __name__ == "__main__":` blocks go, with
    what was removed. Code that does not parse is returned as it is (the syntax check reports it)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code, []
    lines = code.splitlines(keepends=True)
    drop: list[tuple[int, int]] = []
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if (isinstance(node, KEPT) and not _calls_print(node)) or docstring:
            continue
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        drop.append((start - 1, node.end_lineno or node.lineno))
    removed = [lines[start].strip() for start, _ in drop]
    for start, end in reversed(drop):
        del lines[start:end]
    return "".join(lines).rstrip() + "\n", removed


def _calls_print(node: ast.AST) -> bool:
    """An assignment made by printing or reading input (`x = print(...)`, `name = input()`) is demo code too."""
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("print", "input")
            for n in ast.walk(node)
        )
    return False


def python_module(text: str, path: str | None = None) -> Module:
    """The module an answer holds, ready to import, or why there is none."""
    code, removed = strip_demo(pick_block(text, path))
    if not code.strip():
        return Module("", "the answer holds no Python code", removed)
    if error := syntax_error(code, path or "module.py"):
        return Module(code, f"does not compile: {error}", removed)
    if not any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for node in ast.parse(code).body
    ):
        return Module(code, "defines no function or class", removed)
    return Module(code, None, removed)


# --- the files of a code step --------------------------------------------------------------------------------

_NAMED_PATH = re.compile(r"(?<![\w/.-])((?:[A-Za-z_][\w-]*/)*[A-Za-z_]\w*\.py)\b")


_BACKTICKED = re.compile(r"`([^`\n]+)`")
MISSING = "does not define "


def named_in(requirement: str) -> list[str]:
    """The functions and classes a requirement names in backticks: `slugify(text)`, `Stack()`, `EmptyStackError`
    (a bare capitalised name), not builtins (`len(stack)`) and not plain words (`value`)."""
    names = []
    for span in _BACKTICKED.findall(requirement):
        span = span.strip()
        if call := re.match(r"(?:[A-Za-z_]\w*\.)?([A-Za-z_]\w*)\s*\(", span):
            names.append(call.group(1))
        elif re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[A-Z][a-z0-9]{2,}", span):
            names.append(span)
    return [n for n in dict.fromkeys(names) if n not in dir(builtins)]


def _defined_anywhere(files: dict[str, str]) -> set[str]:
    names = set()
    for code in files.values():
        with contextlib.suppress(SyntaxError, ValueError):
            nodes = ast.walk(ast.parse(code))
            names |= {n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names


def is_test_path(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or "tests" in path.split("/")


def named_modules(requirement: str) -> list[str]:
    """The module files a requirement names (`textstats.py`, `app/slug.py`), tests left out, in order."""
    found = [p for p in _NAMED_PATH.findall(requirement) if not is_test_path(p) and safe_path(p) == p]
    return list(dict.fromkeys(found))


def shadows_stdlib(path: str) -> bool:
    """Whether a module at this path would hide a standard-library module (`numbers.py`, `string.py`): pytest itself
    imports some of them, so the tests could not even start."""
    return PurePosixPath(path).parts[0].removesuffix(".py") in sys.stdlib_module_names


def import_name(path: str) -> str:
    """`app/slug.py` -> `app.slug`."""
    return path.removesuffix(".py").replace("/", ".")


def _defines(code: str) -> list[str]:
    """The public functions and classes a module defines at top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not node.name.startswith("_")
    ]


@dataclass(frozen=True)
class CodeFiles:
    files: dict[str, str]  # path -> code, ready to import
    error: str | None  # why they are not acceptable; None: they are
    changes: list[str]  # what the guard changed: demo code removed, imports added, a cut-off end dropped


def module_files(text: str, requirement: str = "", paths: Sequence[str] = ()) -> CodeFiles:
    """The module(s) of a developer's answer, at the paths the requirement names (or `paths`, a repair's files).

    Every Python block that is not a test file, stripped of demo code; blocks left defining nothing (an "example
    usage" block) are dropped. A block without a file name takes the module name the requirement gives (when it
    gives exactly one that no block uses), else a name from what it defines. Acceptable when each file compiles and
    at least one defines a function or class.
    """
    blocks = [
        b
        for b in extract_code_blocks(text, default_stem=UNNAMED)
        if (b.language in PYTHON or b.path.endswith(".py")) and not is_test_path(b.path)
    ]
    if not blocks and (whole := pick_block(text)):
        blocks = [CodeBlock("python", whole, f"{UNNAMED}_1.py")]
    changes: list[str] = []
    files: dict[str, str] = {}
    for block in blocks:
        code, dropped = strip_demo(_salvaged(block.code, changes))
        if not code.strip() or (not _defines(code) and len(blocks) > 1):
            continue
        changes += [f"removed the demo code `{line[:80]}`" for line in dropped]
        code = with_exceptions(with_imports(_without_tests(code, block.path, changes), changes), requirement, changes)
        path = block.path if block.path.endswith(".py") else f"{UNNAMED}_{len(files) + 1}.py"
        files[path] = code  # a later block of the same name is the newer version
    named = [p for p in dict.fromkeys([*paths, *named_modules(requirement)]) if not shadows_stdlib(p)]
    for path in list(files):  # `src/roman.py` for the `roman.py` the requirement names: the name it gives
        same = [n for n in named if n not in files and PurePosixPath(n).name == PurePosixPath(path).name]
        if path not in named and same:
            files = {(same[0] if p == path else p): c for p, c in files.items()}
    unnamed = [p for p in files if p.startswith(f"{UNNAMED}_")]
    free = [p for p in named if p not in files]
    if len(unnamed) == 1 and len(free) == 1:
        files = {free[0] if p == unnamed[0] else p: c for p, c in files.items()}
    for path in [p for p in files if p.startswith(f"{UNNAMED}_")]:
        stem = next(iter(_defines(files[path])), "solution")
        files = {(_snake(stem) + ".py" if p == path and _snake(stem) + ".py" not in files else p): c
                 for p, c in files.items()}  # fmt: skip
    if not files:
        return CodeFiles({}, "the answer holds no Python module", changes)
    for path, code in files.items():
        if error := syntax_error(code, path):
            return CodeFiles(files, f"does not compile: {error}", changes)
    if hidden := [p for p in files if shadows_stdlib(p)]:
        names = ", ".join(f"`{p}`" for p in hidden)
        return CodeFiles(
            files, f"{names} would hide the standard-library module of that name: name it otherwise", changes
        )
    if not any(_defines(code) for code in files.values()):
        return CodeFiles(files, "defines no function or class", changes)
    if missing := [n for n in named_in(requirement) if n not in _defined_anywhere(files)]:
        names = ", ".join(f"`{n}`" for n in missing)
        return CodeFiles(files, f"{MISSING}{names}, which the requirement names", changes)
    return CodeFiles(files, None, changes)


def _is_test(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test")
    if isinstance(node, ast.ClassDef):
        return node.name.startswith("Test")
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any(alias.name.split(".")[0] in ("unittest", "pytest") for alias in node.names) or (
            isinstance(node, ast.ImportFrom) and node.module in ("unittest", "pytest")
        )
    return False


def _without_tests(code: str, path: str, changes: list[str]) -> str:
    """A module without the tests a developer wrote into it (they come from the tester) and without an import of
    itself (`from slugify import slugify` in slugify.py)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    own = import_name(path).rsplit(".", 1)[-1]
    lines = code.splitlines(keepends=True)
    for node in reversed(tree.body):
        itself = isinstance(node, ast.ImportFrom) and (node.module or "").rsplit(".", 1)[-1] == own
        if _is_test(node) or itself:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            changes.append(f"removed `{lines[start - 1].strip()[:80]}` (tests come from the tester)")
            del lines[start - 1 : node.end_lineno]
    return "".join(lines)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def guard_tests(text: str, path: str, modules: dict[str, str]) -> CodeFiles:
    """The pytest file of a tester's answer, made to test the real module: definitions that shadow the module's own
    names are dropped (a small model pastes its own version of the code and tests that), and a file that does not
    import the module gets the import. Acceptable when it compiles and holds at least one test."""
    blocks = [b for b in extract_code_blocks(text) if b.language in PYTHON or b.path.endswith(".py")]
    tests = [b for b in blocks if is_test_path(b.path)] or blocks
    code = max(tests, key=lambda b: len(b.code)).code if tests else (text if syntax_error(text) is None else "")
    changes: list[str] = []
    provided = {name: import_name(p) for p, c in modules.items() for name in _defines(c)}
    stubless = _without_stubs(code, set(provided)) if syntax_error(code, path) else code
    if stubless != code and syntax_error(salvage(stubless), path) is None:
        code = stubless
        changes.append("removed a copy of the module's interface that did not compile")
    code, dropped = strip_demo(_salvaged(code, changes))
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
        (isinstance(n, ast.FunctionDef) and n.name.startswith("test")) or (
            isinstance(n, ast.ClassDef) and n.name.startswith("Test"))
        for n in ast.parse(code).body
    ):  # fmt: skip
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
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
        and isinstance(node.test.ops[0], ast.Eq | ast.Is)
        and _EXCEPTION_NAME.fullmatch(ast.unparse(node.test.comparators[0]))
    ]  # fmt: skip
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
                kept.append(f"def test_{_snake(stub)}():\n")
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
    if _is_check(check) and isinstance(check, ast.With) and len(check.body) == 1 and isinstance(
        call := check.body[0], ast.Expr
    ):  # fmt: skip
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


def interface(modules: dict[str, str]) -> str:
    """What a tester may know of the code: each module's import line and its public functions' and classes'
    signatures with the first line of their docstrings; never the bodies (tests come from the requirement)."""
    parts = []
    for path, code in modules.items():
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            continue
        lines = [f"# {path} (import it as `{import_name(path)}`)"]
        for node in tree.body:
            if _is_test(node) or getattr(node, "name", "_").startswith("_"):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines.append(_signature(node, ""))
            elif isinstance(node, ast.ClassDef):
                bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
                lines.append(f"class {node.name}{f'({bases})' if bases else ''}:" + _doc(node, "    "))
                methods = [
                    _signature(item, "    ")
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and (not item.name.startswith("_") or item.name == "__init__")
                ]  # fmt: skip
                lines += methods or ["    ..."]  # valid Python: a model that copies it still writes code that compiles
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef, indent: str) -> str:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{indent}def {node.name}({ast.unparse(node.args)}){returns}: ..." + _doc(node, indent + "    ")


def _doc(node: ast.AST, indent: str) -> str:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    return f"\n{indent}# {doc.strip().splitlines()[0]}" if doc and doc.strip() else ""


def path_for_tests(modules: dict[str, str], requirement: str = "") -> str:
    """Where the tests of these modules go: `tests/test_<first module's name>.py`."""
    first = next(iter(modules), None) or next(iter(named_modules(requirement)), "feature.py")
    return f"tests/test_{PurePosixPath(first).stem}.py"


def source_of_test(files: dict[str, str], node_id: str) -> str:
    """The code of the test a pytest node id names (`tests/test_a.py::TestX::test_y[2]`), or ''."""
    path, *names = node_id.split("::")
    if path not in files or not names:
        return ""
    try:
        tree: ast.AST = ast.parse(files[path])
    except (SyntaxError, ValueError):
        return ""
    for name in [*names[:-1], names[-1].split("[", 1)[0]]:
        found = next(
            (n for n in getattr(tree, "body", []) if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name),
            None,
        )
        if found is None:
            return ""
        tree = found
    return ast.get_source_segment(files[path], tree) or ""
