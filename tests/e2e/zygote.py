"""A Python that has imported the bot's heavy libraries once and forks a bot for each start.

`python -m bot` spends about 5 CPU seconds importing aiogram (its pydantic models) and claude-agent-sdk
before it does anything, and the suite starts the bot some hundreds of times on two cores. A fork of a
process that imported them already pays nothing for that, and is otherwise the bot as `python -m bot`
runs it: its own process (pid, signals, exit status), `bot/__main__.py` run as `__main__` with the
test's environment, working directory and log, and none of the bot's own modules imported before it
starts (they read settings at import time; only third-party libraries are preloaded).

Protocol, one Unix-socket connection per bot: the harness sends one JSON line (`args`, `env`, `cwd`,
`log`); the zygote answers `{"pid": N}` and, when that bot exits, `{"exit": status}` (negative: the
signal that ended it, as asyncio reports it). A connection that closes first (its test is gone) takes
its bot with it (SIGKILL), as PR_SET_PDEATHSIG does for an exec'd bot.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
import traceback

from tests.e2e.orphans import die_with_parent

PRELOADED = ("aiogram", "aiogram.types", "aiogram.methods", "aiogram.client.bot", "aiohttp.web", "claude_agent_sdk")


def _run_bot(request: dict) -> int:
    """In the child: become `python -m bot` as the request describes; its exit status."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    sys.argv = ["-m", *request["args"]]  # runpy puts the module's path first, as `python -m` does
    sys.path[0] = request["cwd"]  # what `python -m` puts first
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            status = done.code or 0
        else:
            print(done.code, file=sys.stderr)
            status = 1
    except BaseException:  # noqa: BLE001 — as the interpreter would: the traceback, then status 1
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()  # logging's shutdown and the bot's own, as at interpreter exit
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def _fork(request: dict, keep_out: list[socket.socket]) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        for sock in keep_out:
            sock.close()
        die_with_parent()  # dies with the zygote
        status = _run_bot(request)
    finally:
        os._exit(status)


def _reply(conn: socket.socket, record: dict) -> None:
    try:
        conn.sendall(json.dumps(record).encode() + b"\n")
    except OSError:
        pass  # the harness is gone; the bot was killed or is being reaped


def serve(path: str) -> None:
    for name in PRELOADED:
        __import__(name)
    assert threading.active_count() == 1, "a preloaded library started a thread: forking it is unsafe"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    print("ready", flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, ("accept", None))
    buffers: dict[socket.socket, bytes] = {}
    bots: dict[socket.socket, int] = {}
    while True:
        for key, _ in selector.select():
            kind, data = key.data
            if kind == "accept":
                conn, _ = listener.accept()
                buffers[conn] = b""
                selector.register(conn, selectors.EVENT_READ, ("conn", None))
            elif kind == "conn":
                conn = key.fileobj
                chunk = conn.recv(1 << 20)
                if not chunk:  # the harness closed: its bot goes too
                    selector.unregister(conn)
                    if conn in bots:
                        try:
                            os.kill(bots[conn], signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    buffers.pop(conn, None)
                    conn.close()
                    continue
                buffers[conn] += chunk
                if b"\n" in buffers[conn] and conn not in bots:
                    request = json.loads(buffers[conn].split(b"\n", 1)[0])
                    pid = _fork(request, [listener, *buffers])
                    bots[conn] = pid
                    selector.register(os.pidfd_open(pid), selectors.EVENT_READ, ("exit", (conn, pid)))
                    _reply(conn, {"pid": pid})
            else:
                conn, pid = data
                selector.unregister(key.fileobj)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                bots.pop(conn, None)
                _reply(conn, {"exit": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve(sys.argv[1])
