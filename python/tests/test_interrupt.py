"""Queries release the GIL and stop on Ctrl-C."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

# NOTE: these sizes make each query run for several seconds on a 2-core machine. On a much
# faster machine the GIL test can finish its query too soon to measure, and then it skips.
LONG_QUERY = "select sum(value % 7) as total from range(20000000000)"
GIL_QUERY = "select sum(value % 7) as total from range(1000000000)"

INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import billsheet

    workbook = billsheet.open(sys.argv[1], as_of="2026-06-30")
    print("started", flush=True)
    started = time.monotonic()
    try:
        workbook.sql(sys.argv[2])
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - started:.2f} s", flush=True)
        print("still works:", workbook.sql("select 1 as one").num_rows, flush=True)
    else:
        print("finished", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_interrupts_query(sample_lake):
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(sample_lake), LONG_QUERY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.0)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=30)
        stopped_after = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "interrupted after" in output, errors
    assert "still works: 1" in output, errors
    assert stopped_after < 5.0


def test_query_releases_gil(sample_workbook):
    finished = threading.Event()
    outcome = {}

    def run_query():
        started = time.monotonic()
        outcome["rows"] = sample_workbook.sql(GIL_QUERY).num_rows
        outcome["seconds"] = time.monotonic() - started
        finished.set()

    worker = threading.Thread(target=run_query)
    worker.start()
    longest_gap = 0.0
    last = time.monotonic()
    while not finished.is_set():
        time.sleep(0.01)
        now = time.monotonic()
        longest_gap = max(longest_gap, now - last)
        last = now
    worker.join()
    assert outcome["rows"] == 1
    if outcome["seconds"] < 1.0:
        pytest.skip(
            f"the query took only {outcome['seconds']:.2f} s, too short to measure"
        )
    # A thread that held the GIL for the whole query would stall this loop for its length.
    assert longest_gap < 0.5, (
        f"main thread stalled {longest_gap:.2f} s of {outcome['seconds']:.2f} s"
    )


def test_forked_child_can_query(sample_workbook):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    sample_workbook.sql("select 1 as one")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The alarm ends a child that hangs, so the parent reads no status and fails.
        signal.alarm(30)
        status = 1
        try:
            status = 0 if sample_workbook.sql("select 2 as two").num_rows == 1 else 1
        finally:
            os.write(write_end, bytes([status]))
            os._exit(status)
    os.close(write_end)
    reported = os.read(read_end, 1)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert reported == b"\x00"
    assert os.WEXITSTATUS(status) == 0
