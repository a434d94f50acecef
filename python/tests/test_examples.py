"""The examples in examples/python/ run, so none can rot."""
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = REPO / "examples" / "python"


def _run(*args):
    out = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_pi_and_option():
    assert "pi " in _run(EXAMPLES / "pi.py", "200000")
    assert "Black-Scholes 10.4506" in _run(EXAMPLES / "option.py", "200000")


def test_pandas_snippet():
    pytest.importorskip("pandas")
    out = _run(EXAMPLES / "pandas_summary.py", "100000")
    assert "error_in_std_errors" in out and "120.0" in out


def test_the_python_pi_config_gives_the_same_bits_on_any_workers(run_cli):
    # 0.3.0: a Python pi draws each block from the block's lane-0 stream, the built-in
    # pi from its 8 lanes, so they no longer share bits (0.2.0's did); a Python pi's
    # bits do not depend on the workers or the chunk size, and the two agree.
    args = ["--samples", "300000", "--out", "-", "--format", "csv", "--quiet"]
    python = run_cli("run", EXAMPLES / "pi.toml", "--workers", "2", *args, cwd=REPO).stdout
    again = run_cli("run", EXAMPLES / "pi.toml", "--workers", "1", "--chunk-size", "4096",
                    *args, cwd=REPO).stdout
    builtin = run_cli("run", REPO / "configs" / "pi.toml", *args, cwd=REPO).stdout
    header = python.splitlines()[0].split(",")
    cells = lambda text: text.splitlines()[1].split(",")[3:10]  # noqa: E731
    assert cells(again) == cells(python)
    value = lambda text, c: float(text.splitlines()[1].split(",")[header.index(c)])  # noqa: E731
    error = (value(python, "std_error") ** 2 + value(builtin, "std_error") ** 2) ** 0.5
    assert abs(value(python, "estimate") - value(builtin, "estimate")) < 5 * error
