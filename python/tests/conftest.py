"""Shared fixtures: the repository, the carlo CLI, CSV helpers."""
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Columns that may differ between runs of one job: timings and where it ran.
EXECUTION_COLUMNS = {"wall_seconds", "samples_per_second", "backend", "workers"}
# The columns that hold a result's bits.
RESULT_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "samples", "stop_reason")

sys.path.insert(0, str(Path(__file__).resolve().parent))


def result_columns(text):
    """A CSV summary without its execution columns: two runs of one job compare equal
    exactly when their results have the same bits."""
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0]) if name not in EXECUTION_COLUMNS]
    return [[row[i] for i in keep] for row in rows]


def bits(summary):
    """The result columns of every row, as the CSV writes them (shortest round trip)."""
    return [[getattr(row, c) if isinstance(getattr(row, c), str) else repr(getattr(row, c))
             for c in RESULT_COLUMNS] for row in summary]


@pytest.fixture(scope="session")
def carlo_cli():
    """The carlo binary: $CARLO_BIN, else target/release/carlo of this repository."""
    path = Path(os.environ.get("CARLO_BIN", REPO / "target" / "release" / "carlo"))
    if not path.exists():
        pytest.skip(f"no carlo binary at {path}: cargo build --release, or set CARLO_BIN")
    return path


@pytest.fixture(scope="session")
def run_cli(carlo_cli):
    """`carlo ARGS...` with this interpreter as the Python of python models; returns
    the completed process (stdout and stderr as text), failing on a non-zero exit
    unless `check=False`."""

    def run(*args, check=True, cwd=None, env=None):
        environment = {**os.environ, "CARLO_PYTHON": sys.executable, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parent)] + [p for p in sys.path if p]
        )
        out = subprocess.run([str(carlo_cli), *map(str, args)], capture_output=True,
                             text=True, cwd=cwd, env=environment, timeout=300)
        if check and out.returncode != 0:
            raise AssertionError(f"carlo {' '.join(map(str, args))}: {out.stderr}")
        return out

    return run
