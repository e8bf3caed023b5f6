"""The wheel ships the whole product: every file under pyclingo_bridge/ and every file under kb/.

The other tests import the checkout, so a module or KB file that ``pip install .`` leaves out
goes unnoticed there (issue 10: ``pyclingo_bridge.audit`` was missing from the wheel). This
builds the wheel once, from a copy of the source tree (a stale ``build/`` folder in the
checkout cannot hide or add a file), and compares its file list with the tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pyclingo_bridge"
KB_SOURCE, KB_PACKAGE = "kb", f"{PACKAGE}/kb"
JUNK = ("__pycache__", ".pyc", ".pyo")


def _shipped_files(folder: Path) -> set[str]:
    """Every file below ``folder`` (relative, POSIX), bytecode caches aside."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not any(part in JUNK or part.endswith(JUNK) for part in path.parts)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE", PACKAGE, KB_SOURCE):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(*JUNK[:1], "*.pyc"))
        elif path.exists():
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (built,) = out.glob("policykb-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if ".dist-info/" not in name}


def test_every_module_of_the_bridge_is_in_the_wheel(wheel_names: set[str]) -> None:
    expected = {f"{PACKAGE}/{name}" for name in _shipped_files(ROOT / PACKAGE)}
    shipped = {name for name in wheel_names if not name.startswith(f"{KB_PACKAGE}/")}
    assert f"{PACKAGE}/audit/run.py" in expected  # the module whose absence issue 10 found
    assert sorted(expected - shipped) == []
    assert sorted(shipped - expected) == []


def test_every_file_of_the_knowledge_base_is_in_the_wheel(wheel_names: set[str]) -> None:
    expected = {f"{KB_PACKAGE}/{name}" for name in _shipped_files(ROOT / KB_SOURCE)}
    shipped = {name for name in wheel_names if name.startswith(f"{KB_PACKAGE}/")}
    assert any(name.endswith(".lp") for name in expected) and any(name.endswith(".yaml") for name in expected)
    assert sorted(expected - shipped) == []
    assert sorted(shipped - expected) == []


def test_the_console_script_is_declared(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "policykb = pyclingo_bridge.cli:run" in text
