"""The argv each confinement builds, and how the box wraps a command."""

from __future__ import annotations

from pathlib import Path

from bot.confine import Box, BoxUser, Bubblewrap, Layout, OwnUser, Stacked, Unconfined

USER = BoxUser("tg-claude", 990, 980, Path("/var/lib/tg-claude"))


def _layout(tmp_path: Path) -> Layout:
    (tmp_path / "work").mkdir()
    (tmp_path / "sessions").mkdir()
    (tmp_path / "cli").mkdir()
    config = tmp_path / "work-config.env"
    config.write_text("TELEGRAM_BOT_TOKEN=1:x\n")
    return Layout(
        workspaces=(tmp_path / "work",), home=tmp_path / "claude-home", state=tmp_path / "state",
        read_only=(tmp_path / "cli",), hidden=(tmp_path / "sessions", config, Path("/etc/tg-claude-code/env")),
        scratch=tmp_path / "scratch",
    )


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_own_user_drops_every_privilege_and_dies_with_its_parent() -> None:
    argv = OwnUser(USER, "/usr/bin/setpriv").wrap(["claude", "--x"])
    assert argv == [
        "/usr/bin/setpriv", "--reuid=990", "--regid=980", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
        "--no-new-privs", "--pdeathsig=TERM", "--", "claude", "--x",
    ]


def test_bubblewrap_binds_only_the_system_the_cli_and_what_claude_may_write(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    argv = Bubblewrap(layout, "/usr/bin/bwrap").wrap(["claude", "--x"])
    assert argv[0] == "/usr/bin/bwrap" and argv[-3:] == ["--", "claude", "--x"]
    for flag in ("--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"):
        assert flag in argv
    assert "--unshare-net" not in argv  # Claude Code must reach its API
    assert "--bind" not in argv[: argv.index("--ro-bind")]  # the system comes first, read-only
    assert set(_pairs(argv, "--bind")) == {str(p) for p in (tmp_path / "work", tmp_path / "claude-home", tmp_path / "state", tmp_path / "scratch")}
    read_only = _pairs(argv, "--ro-bind")
    assert "/usr" in read_only and "/etc" in read_only and str(tmp_path / "cli") in read_only
    assert not any(p in read_only for p in ("/", "/home", "/root", "/opt", "/var"))
    assert _pairs(argv, "--proc") == ["/proc"] and _pairs(argv, "--dev") == ["/dev"] and "/tmp" in _pairs(argv, "--tmpfs")


def test_bubblewrap_masks_the_bots_files_that_a_bound_path_would_show(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    argv = Bubblewrap(layout).wrap(["true"])
    # /etc is bound read-only: a settings file in it would be readable, so /dev/null covers it (when it exists);
    # SESSION_DIR and the config file here lie under no bound path, so they are absent anyway.
    assert str(tmp_path / "sessions") not in argv and str(tmp_path / "work-config.env") not in argv
    inside = Layout(layout.workspaces, layout.home, layout.state, hidden=(tmp_path / "work" / "secret",))
    (tmp_path / "work" / "secret").mkdir()
    argv = Bubblewrap(inside).wrap(["true"])
    mask = argv.index(str(tmp_path / "work" / "secret"))
    assert argv[mask - 1] == "--tmpfs" and mask > argv.index(str(tmp_path / "work"))  # after the bind it covers


def test_bubblewrap_makes_the_directories_above_a_bound_path_traversable(tmp_path: Path) -> None:
    argv = Bubblewrap(_layout(tmp_path)).wrap(["true"])
    made = [argv[i + 3] for i, arg in enumerate(argv) if arg == "--perms" and argv[i + 2] == "--dir"]
    assert str(tmp_path) in made and all(argv[argv.index(p) - 2] == "0755" for p in made)


def test_the_combination_switches_user_inside_bubblewrap(tmp_path: Path) -> None:
    stacked = Stacked(Bubblewrap(_layout(tmp_path), "/usr/bin/bwrap"), OwnUser(USER, "/usr/bin/setpriv"))
    argv = stacked.wrap(["claude"])
    assert argv[0] == "/usr/bin/bwrap"
    assert argv[argv.index("--") + 1] == "/usr/bin/setpriv" and argv[-1] == "claude"
    assert stacked.user == USER and stacked.name == "own user + bubblewrap" and not stacked.sees_processes


def test_unconfined_leaves_the_command_alone(tmp_path: Path) -> None:
    box = Box(Unconfined(), _layout(tmp_path), why_not="bubblewrap is not installed")
    assert box.command(["claude", "-p"]) == ["claude", "-p"]
    assert not box.confined and box.user is None
    assert box.describe() == "Claude Code runs unconfined: bubblewrap is not installed"


def test_a_confined_command_gets_claudes_home_not_the_bots(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    box = Box(OwnUser(USER), layout)
    argv = box.command(["claude"])
    tail = argv[argv.index("--") + 1:]
    assert tail[0].endswith("env") and tail[-1] == "claude"
    assert f"HOME={layout.home}" in tail and f"CLAUDE_CONFIG_DIR={layout.state}" in tail
    assert f"XDG_CONFIG_HOME={layout.home}/.config" in tail and "USER=tg-claude" in tail and "TMPDIR=/tmp" in tail
    assert "tg-claude (uid 990)" in box.describe() and str(tmp_path / "work") in box.describe()
