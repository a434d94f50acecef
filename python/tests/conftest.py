"""Shared fixtures: the repository, the carlo CLI, CSV helpers."""
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Columns that may differ between runs of one job: timings and where it ran. Every
# other column is compared.
EXECUTION_COLUMNS = {"wall_seconds", "samples_per_second", "backend", "workers"}

sys.path.insert(0, str(Path(__file__).resolve().parent))


def result_columns(text):
    """A CSV summary without its execution columns: two runs of one job compare equal
    exactly when their results have the same bits."""
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0]) if name not in EXECUTION_COLUMNS]
    return [[row[i] for i in keep] for row in rows]


def bits(summary, besides=()):
    """Every column of every row but the execution columns and those named in
    `besides` (which a comparison of two jobs that differ by design leaves out), with
    floats as their exact reprs: two runs of one job compare equal exactly when every
    value they decide has the same bits."""
    skip = EXECUTION_COLUMNS | set(besides)
    keep = [i for i, c in enumerate(summary.columns) if c not in skip]
    return [[repr(row[i]) for i in keep] for row in summary]


def checkpoint_blocks(path):
    """The blocks a checkpoint holds finished (decided, and done beyond the last
    decision point), 0 before it is first saved."""
    import json

    try:
        state = json.loads(Path(path).read_text())["content"]["state"]
    except (OSError, ValueError, KeyError):
        return 0
    ranges = [(r["start"], r["end"]) if isinstance(r, dict) else tuple(r)
              for r in state.get("done", [])]
    return state["decided"] + sum(end - start for start, end in ranges)


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
