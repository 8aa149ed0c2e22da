"""A developer's answer read into the module files it holds, made fit to import.

Small models wrap code in prose, write several blocks (the module, then "example usage"), forget to close a fence,
and end modules with `print(...)` calls or an `if __name__ == "__main__":` demo. Before any of it is run or
accepted, `pick_block` picks the block (`module_files`: every module block, each at the path the requirement names),
demo code and the developer's own tests go, forgotten imports and exception classes are added, and each file must
compile and define something. Pure functions, no I/O.
"""

import ast
import builtins
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from agents.guard import CodeBlock, extract_code_blocks
from agents.python_source import (
    EXCEPTION_NAME,
    defines,
    import_name,
    is_test,
    is_test_path,
    named_in,
    named_modules,
    salvaged,
    shadows_stdlib,
    snake,
    strip_demo,
    syntax_error,
    unbound_names,
    with_imports,
)

PYTHON = ("python", "py", "python3", "")


UNNAMED = "unnamed"  # the stem of a block without a file name, until it gets one


MISSING = "does not define "


@dataclass(frozen=True)
class CodeFiles:
    files: dict[str, str]  # path -> code, ready to import
    error: str | None  # why they are not acceptable; None: they are
    changes: list[str]  # what the guard changed: demo code removed, imports added, a cut-off end dropped


@dataclass(frozen=True)
class Module:
    code: str
    error: str | None  # why it is not acceptable (empty, does not compile); None: it is
    removed: list[str]  # the top-level statements dropped as demo code, first line of each


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
        code, dropped = strip_demo(salvaged(block.code, changes))
        if not code.strip() or (not defines(code) and len(blocks) > 1):
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
        name = snake(next(iter(defines(files[path])), "solution")) + ".py"
        files = {(name if p == path and name not in files else p): c for p, c in files.items()}
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
    if not any(defines(code) for code in files.values()):
        return CodeFiles(files, "defines no function or class", changes)
    if missing := [n for n in named_in(requirement) if n not in _defined_anywhere(files)]:
        names = ", ".join(f"`{n}`" for n in missing)
        return CodeFiles(files, f"{MISSING}{names}, which the requirement names", changes)
    return CodeFiles(files, None, changes)


def with_exceptions(code: str, requirement: str, changes: list[str]) -> str:
    """The code with the exception classes it raises but never defines (`raise EmptyStackError(...)`, a NameError
    when it runs): each defined after the imports, on the base the requirement gives (`EmptyStackError(LookupError)`)
    or `Exception`."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    missing = sorted(n for n in unbound_names(tree) if EXCEPTION_NAME.fullmatch(n))
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


def _after_header(tree: ast.Module) -> int:
    """The line after a module's docstring and its leading imports: where added lines go."""
    at = 0
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not (docstring or isinstance(node, ast.Import | ast.ImportFrom)):
            break
        at = node.end_lineno or at
    return at


def _defined_anywhere(files: dict[str, str]) -> set[str]:
    names = set()
    for code in files.values():
        with contextlib.suppress(SyntaxError, ValueError):
            nodes = ast.walk(ast.parse(code))
            names |= {n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names


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
        if is_test(node) or itself:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            changes.append(f"removed `{lines[start - 1].strip()[:80]}` (tests come from the tester)")
            del lines[start - 1 : node.end_lineno]
    return "".join(lines)
