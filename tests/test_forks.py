"""Calls in forked children: results in order, failures with the child's traceback, and no
child left behind."""

import functools
import os
import signal

import pytest

from ce_vs_mse.forks import WorkerFailed, map_in_forks


def _pid_and_square(x):
    return os.getpid(), x * x


def test_results_keep_their_order_and_every_call_has_its_own_child():
    results = map_in_forks(_pid_and_square, list(range(7)), workers=3)
    assert [square for _, square in results] == [x * x for x in range(7)]
    pids = {pid for pid, _ in results}
    assert len(pids) == 7 and os.getpid() not in pids


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def test_a_failure_raises_with_the_childs_traceback():
    with pytest.raises(WorkerFailed, match="(?s)_fail_on_three\\(3\\).*ValueError: three is not"):
        map_in_forks(_fail_on_three, [1, 2, 3, 4], workers=2)


def _fail_with(bound, x):
    raise ValueError(f"{x} with {len(bound)} bound values")


def test_a_failure_names_a_partials_function_not_its_bound_arguments():
    """The report maps a partial over sections; its message must not print every run."""
    fn = functools.partial(_fail_with, list(range(100_000)))
    with pytest.raises(WorkerFailed) as raised:
        map_in_forks(fn, ["depth"], workers=1)
    first = str(raised.value).splitlines()[0]
    assert first == "_fail_with('depth') failed in a worker process:"
    assert "99999" not in str(raised.value)


def _die(x):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_that_dies_without_answering_is_a_failure_not_a_hang():
    with pytest.raises(WorkerFailed, match="killed by SIGKILL|died"):
        map_in_forks(_die, [1], workers=1)


def test_a_fork_stopped_as_it_starts_dies_and_never_runs_its_parents_code():
    """With SIGTERM as Ctrl-C in the parent (a CLI's main), a child stopped before its call
    took that on used to raise in the parent's copied stack and run on as the parent (in CI:
    a second pytest session finishing inside the first)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import os, signal
        from ce_vs_mse import forks
        forks.sigterm_as_interrupt()
        pid = os.fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGTERM)  # before any call took it on
            signal.pause()
            print("the child ran on")
        else:
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "child exit 143" and "ran on" not in out.stdout, out.stderr
