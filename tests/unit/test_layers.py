"""The core knows no Telegram: the import-linter contract in pyproject.toml, run as part of the suite."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )


def test_only_the_telegram_layer_imports_aiogram() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contract_catches_a_core_module_importing_telegram(tmp_path: Path) -> None:
    for name in ("bot", "handlers", "pyproject.toml"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, tmp_path / name)
    core = tmp_path / "bot" / "util" / "text.py"
    core.write_text(core.read_text() + "\nfrom bot.telegram.render import MAX_TEXT  # noqa: E402\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "bot.util.text -> bot.telegram.render" in result.stdout
