"""Measure the package's structure: longest functions, import circles and upward imports.

Run ``python scripts/structure.py`` from the project root. It reads ``survey_lib`` as text (``ast``),
runs nothing of it, and prints

- the longest functions (lines from ``def`` to the last line of the body, nested functions counted
  within their parent and on their own);
- the import circles among the package's modules, counting imports inside functions too (they hide a
  circle from Python but not from a reader), but not those under ``if TYPE_CHECKING:`` (annotations);
- upward imports: a module importing one of a higher layer in :data:`LAYERS` (the data flow of the
  README: parameters and data below, estimation in the middle, pages and the command line on top);
- private names (``_x``) imported from another module.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "survey_lib"

#: Layers from the bottom up; a module is in the first layer one of whose prefixes it starts with.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "paths", "atomic", "parallel", "vocabulary", "pattern_syntax", "params"),
    ("io", "contract", "cpr", "privacy.scrub", "privacy.pseudonymize", "validate", "derive", "load", "demo",
     "synthetic", "provenance"),
    ("exclusions", "weighting", "design"),
    ("estimate", "scoped", "inference", "scores"),
    ("privacy.disclosure", "tables", "nonresponse", "freetext", "ranks", "funnel", "adjusted", "change"),
    ("export", "pipeline", "narrative", "plots", "privacy.audit", "privacy", "trend"),
    ("notebook", "batch", "summary", "waves"),
    ("cli", "__init__"),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return len(LAYERS)


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    """The package-relative module an ``ImportFrom`` names, or None outside the package."""
    if node.level == 0:
        name = node.module or ""
        return name[len("survey_lib."):] if name.startswith("survey_lib.") else ("" if name == "survey_lib" else None)
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *(node.module.split(".") if node.module else [])]).strip(".")


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``): imports for annotations only, not run."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def scan() -> tuple[list[tuple[int, str]], dict[str, set[str]], list[str]]:
    functions: list[tuple[int, str]] = []
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph.setdefault(mod, set())
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                       for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(ROOT)}:{node.name}"))
            if isinstance(node, ast.ImportFrom) and id(node) not in typing_only:
                target = resolve(mod, path.name == "__init__.py", node)
                if target is None:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}".strip(".")
                    dest = sub if sub in modules else target
                    if dest and dest != mod and dest in modules:
                        graph[mod].add(dest)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and dest != mod:
                        private.append(f"{mod} imports {alias.name} from {dest or 'survey_lib'}")
    return sorted(functions, reverse=True), graph, private


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    functions, graph, private = scan()
    # a package's __init__ re-exports its modules: its arrows down are not part of the flow
    flow = {m: {d for d in ds if not (m == "" or d.startswith(m + ".") or m.endswith("__init__"))}
            for m, ds in graph.items()}
    upward = sorted(f"{m} -> {d}" for m, ds in flow.items() for d in ds
                    if m and layer_of(d) > layer_of(m) and not d.startswith(m + "."))
    cyc = circles({m: ds for m, ds in flow.items() if m})
    print(f"longest functions (lines): " + ", ".join(f"{n} {name}" for n, name in functions[:10]))
    print(f"functions over 80 lines: {sum(n > 80 for n, _ in functions)}")
    print(f"import circles: {len(cyc)}" + "".join(f"\n  {' <-> '.join(c)}" for c in cyc))
    print(f"upward imports: {len(upward)}" + "".join(f"\n  {u}" for u in upward))
    print(f"private names imported across modules: {len(private)}" + "".join(f"\n  {p}" for p in private))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
