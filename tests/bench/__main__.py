"""`python -m tests.bench [--write docs/PERFORMANCE.md]`: run every measurement, print one table.

Exit status 1 when a target is missed, so a regression is visible in a script too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench import scenarios
from tests.bench.scenarios import percentile
from tests.standins.cli_env import CLI_PATH

COMMAND = ".venv/bin/python -m tests.bench --write docs/PERFORMANCE.md   # `make bench` prints the same table"
FOLLOW_UP_TARGET = 0.4  # a follow-up in an active chat, relative to the raw CLI round trip
STARTUP_FILES = 10_000
THINK = 1.0  # seconds a user takes between an answer and their next message


@dataclass(frozen=True)
class Sizes:
    raw_runs: int = 10
    new_chats: int = 10
    follow_ups: int = 20
    load_chats: int = 50
    load_messages: int = 5
    concurrent: int = 8
    burst: int = 100


QUICK = Sizes(raw_runs=4, new_chats=3, follow_ups=6, load_chats=10, load_messages=3, burst=10)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def spread(values: list[float]) -> str:
    if not values:
        return "no replies"
    return f"{seconds(statistics.median(values))} / {seconds(percentile(values, 95))}"


def megabytes(kib: int) -> str:
    return f"{kib / 1024:.0f} MB"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    version = (CLI_PATH.parent / "claude.version").read_text().strip()
    return (f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GB RAM; Linux {platform.release()}; "
            f"Python {platform.python_version()}; Claude Code CLI {version} (bundled)")


async def measure(sizes: Sizes, root: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The table's rows (measurement, result, target) and the targets missed."""
    missed: list[str] = []
    raw = await scenarios.raw_cli_round_trips(root, sizes.raw_runs)
    raw_median = statistics.median(raw)
    latency = await scenarios.latency(root, sizes.new_chats, sizes.follow_ups, THINK)
    load = await scenarios.load(root, sizes.load_chats, sizes.load_messages, sizes.concurrent)
    empty = await scenarios.startup(root, 0)
    full = await scenarios.startup(root, STARTUP_FILES)
    imports = scenarios.import_seconds()
    burst = await scenarios.burst_writes(root, sizes.burst)

    follow_ratio = statistics.median(latency.follow_up) / raw_median if latency.follow_up else float("inf")
    if follow_ratio > FOLLOW_UP_TARGET:
        missed.append(f"follow-up is {follow_ratio:.2f}x the raw CLI round trip (target {FOLLOW_UP_TARGET}x)")
    if load.peaks.live_cli > load.cap:
        missed.append(f"{load.peaks.live_cli} CLI processes ran at once (cap {load.cap})")
    lost = latency.lost + load.lost + burst.lost
    if lost:
        missed.append(f"{lost} replies lost")
    if full.cli_at_start:
        missed.append(f"{full.cli_at_start} CLI processes started while restoring sessions")

    load_label = f"{sizes.load_chats} chats × {sizes.load_messages} messages, MAX_CONCURRENT_QUERIES={sizes.concurrent}"
    rows = [
        ("Raw CLI round trip: `claude -p … --resume`, one new process per turn (median / p95)", spread(raw), "the anchor"),
        (f"First reply in a new chat (a CLI starts), median / p95 of {len(latency.first)}", spread(latency.first), ""),
        (f"Follow-up in an active chat (warm CLI), median / p95 of {len(latency.follow_up)}",
         f"{spread(latency.follow_up)} = **{follow_ratio:.2f}×** raw", f"≤ {FOLLOW_UP_TARGET}× raw"),
        (f"{load_label}: total", seconds(load.total_seconds), ""),
        (f"{load_label}: per message p50 / p95", spread(load.times), ""),
        (f"{load_label}: Telegram calls per reply", f"{load.calls_per_reply:.1f}", ""),
        (f"{load_label}: lost replies", str(load.lost), "0"),
        ("Peak memory (RSS) of the bot process", megabytes(load.peaks.bot_kb), ""),
        ("Peak memory (RSS) of its CLI children, together", megabytes(load.peaks.children_kb), ""),
        ("Most live CLI processes seen (sampled every 50 ms)", f"{load.peaks.live_cli} (MAX_LIVE_CLIENTS={load.cap})",
         "≤ MAX_LIVE_CLIENTS"),
        ("Start-up, process spawned → polling: empty SESSION_DIR", seconds(empty.polling), ""),
        (f"Start-up, process spawned → polling: {STARTUP_FILES:,} session files", seconds(full.polling),
         f"{seconds(full.polling - empty.polling)} more than empty"),
        (f"… all {STARTUP_FILES:,} files parsed (in the background)", seconds(full.restored), ""),
        ("… a message sent the moment polling starts: its reply", seconds(full.first_reply or float("nan")), ""),
        ("… CLI processes started by restoring", str(full.cli_at_start), "0"),
        ("Importing the bot's modules alone (inside every start-up above)", seconds(imports), ""),
        (f"JSON writes per 100 updates: {burst.updates} messages at once to one chat",
         f"{burst.writes * 100 / max(1, burst.updates):.0f} ({burst.writes} writes while all {burst.updates} "
         f"were answered in {seconds(burst.seconds)})", "≤ 1 per second per chat"),
        ("Lost replies in all of the above", str(lost), "0"),
    ]
    return rows, missed


def render(rows: list[tuple[str, str, str]], missed: list[str], took: float) -> str:
    lines = ["| measurement | result | target |", "|---|---|---|"]
    lines += [f"| {name} | {result} | {target} |" for name, result, target in rows]
    lines.append("")
    lines.append(f"Machine: {machine()}. The whole run took {took:.0f} s.")
    lines.append("Targets: " + ("all met." if not missed else "MISSED: " + "; ".join(missed) + "."))
    return "\n".join(lines)


DOC_HEAD = """# Performance

Produced by the benchmark itself, on the machine named under the table:

```sh
{command}
```

It starts the real bot process (`python -m bot`) against the local Bot API stand-in, with the
real bundled Claude Code CLI talking to the local Messages API stand-in, which answers at once:
every figure is the bot's own overhead plus the CLI's, never a model's thinking time.

"""

DOC_NOTES = """

## How each figure is measured

- **Times** run from the moment the user's update enters the Bot API stand-in to the moment the
  final text of the reply arrives there (a `sendMessage` or the `editMessageText` that turns the
  progress message into the answer), by the stand-in's clock.
- **Raw CLI round trip**: `claude -p TEXT --resume ID --output-format json` with the bundled
  binary, one process per turn, exactly what `query(resume=…)` costs per turn. It is the anchor
  the follow-up is compared with.
- **First reply in a new chat**: each chat's first message, so a CLI process is started for it.
- **Follow-up in an active chat**: later messages in one chat whose CLI is still connected; the
  user sends the next message {think:g} s after an answer arrives (Telegram allows a bot about one
  message per second in a chat, and a person reads the answer first).
- **Load**: every user sends their next message as soon as the previous answer is there. Telegram
  calls are every request but `getUpdates`: replies, progress messages and their edits, "typing",
  queue and slot notices. Lost means no final reply within 300 s.
- **Memory and live CLIs**: `/proc/PID/statm` of the bot and of all its descendants, sampled every
  50 ms during the load; CLI processes are those whose executable is the bundled `claude`.
- **Start-up**: from spawning `python -m bot` to its first `getUpdates`; the session files are
  valid records. Importing aiogram and claude-agent-sdk is most of it and does not depend on the
  number of files; the files are only listed before polling and parsed after it.
- **JSON writes**: the chat's session file is replaced atomically on every write, so a poller
  counts changes of its inode. Writes are debounced to one per second per chat; a burst's turns
  end further apart than that because Telegram paces what the bot may send to one chat.
"""


def document(table: str) -> str:
    return DOC_HEAD.format(command=COMMAND) + table + DOC_NOTES.format(think=THINK)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, metavar="FILE", help="also write the results to FILE (Markdown)")
    parser.add_argument("--quick", action="store_true", help="smaller runs, for trying the benchmark out")
    options = parser.parse_args()
    sizes = QUICK if options.quick else Sizes()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        rows, missed = asyncio.run(measure(sizes, Path(tmp)))
    table = render(rows, missed, time.monotonic() - started)
    print(table)
    if options.write:
        options.write.parent.mkdir(parents=True, exist_ok=True)
        options.write.write_text(document(table))
        print(f"\nwritten to {options.write}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
