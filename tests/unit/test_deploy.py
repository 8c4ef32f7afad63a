"""deploy/: the systemd unit (checked by systemd itself where it is installed), the Dockerfile, the Makefile."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import SHUTDOWN_FLUSH_SECONDS

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "tg-claude-code.service"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(UNIT)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The unit points at /opt/...; verify checks that ExecStart exists, so point it at this interpreter.
    text = re.sub(r"(?m)^ExecStart=.*$", f"ExecStart={sys.executable} -m bot", UNIT.read_text())
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    # Unknown keys and bad values are only warnings (exit 0): any output at all is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_unit_stops_the_bot_gracefully_and_keeps_claude_working() -> None:
    service = unit()["Service"]
    assert service["KillMode"] == "mixed" and service["Restart"] == "on-failure"
    assert int(service["TimeoutStopSec"]) > SHUTDOWN_FLUSH_SECONDS
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    writable = service["ReadWritePaths"].split()
    environment = dict(re.findall(r"(?m)^Environment=(\w+)=(\S+)$", UNIT.read_text()))
    for name in ("HOME", "SESSION_DIR", "CLAUDE_WORKING_DIR"):  # Claude's home, the sessions, the workspace
        assert any(Path(environment[name]).is_relative_to(path) for path in writable), name
    assert not service["EnvironmentFile"].startswith(tuple(writable))  # the token lies outside Claude's reach
    assert "MemoryDenyWriteExecute" not in service  # the CLI's JavaScript JIT needs it off


def test_the_unit_starts_outside_the_workspace_and_nothing_claude_can_cause_keeps_it_down() -> None:
    service = unit()["Service"]
    writable = [Path(path) for path in service["ReadWritePaths"].split()]
    start = Path(service["WorkingDirectory"])
    assert not any(start.is_relative_to(path) for path in writable)  # no .env Claude writes is read
    assert start == Path(service["ExecStart"]).parents[1]  # the installation, read-only under ProtectSystem=strict
    assert "RestartPreventExitStatus" not in service  # exit 2 is no switch that keeps the bot down
    assert unit()["Unit"]["StartLimitIntervalSec"] == "0"


def test_secrets_come_from_credentials_named_after_their_setting_not_the_environment() -> None:
    from bot.config import Settings

    text = UNIT.read_text()
    credentials = dict(re.findall(r"(?m)^#?LoadCredential=(\w+):(\S+)$", text))
    assert set(credentials) == {"TELEGRAM_BOT_TOKEN", "TRANSCRIBE_API_KEY", "WEBHOOK_SECRET"}
    assert re.search(r"(?m)^LoadCredential=TELEGRAM_BOT_TOKEN:", text)
    assert all(name.lower() in Settings.model_fields for name in credentials)  # what bot.config reads from the directory
    writable = unit()["Service"]["ReadWritePaths"].split()
    assert not any(path.startswith(tuple(writable)) for path in credentials.values())
    assert not re.search(r"(?m)^Environment=.*(TOKEN|SECRET|KEY)", text)


def test_the_hardening_leaves_bubblewrap_its_namespaces_and_a_fresh_proc() -> None:
    service = unit()["Service"]
    allowed = set(service["RestrictNamespaces"].split())
    assert {"user", "mnt", "pid", "ipc", "uts"} <= allowed and "net" not in allowed
    for key in ("PrivateUsers", "ProtectKernelTunables", "ProtectKernelLogs", "ProtectProc", "ProcSubset"):
        assert key not in service, key  # each would keep bubblewrap from its user namespace or its /proc


def test_the_image_runs_as_a_user_with_volumes_for_everything_kept() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"(?m)^USER (\S+)", text)
    assert users and users[-1] not in ("root", "0")
    [volumes] = re.findall(r"(?m)^VOLUME (\[.*\])", text)
    for path in ("/config", "/data/sessions", "/home/claude/.claude", "/work"):
        assert f'"{path}"' in volumes
    assert "ENTRYPOINT [\"tg-claude-code\"]" in text
    assert re.search(r"(?m)^\s*CREDENTIALS_DIRECTORY=/run/secrets", text)  # secrets as files, not --env-file
    [workdir] = re.findall(r"(?m)^WORKDIR (\S+)", text)
    [workspace] = re.findall(r"CLAUDE_WORKING_DIR=(\S+)", text)
    assert not Path(workdir).is_relative_to(workspace)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_installs_only_runtime_dependencies_and_make_test_adds_the_test_extra(tmp_path: Path) -> None:
    def planned(target: str) -> str:
        venv = tmp_path / "venv"
        done = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run = planned("run")
    assert "pip install --quiet -e .\n" in run and "[test]" not in run
    assert "-m pip install --quiet -e '.[test]'" in planned("test")
    assert "make test" in (ROOT / ".ci" / "run").read_text()
