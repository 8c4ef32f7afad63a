"""The default cap on live CLIs, from the memory available."""

from pathlib import Path

from bot.util.memory import CLI_BYTES, MAX_LIVE, MIN_LIVE, available_memory, live_clients_for


def test_live_clients_follow_available_memory_within_bounds(tmp_path: Path) -> None:
    assert live_clients_for(40 * CLI_BYTES + 1) == 30  # three quarters of it
    assert live_clients_for(CLI_BYTES) == MIN_LIVE and live_clients_for(None) == MIN_LIVE
    assert live_clients_for(1000 * CLI_BYTES) == MAX_LIVE
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    2048000 kB\n")
    assert available_memory(meminfo) == 2048000 * 1024
