"""The questions `init` and `login` ask in a terminal (a class, so tests can answer them)."""

from __future__ import annotations

import getpass
import sys


class Terminal:
    def say(self, text: str) -> None:
        print(text, flush=True)

    def ask(self, question: str, default: str = "") -> str:
        shown = f" [{default}]" if default else ""
        try:
            answer = input(f"{question}{shown}: ").strip()
        except EOFError:  # no terminal: the default, as --yes would take it
            answer = ""
        return answer or default

    def secret(self, question: str) -> str:
        """A value not echoed (a token, a key); pasting works."""
        try:
            return getpass.getpass(f"{question}: ").strip() if sys.stdin.isatty() else input(f"{question}: ").strip()
        except EOFError:
            return ""

    def confirm(self, question: str, default: bool = True) -> bool:
        answer = self.ask(f"{question} ({'Y/n' if default else 'y/N'})").lower()
        return default if not answer else answer.startswith("y")
