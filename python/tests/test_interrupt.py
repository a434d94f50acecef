"""Ctrl-C stops a run cleanly: a KeyboardInterrupt in the caller, no worker left
behind, and with a checkpoint the next call resumes to the bits of an uninterrupted
run."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import models
from conftest import checkpoint_blocks
from test_failures import _children, _wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SCRIPT = textwrap.dedent("""
    import signal, sys, carlo, models
    # As at a terminal: a shell running this suite in the background may have left
    # SIGINT ignored, which Python (and carlo) would respect.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    backend, checkpoint = sys.argv[1], sys.argv[2] or None
    # With a checkpoint, saved after every chunk (the first save is after 5 s by
    # default). 100 blocks of 4096, a chunk each, 0.1 s a call: 5 s on 2 workers.
    saving = {"checkpoint": checkpoint, "checkpoint_interval": 0} if checkpoint else {}
    s = carlo.run_model(models.slow, "x", backend=backend, workers=2, samples=409_600,
                        chunk_size=2_000, seed=8, args={"seconds": 0.1}, **saving)
    print(repr(s[0].estimate), repr(s[0].std_error), s[0].samples)
""")


def _start(tmp_path, backend, checkpoint=""):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(models.__file__))
    # A session of its own, so that the test can press Ctrl-C for its whole process
    # group, as a terminal does.
    return subprocess.Popen([sys.executable, str(script), backend, str(checkpoint)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _merged(checkpoint):
    """The blocks a checkpoint holds, 0 before it is first saved."""
    return checkpoint_blocks(checkpoint)


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("backend", ["processes", "threads", "sequential"])
def test_ctrl_c_stops_cleanly_and_leaves_no_worker(tmp_path, backend):
    child = _start(tmp_path, backend)
    if backend == "processes":
        workers = _wait_for(lambda: len(_children(child.pid)) == 2 and _children(child.pid))
    else:
        workers = []
    time.sleep(1.0)
    start = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert time.monotonic() - start < 10, "the run did not stop promptly"
    assert child.returncode != 0 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: interrupted after "), err
    assert "of 100 blocks; nothing saved" in last, err
    for pid in workers:
        assert _gone(pid), f"worker {pid} outlived the run"


def test_an_interrupted_run_resumes_from_its_checkpoint_with_the_same_bits(tmp_path):
    reference = _start(tmp_path, "sequential")
    expected, _ = reference.communicate(timeout=120)
    checkpoint = tmp_path / "run.checkpoint.json"
    child = _start(tmp_path, "processes", checkpoint)
    _wait_for(lambda: _merged(checkpoint) >= 2 and len(_children(child.pid)) == 2)
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert f"progress saved to {checkpoint}" in err, err
    resumed = _start(tmp_path, "threads", checkpoint)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert out == expected


STUCK = textwrap.dedent("""
    import signal, sys, time, carlo

    def stuck(rng, n):
        x = rng.random(n)
        if n == 999:  # the short last block never ends
            if sys.argv[2] == "python":
                while True:
                    pass
            time.sleep(3600)  # outside Python code
        return x

    signal.signal(signal.SIGINT, signal.default_int_handler)
    carlo.run_model(stuck, "x", backend=sys.argv[1], workers=2, samples=5 * 4096 + 999,
                    chunk_size=1_000, seed=1, probe=False)
""")


@pytest.mark.parametrize("backend, where", [("threads", "python"), ("sequential", "python"),
                                            ("threads", "c")])
def test_a_stuck_chunk_in_this_process_stops_at_the_second_ctrl_c(tmp_path, backend, where):
    script = tmp_path / "stuck.py"
    script.write_text(STUCK)
    child = subprocess.Popen([sys.executable, str(script), backend, where],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    time.sleep(4.0)  # the last chunk is stuck by now
    os.killpg(child.pid, signal.SIGINT)
    time.sleep(3.0)
    start = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert time.monotonic() - start < 10, "the second Ctrl-C did not stop the run at once"
    if where == "python":
        # The stuck Python code got a KeyboardInterrupt: a clean stop.
        assert err.strip().splitlines()[-1].startswith("KeyboardInterrupt: interrupted again"), err
        if backend == "threads":
            assert "press Ctrl-C again to exit now" in err, err
    else:
        assert child.returncode == 130, err
        assert "interrupted again, and a chunk does not stop" in err, err
