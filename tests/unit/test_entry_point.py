"""The installed console script: its name, --version and --help answer without starting the bot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from bot.config import APP_NAME

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("pip-install")  # one worker: the module's `pip install .` runs once


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` of this tree (dependencies come from the test's own environment)."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:  # pip's own words, not only its status
        pytest.fail(f"pip install . failed with status {done.returncode}:\n{done.stderr[-3000:]}", pytrace=False)
    return target


def run(installed: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No TELEGRAM_* settings and a cwd without .env: starting the bot would fail with exit 2.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_"))}
    env["PYTHONPATH"] = str(installed)
    return subprocess.run(
        [str(installed / "bin" / APP_NAME), *args], env=env, cwd=installed, capture_output=True, text=True, timeout=60
    )


def test_the_console_script_has_the_distribution_name_and_reports_its_version(installed: Path) -> None:
    assert APP_NAME == "tg-claude-code"
    assert list(installed.glob(f"{APP_NAME.replace('-', '_')}-{__version__}.dist-info"))
    result = run(installed, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"{APP_NAME} {__version__}"), result.stderr


def test_help_lists_the_commands_instead_of_starting(installed: Path) -> None:
    result = run(installed, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {APP_NAME}")
    for command in ("doctor", "identity", "notify"):
        assert command in result.stdout
    assert "config error" not in result.stderr


def test_an_unknown_command_is_refused_with_status_2(installed: Path) -> None:
    result = run(installed, "serve")
    assert result.returncode == 2
    assert "invalid choice: 'serve'" in result.stderr
