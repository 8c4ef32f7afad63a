import subprocess
import sys
from pathlib import Path

import pytest

from bot.sessions.lock import AlreadyRunning, DirectoryLock


def test_second_holder_is_refused_and_lock_survives_kill(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from bot.sessions.lock import DirectoryLock; from pathlib import Path;"
         "DirectoryLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning, match=f"pid {holder.pid}"):
            DirectoryLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = DirectoryLock(tmp_path)
    lock.acquire()  # the OS released the dead holder's lock
    lock.release()
