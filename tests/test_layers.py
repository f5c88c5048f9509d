"""The code's shape: the flow reads one way (plan → match → render → send → record → track), no
import hides inside a function, and tasks are the edge that Celery calls, queued by name."""

import ast
import re
from pathlib import Path

from config.celery_app import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "newsletter", "papers")
# Modules that may import a tasks module: the edge (Celery itself, the admin's buttons).
TASK_IMPORTERS = {"papers.admin"}
TASK_NAME = re.compile(r"^(newsletter|papers)\.tasks\.\w+$")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(), str(path))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def ours(name: str, modules) -> str | None:
    """The module of ours that `name` (a module, or a module.attribute) refers to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads (not those under `if TYPE_CHECKING:`)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            found += [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
        elif isinstance(node, ast.Try):
            found += [n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def import_graph(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    graph = {}
    for name, tree in modules.items():
        targets = {ours(n, modules) for node in module_level_imports(tree) for n in imported_names(node) if n}
        graph[name] = {t for t in targets if t and t != name and not name.startswith(f"{t}.")}
    return graph


def function_level_imports(tree: ast.Module, modules) -> list[tuple[str, int]]:
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
            continue  # AppConfig.ready is where Django wants app-loading imports
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found += [(n, node.lineno) for n in imported_names(node) if n and ours(n, modules)]
    return found


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (as a path), or [] when the graph has none."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target] if target in path else [node, target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return []


def test_no_module_of_ours_is_imported_inside_a_function():
    modules = sources()
    hidden = {
        f"{name}:{line} imports {target}"
        for name, tree in modules.items()
        for target, line in function_level_imports(tree, modules)
    }
    assert hidden == set()


def test_the_modules_import_each_other_one_way():
    assert cycle_in(import_graph(sources())) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycle_in({"plan": {"send"}, "send": {"tasks"}, "tasks": {"plan"}}) == [
        "plan",
        "send",
        "tasks",
        "plan",
    ]
    assert cycle_in({"plan": {"send"}, "send": {"record"}, "tasks": {"plan", "send"}}) == []


def test_only_the_edge_imports_a_tasks_module():
    graph = import_graph(sources())
    importers = {name for name, targets in graph.items() if targets & {"newsletter.tasks", "papers.tasks"}}
    assert importers <= TASK_IMPORTERS


def test_every_task_queued_by_name_is_a_registered_task():
    modules = sources()
    named = {
        node.value
        for tree in modules.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and TASK_NAME.match(node.value)
    }
    assert {"newsletter.tasks.send_digest_chunk", "papers.tasks.import_arxiv_ids"} <= named
    celery_app.loader.import_default_modules()
    assert named - set(celery_app.tasks) == set()
