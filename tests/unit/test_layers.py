"""The layers: the core knows no Telegram and handlers never reach the scheduler (the import-linter contracts in
pyproject.toml, run as part of the suite); only the intake submits a turn."""

import ast
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


def test_the_contract_catches_a_handler_importing_the_scheduler(tmp_path: Path) -> None:
    for name in ("bot", "handlers", "pyproject.toml"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, tmp_path / name)
    handler = tmp_path / "handlers" / "messages.py"
    handler.write_text(handler.read_text() + "\nfrom bot.turns.scheduler import TurnScheduler  # noqa: E402,F401\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "handlers.messages -> bot.turns.scheduler" in result.stdout


def scheduler_uses(source: str) -> list[str]:
    """Where handler code reaches the scheduler (`core.scheduler…`) or submits a turn itself (`….submit(`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in {"scheduler", "submit"}:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_no_handler_reaches_the_scheduler_or_submits_a_turn() -> None:
    uses = {path.name: scheduler_uses(path.read_text()) for path in (ROOT / "handlers").glob("*.py")}
    assert {name: found for name, found in uses.items() if found} == {}


def test_a_handler_calling_the_scheduler_is_caught() -> None:
    assert sorted(scheduler_uses("async def h(core):\n    await core.scheduler.submit(s, t)\n")) == ["line 2: .scheduler", "line 2: .submit"]
