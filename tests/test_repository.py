"""The repository as a newcomer receives it: every path it mentions is inside it, every Markdown
link resolves, and the import rules of docs/architecture.md hold (the engine imports nothing above
it; nothing in the library imports the command line; only the widgets reach into the web lab)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "convscope"


def _tracked() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in names.splitlines() if (ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return None   # an image


def test_no_file_refers_to_a_path_outside_the_repository():
    outside = re.compile(r"\.\./shared|/work/|\.\./seeds|~/src/")
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in _tracked()
             if path.suffix != ".png" and path != Path(__file__).resolve()   # this file names the patterns
             for match in [outside.search(_text(path) or "")] if match]
    assert not found, found


def test_every_markdown_link_resolves_inside_the_repository():
    broken = []
    for path in _tracked():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (path.parent / target).resolve()
            if ROOT not in resolved.parents or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def _imports(path: Path) -> set[str]:
    """The convscope modules a file imports, relative imports resolved."""
    module = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("convscope")}


def _modules(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "notebooks/sources" not in p.as_posix()]


def test_the_engine_imports_nothing_above_it():
    wrong = {f"{path.relative_to(PACKAGE)}: {name}" for path in _modules(PACKAGE / "engine")
             for name in _imports(path) if not name.startswith("convscope.engine")}
    assert not wrong, sorted(wrong)


def test_only_the_command_line_imports_the_command_line_and_only_faces_import_the_web_lab():
    cli, web = PACKAGE / "cli", PACKAGE / "web"
    # python -m convscope (__main__.py) is the command line's other door
    library = [p for p in _modules(PACKAGE) if cli not in p.parents and p != PACKAGE / "__main__.py"]
    wrong = {f"{path.relative_to(PACKAGE)}: {name}" for path in library
             for name in _imports(path) if name.startswith("convscope.cli")}
    wrong |= {f"{path.relative_to(PACKAGE)}: {name}" for path in library
              if web not in path.parents and path.parent.name != "widgets"
              for name in _imports(path) if name.startswith("convscope.web")}
    assert not wrong, sorted(wrong)


def test_the_public_imports_a_newcomer_uses_still_work():
    code = ("import convscope, convscope.engine, convscope.inspect, convscope.filters, convscope.cli; "
            "from convscope.engine import max_pool2d, conv2d; from convscope.inspect import explore, trace; "
            "print(len(convscope.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from convscope import engine

    assert int(done.stdout) == len(engine.__all__)
