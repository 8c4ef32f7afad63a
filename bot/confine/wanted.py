"""The box the settings ask for: the workspaces to bind, the bot's paths to hide, the CLI to run."""

from __future__ import annotations

from bot.claude.launcher import default_cli
from bot.config import Settings, existing_config_files
from bot.confine.choose import Wanted


def wanted_from(settings: Settings) -> Wanted:
    cli = default_cli()
    return Wanted(
        choice=settings.claude_confinement,
        workspaces=tuple(dict.fromkeys([*settings.allowed_paths, settings.claude_working_dir])),
        hidden=(settings.session_dir, *existing_config_files()),
        cli=cli.resolve() if cli else None,
        user_name=settings.claude_user,
        home=settings.claude_home,
    )
