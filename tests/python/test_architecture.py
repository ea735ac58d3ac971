"""The import rules and size limit of docs/ARCHITECTURE.md, read from the source with `ast`."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("world", "arrivals", "behaviour", "gates")   # upstream first
MAX_LINES = 400


def imports(path: Path) -> set[str]:
    """Every module a file imports, as dotted names (`from a import b` gives a.b and a)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def project_parts(path: Path) -> set[str]:
    """The top-level parts of python_kernels a file imports (core, world, ..., run, dbt_io)."""
    return {m.split(".")[1] for m in imports(path) if m.startswith("python_kernels.") and m.count(".") >= 1}


def external(path: Path) -> set[str]:
    return {m.split(".")[0] for m in imports(path) if not m.startswith("python_kernels")}


def sources(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_rules_see_imports():
    # the rule tests below pass vacuously if the parser finds nothing
    s2 = ROOT / "python_kernels" / "behaviour" / "s2_flows.py"
    assert "core" in project_parts(s2) and "numba" in external(s2)


@pytest.mark.parametrize("path", sources("python_kernels/core"), ids=lambda p: p.name)
def test_core_imports_nothing_of_the_project_but_core(path):
    assert project_parts(path) <= {"core"}, f"{path.relative_to(ROOT)} imports {project_parts(path) - {'core'}}"


@pytest.mark.parametrize("layer", LAYERS)
def test_kernel_layers_import_core_and_upstream_only(layer):
    allowed = {"core", *LAYERS[:LAYERS.index(layer) + 1]}
    for path in sources(f"python_kernels/{layer}"):
        rel = path.relative_to(ROOT)
        assert project_parts(path) <= allowed, f"{rel} imports {project_parts(path) - allowed}"
        assert not external(path) & {"dbt", "duckdb"}, f"{rel} imports {external(path) & {'dbt', 'duckdb'}}"


def test_dbt_io_imports_core_only():
    path = ROOT / "python_kernels" / "dbt_io.py"
    assert project_parts(path) <= {"core"}
    assert not external(path) & {"dbt", "duckdb"}


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: p.stem)
def test_models_do_not_reach_into_the_run_package(path):
    assert "run" not in project_parts(path), f"{path.relative_to(ROOT)} imports python_kernels.run"


def test_runner_is_dispatch_over_the_run_package():
    path = ROOT / "runner.py"
    assert project_parts(path) <= {"run"}, project_parts(path)
    assert not external(path) & {"dbt", "duckdb"}


def test_no_source_file_is_over_the_size_limit():
    files = [*sources("python_kernels"), *sorted((ROOT / "models").rglob("*.py")), ROOT / "runner.py"]
    big = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"split these by state or concern (docs/ARCHITECTURE.md): {big}"
