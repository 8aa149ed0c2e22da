"""Python from a small model's answer, made fit to import: the right code block, no demo code, and compiling.

Small models wrap code in prose, write several blocks (the module, then "example usage"), forget to close a fence,
and end modules with `print(...)` calls or an `if __name__ == "__main__":` demo. Before any of it is run or
accepted, `python_module` picks the block, `strip_demo` keeps only what a module should do on import (imports,
definitions, constants, its docstring) and `syntax_error` says whether it compiles. Pure functions, no I/O.
"""

import ast
from dataclasses import dataclass

from agents.guard import extract_code_blocks

PYTHON = ("python", "py", "python3", "")
# What a module may do at import: define things, import things, bind names, document itself.
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


@dataclass(frozen=True)
class Module:
    code: str
    error: str | None  # why it is not acceptable (empty, does not compile); None: it is
    removed: list[str]  # the top-level statements dropped as demo code, first line of each


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
