import pytest
from claude_agent_sdk.types import PermissionRuleValue, PermissionUpdate

from bot.telegram.views.approval_texts import plan_body, short_diff, tool_body
from bot.claude.permissions import SettingRefused, allowed_tools, check_mode, check_model, remembered, rule_string
from bot.sessions.records import SessionRecord

BASH_SUGGESTIONS = [
    PermissionUpdate(type="addRules", rules=[PermissionRuleValue("Bash", "npm test")], behavior="allow", destination="localSettings"),
    PermissionUpdate(type="addDirectories", directories=["/elsewhere"], destination="session"),
    PermissionUpdate(type="setMode", mode="acceptEdits", destination="session"),
]


def test_rules_are_spelled_as_claude_code_parses_them() -> None:
    assert rule_string({"tool_name": "Bash", "rule_content": "npm test"}) == "Bash(npm test)"
    assert rule_string({"tool_name": "Bash", "rule_content": r"echo (a) \ b"}) == r"Bash(echo \(a\) \\ b)"
    assert rule_string({"tool_name": "mcp__x__y", "rule_content": None}) == "mcp__x__y"
    record = SessionRecord(name="1", working_dir="/", always_allow=[{"tool_name": "Read", "rule_content": None}])
    assert allowed_tools(record) == ["Read"]


def test_always_allow_keeps_the_suggested_rule_for_this_session_only() -> None:
    kept = remembered(BASH_SUGGESTIONS)
    assert kept.rules == [{"tool_name": "Bash", "rule_content": "npm test"}] and kept.mode is None  # no extra dirs, no mode
    [update] = kept.updates()
    assert update.to_dict() == {
        "type": "addRules", "destination": "session", "behavior": "allow", "rules": [{"toolName": "Bash", "ruleContent": "npm test"}]
    }
    record = SessionRecord(name="1", working_dir="/")
    kept.apply(record)
    kept.apply(record)
    assert record.always_allow == [{"tool_name": "Bash", "rule_content": "npm test"}]


def test_an_edit_suggestion_becomes_the_chats_mode() -> None:
    kept = remembered([PermissionUpdate(type="setMode", mode="acceptEdits", destination="session")])
    assert kept.mode == "acceptEdits" and kept.updates()[0].to_dict()["mode"] == "acceptEdits"
    record = SessionRecord(name="1", working_dir="/")
    kept.apply(record)
    assert record.permission_mode == "acceptEdits"
    assert not remembered([])  # nothing to remember: no "Always" button


def test_modes_and_models_are_checked() -> None:
    assert check_mode("ACCEPTEDITS") == "acceptEdits"
    with pytest.raises(SettingRefused, match="choose one of default, acceptEdits, plan, bypassPermissions"):
        check_mode("yolo")
    assert check_model(" claude-opus-4-1 ") == "claude-opus-4-1"
    assert check_model("opus[1m]") == "opus[1m]"
    for bad in ["two words", "", "-rf", "x" * 200, "a;b"]:
        with pytest.raises(SettingRefused):
            check_model(bad)


def test_requests_show_the_key_input_escaped() -> None:
    assert short_diff("a\nb\nc\n", "a\nB\nc\n") == "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c"
    edit = tool_body("Edit", {"file_path": "x<1>.py", "old_string": "if a < b:", "new_string": "if a <= b:"}, None)
    assert "<code>x&lt;1&gt;.py</code>" in edit and "-if a &lt; b:" in edit and "+if a &lt;= b:" in edit
    bash = tool_body("Bash", {"command": "rm -rf build && make", "description": "Rebuild"}, None)
    assert "rm -rf build &amp;&amp; make" in bash and "Rebuild" in bash and "<b>Bash</b>" in bash
    long_write = tool_body("Write", {"file_path": "big.txt", "content": "x" * 10000}, "Claude wants to write big.txt")
    assert len(long_write) < 2000 and long_write.startswith("🔐 Claude wants to write big.txt")
    assert "not attached" in plan_body("  ")


def test_rules_that_a_comma_would_split_stay_with_the_bot() -> None:
    from bot.claude.permissions import allowed_tools, covers
    from bot.sessions.records import SessionRecord

    record = SessionRecord(name="1", working_dir="/w", always_allow=[
        {"tool_name": "Bash", "rule_content": "npm test *"},
        {"tool_name": "Bash", "rule_content": "echo a,b > x"},
    ])
    assert allowed_tools(record) == ["Bash(npm test *)"]
    assert covers(record, "Bash", {"command": "echo a,b > x"}) and not covers(record, "Bash", {"command": "echo a,b"})
