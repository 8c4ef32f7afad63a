"""What a chat lets Claude do without asking: its permission mode, its model, its "always allow" rules.

Rules are stored in the chat's JSON as ``{"tool_name": "Bash", "rule_content": "npm test"}`` and
handed to every new Claude Code process as ``allowed_tools`` strings (``Bash(npm test)``); the
process that is running when the user presses "Always allow" gets them at once as session
permission updates, so nothing is written into the project's own ``.claude`` settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.errors import Refused
from bot.sessions.records import SessionRecord

if TYPE_CHECKING:
    from claude_agent_sdk.types import PermissionUpdate

PERMISSION_MODES: dict[str, str] = {
    "default": "ask before tools",
    "acceptEdits": "accept file edits, ask for the rest",
    "plan": "plan only, change nothing",
    "bypassPermissions": "never ask",
}
MODEL_CHOICES = ("sonnet", "opus", "haiku")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-\[\]:@/]{0,99}")


class SettingRefused(Refused):
    """A mode or model the chat cannot use; the message is one sentence for the chat."""


def check_mode(value: str) -> str:
    for mode in PERMISSION_MODES:
        if value.strip().lower() == mode.lower():
            return mode
    raise SettingRefused(f"There is no permission mode {value.strip()!r}; choose one of {', '.join(PERMISSION_MODES)}.")


def check_model(value: str) -> str:
    name = value.strip()
    if not _MODEL_NAME.fullmatch(name):
        raise SettingRefused("A model name is one word of letters, digits and . - _ [ ] : @ /, for example sonnet or claude-opus-4-1.")
    return name


def rule_string(rule: dict) -> str:
    """Claude Code's spelling of a rule: ``Bash(npm test)``, or the bare tool name for the whole tool."""
    content = rule.get("rule_content")
    if not content:
        return str(rule["tool_name"])
    escaped = content.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"{rule['tool_name']}({escaped})"


def allowed_tools(record: SessionRecord) -> list[str]:
    # The SDK joins these with commas into one CLI argument: a rule holding a comma or a line
    # break would be split apart there, so such rules are applied by the bot itself (`covers`).
    return [rule_string(r) for r in record.always_allow if not any(c in (r.get("rule_content") or "") for c in ",\n\r")]


def exact_rule(tool_name: str, tool_input: dict) -> dict | None:
    """The rule for exactly this command: Claude Code's suggested prefix rule may not cover the
    command it was made from (`echo hi > hi.txt` suggests `echo hi *`), this one always does."""
    command = tool_input.get("command")
    if tool_name == "Bash" and isinstance(command, str) and command.strip():
        return {"tool_name": "Bash", "rule_content": command}
    return None


def covers(record: SessionRecord, tool_name: str, tool_input: dict) -> bool:
    """Whether the chat already allowed exactly this command."""
    rule = exact_rule(tool_name, tool_input)
    return rule is not None and rule in record.always_allow


@dataclass
class Remembered:
    """What "Always allow" keeps for a chat, taken from the suggestions Claude Code sent with a request."""

    rules: list[dict] = field(default_factory=list)
    mode: str | None = None  # e.g. acceptEdits, which Claude Code suggests for file edits

    def __bool__(self) -> bool:
        return bool(self.rules or self.mode)

    def updates(self) -> list[PermissionUpdate]:
        """The same, as permission updates for the running process only (never written to settings files)."""
        from claude_agent_sdk.types import PermissionRuleValue, PermissionUpdate

        if self.rules:
            values = [PermissionRuleValue(r["tool_name"], r.get("rule_content")) for r in self.rules]
            return [PermissionUpdate(type="addRules", rules=values, behavior="allow", destination="session")]
        if self.mode:
            return [PermissionUpdate(type="setMode", mode=self.mode, destination="session")]  # type: ignore[arg-type]
        return []

    def apply(self, record: SessionRecord) -> None:
        for rule in self.rules:
            if rule not in record.always_allow:
                record.always_allow.append(rule)
        if self.mode:
            record.permission_mode = self.mode


def remembered(suggestions: list[PermissionUpdate], exact: dict | None = None) -> Remembered:
    """Allow rules if Claude Code suggests any (plus `exact`, the rule for this very command), else a
    mode it suggests; extra directories are never taken."""
    rules = [
        {"tool_name": rule.tool_name, "rule_content": rule.rule_content or None}
        for update in suggestions
        if update.type == "addRules" and update.behavior == "allow"
        for rule in update.rules or []
    ]
    if rules:
        if exact is not None and exact not in rules:
            rules.append(exact)
        return Remembered(rules=rules)
    mode = next((u.mode for u in suggestions if u.type == "setMode" and u.mode in PERMISSION_MODES), None)
    return Remembered(mode=mode)
