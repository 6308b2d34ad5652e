"""A process that imports what the commands import (torch, Hydra, matplotlib, ce_vs_mse) once,
then starts each command the tests ask for in a fork of itself (tests/conftest.py: ``cli``).

Each command is a process of its own, run as its console script runs it: its folder, its
environment, its stdout and stderr (files), ``sys.exit(<entry point>())``, an exit code and
a traceback only if one escapes, as in a fresh interpreter. What the commands share is the
import (6-8 s a start on two busy cores), done before any command runs, so every fork starts
from the state a fresh ``import`` leaves; the tests that are about a fresh start (the console
script itself, the module list of a command) start one.

Protocol: one JSON request a line on stdin, one JSON answer a line on the protocol pipe:
{"start": {entry, argv0, args, cwd, env, stdout, stderr}} -> {"pid"}; {"poll": pid} ->
{"status": exit code or null}; {"wait": pid, "timeout": s} -> {"status", "timed_out"} (a
command past its timeout is killed, its process group with it).
"""

import gc
import importlib
import json
import os
import signal
import sys
import time

if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)  # a console script does not have tests/ on its path

import ce_vs_mse.report  # noqa: E402, F401
import ce_vs_mse.train.cli  # noqa: E402, F401  (the imports every command pays for)

answers = os.fdopen(os.dup(1), "w", buffering=1)
requests = os.fdopen(os.dup(0), "r")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)  # nothing of the server's own reaches the pipe pytest reads
gc.freeze()  # the forks' collector leaves the imported objects (and their pages) alone


def child(request: dict) -> None:
    """In the fork: become the command, then exit as its console script would."""
    os.setpgid(0, 0)  # its own process group, so a timeout ends it with its workers
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(os.devnull)  # noqa: SIM115 (the command's stdin, for its lifetime)
    sys.argv = [request["argv0"], *request["args"]]
    module, _, function = request["entry"].partition(":")
    sys.exit(getattr(importlib.import_module(module), function)())


def wait(pid: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"status": os.waitstatus_to_exitcode(status), "timed_out": timed_out}
        if time.monotonic() > deadline and not timed_out:
            timed_out = True
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.02)


for line in requests:
    request = json.loads(line)
    if "start" in request:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child(request["start"])  # never returns: SystemExit (or any exception) ends it
        answer = {"pid": pid}
    elif "poll" in request:
        done, status = os.waitpid(request["poll"], os.WNOHANG)
        answer = {"status": os.waitstatus_to_exitcode(status) if done else None}
    else:
        answer = wait(request["wait"], request["timeout"])
    answers.write(json.dumps(answer) + "\n")
