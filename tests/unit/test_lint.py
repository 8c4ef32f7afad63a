"""ruff (pyflakes' rules: unused and undefined names, imports used twice; syntax errors) is clean over the tree."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"


def ruff(tree: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", *paths], cwd=tree, capture_output=True, text=True, timeout=120
    )


def test_ruff_is_clean() -> None:
    result = ruff(ROOT, "bot", "handlers", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_catches_an_unused_import(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "m.py").write_text("import os\n")
    result = ruff(tmp_path, "m.py")
    assert result.returncode != 0 and "F401" in result.stdout
