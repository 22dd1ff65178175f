"""The layers point one way: the import graph of the project's code (every `import`, also inside
functions; `if TYPE_CHECKING:` blocks excluded) has no cycle, and each layer imports only layers
below it (ARCHITECTURE.md). Modules stay under the size a reader can hold."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("frontend", "tts", "vocoder")
MAX_LINES = 600

#: layer of each module, by longest matching prefix; a module may import its own layer or lower ones
LAYERS = {
    "frontend": 0,
    "tts.core": 1, "tts.training": 1,
    "tts.tacotron2": 2, "vocoder": 2,
    "tts.runtime": 3,
    "tts.say": 4, "tts.app": 4, "tts.evaluate": 4, "tts.train": 4, "tts.__main__": 4, "app": 4,
    "tts.server": 4, "tts.export_onnx": 4,
    "tts": 4,  # the package's lazy public API names the runtime
}
#: interfaces a lower layer may start (a trainer's entry points run as `python -m`): none
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    files = [REPO / "app.py"] + [p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")]
    return {module_name(p): p for p in files if "__pycache__" not in p.parts}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules imported anywhere in the file (functions included), resolved to the module level."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := resolve(alias.name)) is not None:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                target = resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in known else resolve(base)
                if target is not None:
                    found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def layer_of(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules (first == last), or None. Iterative DFS with colours."""
    colour = {m: 0 for m in graph}  # 0 new, 1 on the stack, 2 done
    for root in sorted(graph):
        if colour[root]:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(child) == 1:
                return path[path.index(child):] + [child]
            elif colour.get(child) == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n"
            "def f():\n    from c import x\n    import d.e\n")
    path = tmp_path / "a.py"
    path.write_text(code)
    assert imported_modules(path, "a", {"a", "b", "c", "d", "d.e"}) == {"c", "d.e"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_layers_point_down_and_frontend_is_pure():
    upward = []
    for module, imports in import_graph().items():
        for target in imports:
            if layer_of(target) > layer_of(module) and (module, target) not in ALLOWED_UPWARD:
                upward.append(f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})")
    assert not upward, "\n".join(sorted(upward))
    frontend = {t for m, imports in import_graph().items() if m.startswith("frontend") for t in imports}
    assert not {t for t in frontend if t.startswith(("tts", "vocoder"))}


@pytest.mark.parametrize("path", sorted(project_modules().values()), ids=lambda p: str(p.relative_to(REPO)))
def test_modules_stay_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines (split it by topic)"
