"""CLAUDE.md's layout names every package, module and test folder as they are (agents read it first)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unnamed(text: str) -> list[str]:
    missing = []
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py"), *ROOT.glob("tests/standins/**/*.py")]):
        if path.name == "__init__.py":
            folder = path.parent.relative_to(ROOT)
            if folder.name + "/" not in text:
                missing.append(f"{folder}/")
        elif path.name not in text:
            missing.append(str(path.relative_to(ROOT)))
    for folder in sorted(p for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"):
        if folder.name + "/" not in text:
            missing.append(f"tests/{folder.name}/")
    return missing


def test_every_module_and_folder_is_named() -> None:
    assert unnamed((ROOT / "CLAUDE.md").read_text()) == []


def test_a_module_left_out_is_caught() -> None:
    text = (ROOT / "CLAUDE.md").read_text().replace("intake.py", "").replace("intake", "")
    assert "bot/turns/intake.py" in unnamed(text)
