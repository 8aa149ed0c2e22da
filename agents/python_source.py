"""Checks and small fixes of a module's Python source: pure functions on code, no I/O.

Whether it compiles (`syntax_error`; `salvage` drops the unfinished end of a cut-off answer), which names it defines
and which it uses without importing (`missing_imports`, `with_imports`), the exception classes a requirement names,
what it does on import beyond defining things (`strip_demo` keeps only imports, definitions, constants and its
docstring), the module files and names a requirement gives, and the interface a tester may see (`interface`).

A developer's answer becomes module files in `agents/module_files.py`, a tester's a pytest file in
`agents/pytest_file.py`; both use these.
"""

import ast
import builtins
import re
import sys
from pathlib import PurePosixPath

from agents.guard import safe_path

# What a module may do at import: define things, import things, bind names, document itself.
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


EXCEPTION_NAME = re.compile(r"[A-Z]\w*(?:Error|Exception)")


def syntax_error(code: str, filename: str = "module.py") -> str | None:
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{filename}, line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. a NUL byte
        return f"{filename}: {exc}"
    return None


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


def salvaged(code: str, changes: list[str]) -> str:
    kept = salvage(code)
    if kept != code:
        changes.append(
            f"dropped the unfinished end of a cut-off answer ({len(code.splitlines()) - len(kept.splitlines())} lines)"
        )
    return kept


def missing_imports(code: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Standard-library modules the code uses by name (`string.punctuation`, `re.sub`) but never imports: the most
    common slip of a small model, and a NameError only when the function runs."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    modules = sys.stdlib_module_names | known
    return sorted(name for name in unbound_names(tree) if name in modules and not name.startswith("_"))


def unbound_names(tree: ast.Module) -> set[str]:
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


def exception_names(text: str) -> list[str]:
    """The exception classes a text (a requirement) names: `ValueError`, `EmptyStackError`..."""
    return sorted({m.group() for m in re.finditer(rf"\b{EXCEPTION_NAME.pattern}\b", text)})


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


def defines(code: str) -> list[str]:
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


def is_test(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test")
    if isinstance(node, ast.ClassDef):
        return node.name.startswith("Test")
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any(alias.name.split(".")[0] in ("unittest", "pytest") for alias in node.names) or (
            isinstance(node, ast.ImportFrom) and node.module in ("unittest", "pytest")
        )
    return False


def is_test_path(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or "tests" in path.split("/")


def import_name(path: str) -> str:
    """`app/slug.py` -> `app.slug`."""
    return path.removesuffix(".py").replace("/", ".")


def shadows_stdlib(path: str) -> bool:
    """Whether a module at this path would hide a standard-library module (`numbers.py`, `string.py`): pytest itself
    imports some of them, so the tests could not even start."""
    return PurePosixPath(path).parts[0].removesuffix(".py") in sys.stdlib_module_names


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


_BACKTICKED = re.compile(r"`([^`\n]+)`")


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


_NAMED_PATH = re.compile(r"(?<![\w/.-])((?:[A-Za-z_][\w-]*/)*[A-Za-z_]\w*\.py)\b")


def named_modules(requirement: str) -> list[str]:
    """The module files a requirement names (`textstats.py`, `app/slug.py`), tests left out, in order."""
    found = [p for p in _NAMED_PATH.findall(requirement) if not is_test_path(p) and safe_path(p) == p]
    return list(dict.fromkeys(found))


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
            if is_test(node) or getattr(node, "name", "_").startswith("_"):
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
                ]
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
